/**
 * `nsqd --workers=N` for tests: TestWorkers (the workers in this process, with
 * their internals at hand), SpawnedWorkers (the real process tree), and
 * startTestServer(), the nsqd of a test file that BUNSQ_TEST_WORKERS=N (N > 1)
 * turns from one nsqd in this process into a spawned `nsqd --workers=N`.
 */
import type { Subprocess } from "bun";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Logger } from "../../src/common/logger.ts";
import { nsqdOptionTable, parseNsqdOptions } from "../../src/core/options.ts";
import type { ChannelStats, NsqdStats } from "../../src/schemas/nsqd-stats.ts";
import { WorkerNode } from "../../src/workers/worker.ts";
import { startTestNsqd } from "./nsqd.ts";
import { NSQD_ENTRY, freePorts, removeDir, tempDataDir } from "./process.ts";

/** Workers asked for by the environment (1: a plain nsqd). */
export const TEST_WORKERS = Math.max(1, Number(process.env.BUNSQ_TEST_WORKERS ?? "1") || 1);

/** nsqd options by key (durations in ms, as parseNsqdOptions takes them) as command-line flags. */
export function nsqdFlags(options: Record<string, string | number>): string[] {
  return Object.entries(options).map(([key, value]) => {
    const spec = nsqdOptionTable.find((s) => s.key === key);
    if (spec === undefined) throw new Error(`no nsqd option ${key}`);
    return `--${spec.flag}=${spec.kind === "duration" ? `${value}ms` : value}`;
  });
}

/**
 * The nsqd a test file runs against, seen as a user sees it: the TCP port its
 * clients connect to and its /stats. One nsqd in this process, or with
 * BUNSQ_TEST_WORKERS=N (N > 1) a spawned `nsqd --workers=N` (supervisor and
 * worker processes), every client on the shared address.
 */
export interface TestServer {
  readonly tcpPort: number;
  readonly httpPort: number;
  /** GET /stats?format=json (over the shared address, every worker's figures merged). */
  stats(topic?: string): Promise<NsqdStats>;
  /** Stops the nsqd (SIGKILL to the process group of a spawned one) and removes its data. */
  stop(): Promise<void>;
}

export async function startTestServer(options: Record<string, string | number> = {}): Promise<TestServer> {
  let tcpPort: number;
  let httpPort: number;
  let stop: () => Promise<void>;
  if (TEST_WORKERS > 1) {
    const w = await SpawnedWorkers.start(TEST_WORKERS, nsqdFlags(options));
    ({ tcpPort, httpPort } = w);
    stop = () => w.cleanup();
  } else {
    const s = startTestNsqd(options);
    ({ tcpPort, httpPort } = s);
    stop = async () => s.stop();
  }
  return {
    tcpPort,
    httpPort,
    stop,
    async stats(topic) {
      const query = topic === undefined ? "" : `&topic=${encodeURIComponent(topic)}`;
      const res = await fetch(`http://127.0.0.1:${httpPort}/stats?format=json${query}`);
      if (res.status !== 200) throw new Error(`GET /stats: ${res.status} ${await res.text()}`);
      return (await res.json()) as NsqdStats;
    },
  };
}

/** A channel's entry in a /stats document, or undefined while it does not exist. */
export function channelOf(stats: NsqdStats, topic: string, channel: string): ChannelStats | undefined {
  return stats.topics?.find((t) => t.topic_name === topic)?.channels.find((c) => c.channel_name === channel);
}

const quiet = new Logger({ level: process.env.BUNSQ_TEST_LOG ? "debug" : "fatal", prefix: "[nsqd/w] " });

/**
 * The workers of one `--workers=N` nsqd (src/workers) in this process, on a
 * free shared TCP and HTTP port pair, each with its private ports, and told of
 * each other as the supervisor would: the same relay and shared HTTP code as
 * the worker processes, with the servers' internals at hand (test/workers/relay.test.ts).
 */
export class TestWorkers {
  readonly nodes: WorkerNode[];
  readonly tcpPort: number;
  readonly httpPort: number;
  private readonly dir: string;

