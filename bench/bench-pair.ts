#!/usr/bin/env bun
/**
 * Runs the bench pair against a fresh nsqd: nsqd in its own process with its data
 * in a temp dir (removed at the end), then bench-writer for --runfor, then
 * bench-reader for --runfor on the backlog the writer left, --runs times.
 *
 *   bun bench/bench-pair.ts --runfor=5s --runs=3 [--size=200 --batch-size=200 --rdy=2500]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OptionsOf } from "../src/options/flags.ts";
import { toolMain } from "../src/cli/tool.ts";
import { formatDuration } from "../src/options/duration.ts";
import { freePorts, waitListening } from "../test/helpers/process.ts";

export const benchPairOptionTable = [
  { key: "runfor", flag: "runfor", kind: "duration", default: 5000, above: 0, help: "how long the writer and then the reader run" },
  { key: "runs", flag: "runs", kind: "int", default: 1, min: 1, help: "how many times to run the pair (each on a fresh topic)" },
  { key: "size", flag: "size", kind: "int", default: 200, min: 1, help: "size of messages" },
  { key: "batchSize", flag: "batch-size", kind: "int", default: 200, min: 1, help: "batch size of messages" },
  { key: "rdy", flag: "rdy", kind: "int", default: 2500, min: 1, help: "RDY count of the reader" },
  { key: "memQueueSize", flag: "mem-queue-size", kind: "int", default: 100_000_000, min: 0, help: "nsqd --mem-queue-size" },
] as const;

type Options = OptionsOf<typeof benchPairOptionTable>;

async function runChild(args: string[]): Promise<void> {
  const proc = Bun.spawn(["bun", ...args], { stdout: "inherit", stderr: "inherit" });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${args[0]} exited with ${code}`);
}

async function run(o: Options): Promise<number> {
  const dataPath = mkdtempSync(join(tmpdir(), "bunsq-bench-"));
  const [port, httpPort] = freePorts(2);
  const nsqd = Bun.spawn(
    [
      "bun",
      `${import.meta.dir}/../src/cli/nsqd.ts`,
      `--tcp-address=127.0.0.1:${port}`,
      `--http-address=127.0.0.1:${httpPort}`,
      `--data-path=${dataPath}`,
      `--mem-queue-size=${o.memQueueSize}`,
      "--log-level=warn",
    ],
    { stdout: "inherit", stderr: "inherit" },
  );
  try {
    await waitListening(port);
    await waitListening(httpPort);
    const runfor = `--runfor=${formatDuration(o.runfor)}`;
    const common = [`--nsqd-tcp-address=127.0.0.1:${port}`, `--size=${o.size}`];
    for (let i = 0; i < o.runs; i++) {
      const topic = `--topic=sub_bench_${i}`;
      // the channel exists before the writer starts, so the backlog is the channel's
      const base = `http://127.0.0.1:${httpPort}`;
      await fetch(`${base}/topic/create?topic=sub_bench_${i}`, { method: "POST" });
      await fetch(`${base}/channel/create?topic=sub_bench_${i}&channel=ch`, { method: "POST" });
      await runChild([`${import.meta.dir}/bench-writer.ts`, ...common, topic, runfor, `--batch-size=${o.batchSize}`]);
      await runChild([`${import.meta.dir}/bench-reader.ts`, ...common, topic, runfor, `--rdy=${o.rdy}`]);
    }
  } finally {
    nsqd.kill("SIGTERM");
    await nsqd.exited;
    rmSync(dataPath, { recursive: true, force: true });
  }
  return 0;
}

if (import.meta.main) toolMain({ name: "bench_pair", table: benchPairOptionTable, run });
