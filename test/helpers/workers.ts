/**
 * The workers of one `--workers=N` nsqd (src/workers) in this process, on a
 * free shared TCP and HTTP port pair, each with its private ports, and told of
 * each other as the supervisor would: the same relay and shared HTTP code as
 * the worker processes, with the servers' internals at hand for assertions.
 * BUNSQ_TEST_WORKERS=N makes test files that support it run against N workers.
 */
import type { Subprocess } from "bun";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Logger } from "../../src/common/logger.ts";
import { parseNsqdOptions } from "../../src/core/options.ts";
import { WorkerNode } from "../../src/workers/worker.ts";
import { NSQD_ENTRY, freePorts, removeDir, tempDataDir } from "./process.ts";

/** Workers asked for by the environment (1: a plain nsqd). */
export const TEST_WORKERS = Math.max(1, Number(process.env.BUNSQ_TEST_WORKERS ?? "1") || 1);

const quiet = new Logger({ level: process.env.BUNSQ_TEST_LOG ? "debug" : "fatal", prefix: "[nsqd/w] " });

export class TestWorkers {
  readonly nodes: WorkerNode[];
  readonly tcpPort: number;
  readonly httpPort: number;
  private readonly dir: string;

  constructor(count: number, overrides: Record<string, unknown> = {}) {
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
