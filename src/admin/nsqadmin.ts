/** nsqadmin: the cluster view and its HTTP server. */
import { lastResortErrorHandler } from "../http/last-resort.ts";
import { splitHostPort } from "../common/host-port.ts";
import { Logger } from "../common/logger.ts";
import { ClusterActions } from "./actions.ts";
import { createAdminApp } from "./app.ts";
import { ClusterInfo } from "./cluster.ts";
import type { AdminContext } from "./context.ts";
import { Notifier } from "./notify.ts";
import { checkUpstreams, type AdminOptions } from "./options.ts";
import { loadHttpClientTls } from "./http-client-tls.ts";
import { Upstream } from "./upstream.ts";

export class NSQAdmin {
  private current: AdminOptions;
  readonly context: AdminContext;
  private app: ReturnType<typeof createAdminApp> | null = null;

  constructor(
    options: AdminOptions,
    readonly logger: Logger = new Logger({ level: options.logLevel, prefix: options.logPrefix }),
  ) {
    checkUpstreams(options);
    this.current = options;
    const upstream = new Upstream(() => this.current.httpClientRequestTimeout, loadHttpClientTls(options));
    const cluster = new ClusterInfo(upstream, () => ({
      lookupds: this.current.lookupdHttpAddresses,
      nsqds: this.current.nsqdHttpAddresses,
    }));
    this.context = {
      options: () => this.current,
      setOptions: (next) => {
        this.current = next;
        logger.setLevel(next.logLevel);
      },
      logger,
      upstream,
      cluster,
      actions: new ClusterActions(cluster),
      notifier: new Notifier(
        () => this.current.notificationHttpEndpoint,
        logger,
        () => this.current.httpClientRequestTimeout,
      ),
    };
  }

  /** Listens on --http-address; throws when it cannot be bound. */
  start(): void {
    const { hostname, port } = splitHostPort(this.current.httpAddress, "0.0.0.0");
    const app = createAdminApp(this.context);
    try {
      app.listen({ hostname, port, error: lastResortErrorHandler(this.logger) });
    } catch (err) {
      throw new Error(`listen (${this.current.httpAddress}) failed - ${(err as Error).message}`);
    }
    this.app = app;
    this.logger.info(`HTTP: listening on ${app.server?.hostname}:${app.server?.port}`);
  }

  get httpPort(): number {
    return this.app?.server?.port ?? 0;
  }

  stop(): void {
    void this.app?.stop(true);
    this.app = null;
  }
}
