import type { Server, TLSOptions } from "bun";
import type { NSQD } from "../core/nsqd.ts";
import { createHttpApp } from "./app.ts";
import type { TcpDoor } from "./context.ts";
import { lastResortErrorHandler } from "./last-resort.ts";
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
  /** --https-address: the same app over TLS. */
  private https: Server<undefined> | null = null;
  /** --tls-required=true: the plain listener only says so. */
  private refusing: Server<undefined> | null = null;
  private readonly lastResort: (error: Error) => Response;

  constructor(
    private readonly nsqd: NSQD,
    tcp: TcpDoor,
    options: HttpServerOptions = {},
  ) {
    this.onLookupdAddressesChanged = options.onLookupdAddressesChanged ?? null;
    this.rates = new RateTracker(nsqd);
    this.lastResort = lastResortErrorHandler(nsqd.logger);
    this.app = createHttpApp({
      nsqd,
      tcp,
      rates: this.rates,
      httpPort: () => this.port,
      onLookupdAddressesChanged: (addresses) => this.onLookupdAddressesChanged?.(addresses),
    });
  }

  get port(): number {
    return this.refusing?.port ?? this.app.server?.port ?? 0;
  }

  get httpsPort(): number {
    return this.https?.port ?? 0;
  }

  listen(hostname: string, port: number): void {
    bind(hostname, port, () => {
      if (this.nsqd.options.tlsRequired !== "true") {
        // bodies are limited by the routes themselves, with nsqd's error answers
        this.app.listen({ hostname, port, maxRequestBodySize: Number.MAX_SAFE_INTEGER, error: this.lastResort });
        return;
      }
      // as nsqd: with TLS required for everything, plain HTTP only points to HTTPS
      this.refusing = Bun.serve({ hostname, port, fetch: () => tlsRequired(this.httpsPort), error: this.lastResort });
    });
    this.rates.start();
    this.nsqd.logger.info(`HTTP: listening on ${hostname}:${this.port}`);
  }

  /** Serves the same API over TLS (--https-address), with the TLS options the TCP upgrade uses too. */
  listenHttps(hostname: string, port: number, tls: TLSOptions): void {
    bind(hostname, port, () => {
      this.https = Bun.serve({
        hostname,
        port,
        tls,
        maxRequestBodySize: Number.MAX_SAFE_INTEGER,
        fetch: (request) => this.app.fetch(request),
        error: this.lastResort,
      });
    });
    this.nsqd.logger.info(`HTTPS: listening on ${hostname}:${this.httpsPort}`);
  }

  /**
   * Adds a GET route for the program's own processes (a worker's siblings ask
   * theirs), left out of the OpenAPI document; before listen().
   */
  addInternalRoute(path: string, answer: (query: URLSearchParams) => Response): void {
    this.app.get(path, ({ request }) => answer(new URL(request.url).searchParams), { detail: { hide: true } });
  }

  /** Answers one request as this nsqd's API does (a worker's shared address hands it what it does not aggregate). */
  fetch(request: Request): Response | Promise<Response> {
    return this.app.fetch(request);
  }

  close(): void {
    this.rates.stop();
    this.app.server?.stop(true);
    this.refusing?.stop(true);
    this.https?.stop(true);
  }
}

function bind(hostname: string, port: number, listen: () => void): void {
  try {
    listen();
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new Error(`listen (${hostname}:${port}) failed - ${(err as Error).message}${code ? ` (${code})` : ""}`);
  }
}

function tlsRequired(httpsPort: number): Response {
  return new Response(`{"message": "TLS_REQUIRED", "https_port": ${httpsPort}}`, {
    status: 403,
    headers: { "X-NSQ-Content-Type": "nsq; version=1.0", "Content-Type": "application/json; charset=utf-8" },
  });
}
