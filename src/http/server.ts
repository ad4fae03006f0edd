import type { NSQD } from "../core/nsqd.ts";
import type { TcpServer } from "../tcp/server.ts";
import { createHttpApp } from "./app.ts";
import { RateTracker } from "./rates.ts";

export interface HttpServerOptions {
  /** Called after PUT /config/nsqlookupd_tcp_addresses stored a new list. */
  onLookupdAddressesChanged?: (addresses: readonly string[]) => void;
}

/** nsqd's HTTP door: the Elysia app on Bun.serve, and the rate sampler behind /stats and /metrics. */
export class HttpServer {
  private readonly app: ReturnType<typeof createHttpApp>;
  private readonly rates: RateTracker;
  /** Called after PUT /config/nsqlookupd_tcp_addresses stored a new list (the program wires its lookup peers). */
  onLookupdAddressesChanged: ((addresses: readonly string[]) => void) | null;

  constructor(
    private readonly nsqd: NSQD,
    tcp: TcpServer,
    options: HttpServerOptions = {},
  ) {
    this.onLookupdAddressesChanged = options.onLookupdAddressesChanged ?? null;
    this.rates = new RateTracker(nsqd);
    this.app = createHttpApp({
      nsqd,
      tcp,
      rates: this.rates,
      httpPort: () => this.port,
      onLookupdAddressesChanged: (addresses) => this.onLookupdAddressesChanged?.(addresses),
    });
  }

  get port(): number {
    return this.app.server?.port ?? 0;
  }

  listen(hostname: string, port: number): void {
    try {
      // bodies are limited by the routes themselves, with nsqd's error answers
      this.app.listen({ hostname, port, maxRequestBodySize: Number.MAX_SAFE_INTEGER });
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new Error(`listen (${hostname}:${port}) failed - ${(err as Error).message}${code ? ` (${code})` : ""}`);
    }
    this.rates.start();
    this.nsqd.logger.info(`HTTP: listening on ${hostname}:${this.port}`);
  }

  close(): void {
    this.rates.stop();
    this.app.server?.stop(true);
  }
}
