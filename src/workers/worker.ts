/**
 * One worker of `--workers=N`: a whole nsqd (NsqdDaemon) on its own data path,
 * node id and private ports, that also listens on the shared TCP and HTTP
 * addresses (reusePort: the kernel spreads connections over the workers),
 * relays its siblings' messages to its subscribers, and answers the shared HTTP
 * address for the whole nsqd. WorkerNode is the worker itself (tests run
 * several in one process); startWorker() adds what a worker process does: IPC
 * with the supervisor and stopping when the supervisor is gone.
 */
import { splitHostPort } from "../common/host-port.ts";
import { Logger } from "../common/logger.ts";
import type { NsqdOptions } from "../core/options.ts";
import { NsqdDaemon } from "../nsqd/daemon.ts";
import { loadTlsSettings, type TlsSettings } from "../tcp/tls.ts";
import { workerOptions } from "./layout.ts";
import { linkTlsOptions } from "./link-tls.ts";
import { WorkerPeers, type ListeningMessage, type PeersMessage } from "./peers.ts";
import { RelayHub } from "./relay.ts";
import { SharedHttp } from "./shared-http.ts";

/** The environment variable that makes the nsqd program a worker: its index. */
export const WORKER_ENV = "BUNSQ_NSQD_WORKER";

const ANY_HOST = "0.0.0.0";
/** How often a worker checks that its supervisor is still there. */
const ORPHAN_CHECK_MS = 500;

/** This process's worker index, or null when it is not a worker. */
export function workerIndexFromEnv(): number | null {
  const raw = process.env[WORKER_ENV];
  if (raw === undefined || raw === "") return null;
  const index = Number(raw);
  return Number.isInteger(index) && index >= 0 ? index : null;
}

/** Where a worker reaches its siblings' private ports: loopback when they listen on every address. */
function siblingHost(hostname: string): string {
  if (hostname === "" || hostname === ANY_HOST) return "127.0.0.1";
  if (hostname === "::") return "::1";
  return hostname;
}

export class WorkerNode {
  readonly daemon: NsqdDaemon;
  readonly peers: WorkerPeers;
  readonly relays: RelayHub;
  readonly http: SharedHttp;
  private readonly shared;
  /** With TLS configured: the shared --https-address serves the shared API over TLS too. */
  private readonly sharedHttps: { hostname: string; port: number; tls: TlsSettings } | null;
  /** Siblings' HTTP API is HTTPS only: this worker announces its private HTTPS port. */
  readonly httpsOnly: boolean;

  /** `options` are the nsqd's (shared addresses, --node-id, --data-path); the worker derives its own. */
  constructor(
    options: NsqdOptions,
    readonly index: number,
    logger?: Logger,
  ) {
    this.shared = {
      tcp: splitHostPort(options.tcpAddress, ANY_HOST),
      http: splitHostPort(options.httpAddress, ANY_HOST),
    };
    const own = workerOptions(options, index);
    this.daemon = new NsqdDaemon(own, logger);
    const log = this.daemon.nsqd.logger;
    this.peers = new WorkerPeers(index, options.workers, options.nodeId, siblingHost(this.shared.tcp.hostname));
    const linkTls = linkTlsOptions(own);
    this.relays = new RelayHub(this.peers, log, own.msgTimeout, linkTls);
    // with HTTP refused in plain (--tls-required=true) siblings are asked over their HTTPS ports
    this.httpsOnly = own.tlsRequired === "true" && linkTls !== null;
    this.http = new SharedHttp(this.daemon, this.peers, log, this.httpsOnly ? linkTls : null);
    const tls = loadTlsSettings(options);
    this.sharedHttps = tls !== null && options.httpsAddress !== "" ? { ...splitHostPort(options.httpsAddress, ANY_HOST), tls } : null;
  }

  /** Starts the nsqd on its private ports, then listens on the shared ones. */
  start(): void {
    this.daemon.start();
    try {
      this.daemon.tcp.listen(this.shared.tcp.hostname, this.shared.tcp.port, { reusePort: true, relays: this.relays });
      this.http.listen(this.shared.http.hostname, this.shared.http.port);
      if (this.sharedHttps !== null) this.http.listenHttps(this.sharedHttps.hostname, this.sharedHttps.port, this.sharedHttps.tls.options);
      this.http.sharedTcpPort = this.shared.tcp.port;
    } catch (err) {
      this.http.close();
      this.daemon.stop();
      throw err;
    }
  }

  stop(): void {
    this.relays.close();
    this.http.close();
    this.daemon.stop();
  }
}

/** The worker process: a WorkerNode that reports its ports to the supervisor and learns its siblings'. */
export function startWorker(options: NsqdOptions, logger: Logger, index: number): { stop(): void } {
  const own = workerOptions(options, index);
  // the worker's index in every line it logs ("[nsqd/1] ")
  const worker = new WorkerNode(options, index, new Logger({ level: own.logLevel, prefix: own.logPrefix }));
  worker.start();
  process.on("message", (message: PeersMessage) => {
    if (message?.type === "peers") worker.peers.update(message.peers);
  });
  const listening: ListeningMessage = {
    type: "listening",
    index,
    tcpPort: worker.daemon.tcpPort,
    httpPort: worker.httpsOnly ? worker.daemon.httpsPort : worker.daemon.httpPort,
  };
  process.send?.(listening);
  // a supervisor killed with SIGKILL cannot stop its workers: they notice and stop themselves
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid === parent) return;
    logger.warn("WORKERS: the supervisor is gone, exiting");
    worker.stop();
    process.exit(0);
  }, ORPHAN_CHECK_MS).unref();
  return worker;
}
