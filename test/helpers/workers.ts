/**
 * The workers of one `--workers=N` nsqd (src/workers) in this process, on a
 * free shared TCP and HTTP port pair, each with its private ports, and told of
 * each other as the supervisor would: the same relay and shared HTTP code as
 * the worker processes, with the servers' internals at hand for assertions.
 * BUNSQ_TEST_WORKERS=N makes test files that support it run against N workers.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "../../src/common/logger.ts";
import { parseNsqdOptions } from "../../src/core/options.ts";
import { WorkerNode } from "../../src/workers/worker.ts";
import { freePorts } from "./process.ts";

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
