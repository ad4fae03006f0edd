/**
 * Where the workers of `--workers=N` keep their data and which node ids they
 * use: worker i is a whole nsqd in `<data-path>/worker-<i>` with node id
 * `--node-id + i` (mod 1024), so a message id alone says which worker owns it.
 * `<data-path>/nsqd.workers` records N, so a start with another N, which would
 * strand the messages of the workers it no longer runs, is refused.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NsqdOptions } from "../core/options.ts";
import { MAX_NODE_ID } from "../protocol/message-id.ts";

/** The file in the top-level data path that records how many workers use it. */
export const WORKERS_FILE = "nsqd.workers";

/** The data path as nsqd resolves it: empty means the working directory. */
export function dataRoot(options: NsqdOptions): string {
  return options.dataPath === "" ? process.cwd() : options.dataPath;
}

export function workerDataPath(root: string, index: number): string {
  return join(root, `worker-${index}`);
}

/** The node id of worker `index` of an nsqd started with --node-id=`base`. */
export function workerNodeId(base: number, index: number): number {
  return (base + index) % (MAX_NODE_ID + 1);
}

/** The worker that owns messages of `node`, or -1 when no worker of `count` has that node id. */
export function workerOfNode(base: number, count: number, node: number): number {
  const index = (node - base + MAX_NODE_ID + 1) % (MAX_NODE_ID + 1);
  return index < count ? index : -1;
}

/** True when `dir` holds what a single nsqd leaves: its metadata or disk queue files. */
function holdsNsqdData(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((name) => name === "nsqd.dat" || name.includes(".diskqueue."));
}

function recordedWorkers(root: string): number | null {
  const path = join(root, WORKERS_FILE);
  if (!existsSync(path)) return null;
  const n = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/**
 * Checks that starting with `options.workers` neither strands nor hides data,
 * and records N for the next start. Throws with what to do instead.
 */
export function checkDataLayout(options: NsqdOptions): void {
  const root = dataRoot(options);
  const n = options.workers;
  const recorded = recordedWorkers(root);
  if (recorded !== null && recorded !== n) {
    throw new Error(
      `data path ${root} was used with --workers=${recorded}; starting with --workers=${n} would strand the messages ` +
        `of its workers. Start with --workers=${recorded}, drain it, and remove ${join(root, WORKERS_FILE)} and its worker-* directories`,
    );
  }
  if (n === 1) return;
  if (holdsNsqdData(root)) {
    throw new Error(
      `data path ${root} holds the data of an nsqd started without --workers; start it with --workers=1 and drain it, ` +
        `or use another --data-path`,
    );
  }
  mkdirSync(root, { recursive: true });
  if (recorded === null) writeFileSync(join(root, WORKERS_FILE), `${n}\n`);
}

/**
 * The options of worker `index`: its own data path and node id, and a private
 * TCP and HTTP address (port 0 on the host of the shared ones) that it registers
 * with nsqlookupd. The shared addresses are added by the worker itself.
 */
export function workerOptions(options: NsqdOptions, index: number): NsqdOptions {
  const privateAddress = (address: string) => `${address.slice(0, address.lastIndexOf(":"))}:0`;
  return {
    ...options,
    dataPath: workerDataPath(dataRoot(options), index),
    nodeId: workerNodeId(options.nodeId, index),
    tcpAddress: privateAddress(options.tcpAddress),
    httpAddress: privateAddress(options.httpAddress),
    httpsAddress: privateAddress(options.httpsAddress),
    logPrefix: options.logPrefix.endsWith("] ") ? `${options.logPrefix.slice(0, -2)}/${index}] ` : options.logPrefix,
  };
}