  /** `tellPeers` false: the workers start not knowing each other, as before the supervisor's first table; see tellPeers(). */
  constructor(count: number, overrides: Record<string, unknown> = {}, tellPeers = true) {
    this.dir = mkdtempSync(join(tmpdir(), "bunsq-workers-"));
    [this.tcpPort, this.httpPort] = freePorts(2);
    const options = parseNsqdOptions({
      tcpAddress: `127.0.0.1:${this.tcpPort}`,
      httpAddress: `127.0.0.1:${this.httpPort}`,
      dataPath: this.dir,
      workers: count,
      ...overrides,
    });
    this.nodes = Array.from({ length: count }, (_, i) => new WorkerNode(options, i, quiet));
    try {
      for (const node of this.nodes) node.start();
    } catch (err) {
      this.stop();
      throw err;
    }
    if (tellPeers) this.tellPeers();
  }

  /** Tells every worker where its siblings listen, as the supervisor does. */
  tellPeers(): void {
    const ports = this.nodes.map((n) => ({ tcpPort: n.daemon.tcpPort, httpPort: n.daemon.httpPort }));
    for (const node of this.nodes) node.peers.update(ports);
  }

  stop(): void {
    for (const node of this.nodes) node.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One worker process of a spawned `nsqd --workers=N`, as the supervisor logged it. */
export interface WorkerProcess {
  index: number;
  pid: number;
  tcpPort: number;
  httpPort: number;
}

/**
 * `nsqd --workers=N` as real processes: the supervisor runs in a process group
 * of its own (setsid), so kill() ends it and every worker at once.
 */
export class SpawnedWorkers {
  private constructor(
    readonly proc: Subprocess,
    readonly tcpPort: number,
    readonly httpPort: number,
    readonly dataPath: string,
    readonly logFile: string,
  ) {}

  static async start(count: number, args: string[] = [], dataPath = tempDataDir()): Promise<SpawnedWorkers> {
    const [tcpPort, httpPort] = freePorts(2);
    const logFile = join(dataPath, "..", `${basename(dataPath)}.log`);
    const fd = openSync(logFile, "a");
    const proc = Bun.spawn(
      [
        "setsid",
        "bun",
        NSQD_ENTRY,
        `--workers=${count}`,
        `--tcp-address=127.0.0.1:${tcpPort}`,
        `--http-address=127.0.0.1:${httpPort}`,
        `--data-path=${dataPath}`,
        "--broadcast-address=127.0.0.1",
        ...args,
      ],
      { stdin: "ignore", stdout: fd, stderr: fd },
    );
    closeSync(fd);
    const w = new SpawnedWorkers(proc, tcpPort, httpPort, dataPath, logFile);
    try {
      await w.waitFor(() => w.workers().length === count, `${count} workers listening`, 15_000);
    } catch (err) {
      w.kill();
      await proc.exited;
      throw new Error(`${(err as Error).message}\n${w.log()}`);
    }
    return w;
  }

  log(): string {
    try {
      return readFileSync(this.logFile, "utf8");
    } catch {
      return "";
    }
  }

  /** The latest process of each worker index that has listened. */
  workers(): WorkerProcess[] {
    const latest = new Map<number, WorkerProcess>();
    for (const m of this.log().matchAll(/worker (\d+) \(pid (\d+)\) listening, own ports tcp (\d+) http (\d+)/g)) {
      const [index, pid, tcpPort, httpPort] = m.slice(1).map(Number);
      latest.set(index, { index, pid, tcpPort, httpPort });
    }
    return [...latest.values()].sort((a, b) => a.index - b.index);
  }

  async waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (this.proc.exitCode !== null) throw new Error(`nsqd --workers exited (${this.proc.exitCode}) while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await Bun.sleep(20);
    }
  }

  /** SIGKILL to the whole process group (supervisor and workers). */
  kill(): void {
    try {
      process.kill(-this.proc.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }

  /** Kills everything and removes the data path and log. */
  async cleanup(): Promise<void> {
    this.kill();
    await this.proc.exited;
    removeDir(this.dataPath);
    rmSync(this.logFile, { force: true });
  }
}

/** True while a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
