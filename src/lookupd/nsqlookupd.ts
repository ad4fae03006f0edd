/** nsqlookupd: the registration database with its TCP (V1) and HTTP doors. */
import { hostname } from "node:os";
import { splitHostPort } from "../common/host-port.ts";
import { Logger } from "../common/logger.ts";
import { VERSION } from "../common/version.ts";
import { lastResortErrorHandler } from "../http/last-resort.ts";
import { createLookupdHttp, type LookupdHttpApp } from "./http.ts";
import type { LookupdOptions } from "./options.ts";
import type { LookupContext, LookupdIdentity } from "./protocol-v1.ts";
import { RegistrationDB } from "./registration-db.ts";
import { LookupTcpServer } from "./tcp-server.ts";

export class NSQLookupd implements LookupContext {
  readonly db = new RegistrationDB();
  readonly hostname = hostname();
  private readonly tcp: LookupTcpServer;
  private http: LookupdHttpApp | null = null;

  constructor(
    readonly options: LookupdOptions,
    readonly logger: Logger = new Logger({ level: options.logLevel, prefix: options.logPrefix }),
  ) {
    this.tcp = new LookupTcpServer(this);
  }

  /** Listens on both addresses; throws when either cannot be bound. */
  start(): void {
    const tcp = splitHostPort(this.options.tcpAddress, "0.0.0.0");
    this.tcp.listen(tcp.hostname, tcp.port);
    const http = splitHostPort(this.options.httpAddress, "0.0.0.0");
    const app = createLookupdHttp({
      db: this.db,
      logger: this.logger,
      version: VERSION,
      inactiveProducerTimeout: this.options.inactiveProducerTimeout,
      tombstoneLifetime: this.options.tombstoneLifetime,
    });
    try {
      app.listen({ hostname: http.hostname, port: http.port, error: lastResortErrorHandler(this.logger) });
    } catch (err) {
      this.tcp.close();
      throw new Error(`listen (${this.options.httpAddress}) failed - ${(err as Error).message}`);
    }
    this.http = app;
    this.logger.info(`HTTP: listening on ${app.server?.hostname}:${app.server?.port}`);
  }

  get tcpPort(): number {
    return this.tcp.port;
  }

  get httpPort(): number {
    return this.http?.server?.port ?? 0;
  }

  identity(): LookupdIdentity {
    return {
      broadcastAddress: this.options.broadcastAddress,
      hostname: this.hostname,
      httpPort: this.httpPort,
      tcpPort: this.tcpPort,
      version: VERSION,
    };
  }

  stop(): void {
    this.tcp.close();
    void this.http?.stop(true);
    this.http = null;
  }
}
