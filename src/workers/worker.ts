/**
 * One worker of `--workers=N`, in its own process: a whole nsqd (NsqdDaemon)
 * on its own data path, node id and private ports, that also listens on the
 * shared TCP and HTTP addresses (reusePort: the kernel spreads connections
 * over the workers), relays its siblings' messages to its subscribers, and
 * answers the shared HTTP address for the whole nsqd.
 */
import { splitHostPort } from "../common/host-port.ts";
import { Logger } from "../common/logger.ts";
import type { NsqdOptions } from "../core/options.ts";
import { NsqdDaemon } from "../nsqd/daemon.ts";
import { workerOptions } from "./layout.ts";
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

export function startWorker(options: NsqdOptions, logger: Logger, index: number): { stop(): void } {
  const shared = {
    tcp: splitHostPort(options.tcpAddress, ANY_HOST),
    http: splitHostPort(options.httpAddress, ANY_HOST),
  };
  const own = workerOptions(options, index);
  // the worker's index in every line it logs ("[nsqd/1] ")
  logger = new Logger({ level: own.logLevel, prefix: own.logPrefix });
  const daemon = new NsqdDaemon(own, logger);
  const peers = new WorkerPeers(index, options.workers, options.nodeId, siblingHost(shared.tcp.hostname));
  const relays = new RelayHub(peers, daemon.nsqd.logger);
  const http = new SharedHttp(daemon, peers, daemon.nsqd.logger);
  daemon.start();
  try {
    daemon.tcp.listen(shared.tcp.hostname, shared.tcp.port, { reusePort: true, relays });
    http.listen(shared.http.hostname, shared.http.port);
    http.sharedTcpPort = shared.tcp.port;
  } catch (err) {
    http.close();
    daemon.stop();
    throw err;
  }
  process.on("message", (message: PeersMessage) => {
    if (message?.type === "peers") peers.update(message.peers);
  });
  const listening: ListeningMessage = { type: "listening", index, tcpPort: daemon.tcpPort, httpPort: daemon.httpPort };
  process.send?.(listening);
  // a supervisor killed with SIGKILL cannot stop its workers: they notice and stop themselves
  const parent = process.ppid;
  const stop = () => {
    relays.close();
    http.close();
    daemon.stop();
  };
  setInterval(() => {
    if (process.ppid === parent) return;
    logger.warn("WORKERS: the supervisor is gone, exiting");
    stop();
    process.exit(0);
  }, ORPHAN_CHECK_MS).unref();
  return { stop };
}
