#!/usr/bin/env bun
/**
 * The bench pair, client by runtime: against a fresh nsqd (its own process, data
 * in a temp dir removed at the end), each of bunsq's client and nsqjs, on Bun and
 * on Node, publishes MPUB batches for --runfor (the writer of NSQ's bench_writer)
 * and then consumes that backlog for up to --runfor (bench_reader; the clock stops
 * when the backlog is drained), on a fresh topic.
 * The four combinations take turns within each of --runs rounds (the machine may
 * be shared: compare within one run); one table of medians is printed at the end.
 * On Node the job script (pair-client.ts) runs bundled for Node, the way
 * `bun run build:client` builds the client. Node is skipped when not on the PATH.
 * bench-writer.ts / bench-reader.ts remain NSQ's tools with bunsq's client.
 *
 *   bun bench/bench-pair.ts --runfor=5s --runs=3 [--size=200 --batch-size=200 --rdy=2500 --connections=2]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import type { OptionsOf } from "../src/options/flags.ts";
import { toolMain } from "../src/cli/tool.ts";
import { freePorts, waitListening } from "../test/helpers/process.ts";
import type { PairJob, PairResult } from "./pair-client.ts";

export const benchPairOptionTable = [
  { key: "runfor", flag: "runfor", kind: "duration", default: 5000, above: 0, help: "how long each writer and then each reader runs" },
  { key: "runs", flag: "runs", kind: "int", default: 1, min: 1, help: "rounds of the four client/runtime pairs (each on a fresh topic)" },
  { key: "size", flag: "size", kind: "int", default: 200, min: 1, help: "size of messages" },
  { key: "batchSize", flag: "batch-size", kind: "int", default: 200, min: 1, help: "batch size of messages" },
  { key: "rdy", flag: "rdy", kind: "int", default: 2500, min: 1, help: "RDY count of the reader" },
  { key: "connections", flag: "connections", kind: "int", default: () => availableParallelism(), min: 1, help: "connections per writer and reader (default: one per core)" },
  { key: "memQueueSize", flag: "mem-queue-size", kind: "int", default: 100_000_000, min: 0, help: "nsqd --mem-queue-size" },
] as const;

type Options = OptionsOf<typeof benchPairOptionTable>;
type Runtime = "bun" | "node";
type Client = PairJob["client"];

const JOB_SCRIPT = join(import.meta.dir, "pair-client.ts");

/** Bundles the job script for Node into dir (the native snappy addons land beside it); its path. */
function bundleForNode(dir: string): string {
  const r = Bun.spawnSync([process.execPath, "build", JOB_SCRIPT, "--target=node", "--format=esm", `--outdir=${dir}`], { stderr: "pipe", stdout: "pipe" });
  if (r.exitCode !== 0) throw new Error(`bundling pair-client.ts for node failed: ${r.stderr.toString()}`);
  return join(dir, "pair-client.js");
}

async function runJob(command: string[], job: PairJob): Promise<PairResult> {
  const proc = Bun.spawn([...command, JSON.stringify(job)], { stdout: "pipe", stderr: "inherit" });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  if (code !== 0) throw new Error(`${job.client} ${job.role} (${command[0]}) exited with ${code}`);
  return JSON.parse(out) as PairResult;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rate = (r: PairResult) => r.messages / (r.ms / 1000);
const fmt = (n: number) => Math.round(n).toLocaleString("en");

async function run(o: Options): Promise<number> {
  const dataPath = mkdtempSync(join(tmpdir(), "bunsq-bench-"));
  const node = Bun.which("node");
  const commands: Record<Runtime, string[] | null> = {
    bun: [process.execPath, JOB_SCRIPT],
    node: node === null ? null : [node, bundleForNode(join(dataPath, "node-bundle"))],
  };
  const [port, httpPort] = freePorts(2);
  const nsqd = Bun.spawn(
    [
      "bun",
      `${import.meta.dir}/../src/cli/nsqd.ts`,
      `--tcp-address=127.0.0.1:${port}`,
      `--http-address=127.0.0.1:${httpPort}`,
      `--data-path=${join(dataPath, "nsqd")}`,
      `--mem-queue-size=${o.memQueueSize}`,
      "--log-level=warn",
    ],
    { stdout: "inherit", stderr: "inherit" },
  );
  const pairs: [Client, Runtime][] = [["bunsq", "bun"], ["bunsq", "node"], ["nsqjs", "bun"], ["nsqjs", "node"]];
  const results = new Map<string, { pub: number[]; sub: number[] }>(pairs.map(([c, r]) => [`${c}/${r}`, { pub: [], sub: [] }]));
  try {
    await waitListening(port);
    await waitListening(httpPort);
    const base = `http://127.0.0.1:${httpPort}`;
    for (let i = 0; i < o.runs; i++) {
      for (const [client, runtime] of pairs) {
        const command = commands[runtime];
        if (command === null) continue;
        const topic = `bench_${client}_${runtime}_${i}`;
        // the channel exists before the writer starts, so the backlog is the channel's
        await fetch(`${base}/topic/create?topic=${topic}`, { method: "POST" });
        await fetch(`${base}/channel/create?topic=${topic}&channel=ch`, { method: "POST" });
        const job = { client, topic, channel: "ch", address: `127.0.0.1:${port}`, size: o.size, batchSize: o.batchSize, rdy: o.rdy, runfor: o.runfor, connections: o.connections };
        const pub = await runJob(command, { ...job, role: "writer" });
        // the reader's clock stops when the backlog is drained, so a slow writer does not cap its rate
        const sub = await runJob(command, { ...job, role: "reader", backlog: pub.messages });
        console.error(`run ${i + 1}: ${client} on ${runtime}: publish ${fmt(rate(pub))}/s, consume ${fmt(rate(sub))}/s`);
        results.get(`${client}/${runtime}`)!.pub.push(rate(pub));
        results.get(`${client}/${runtime}`)!.sub.push(rate(sub));
      }
    }
  } finally {
    nsqd.kill("SIGTERM");
    await nsqd.exited;
    rmSync(dataPath, { recursive: true, force: true });
  }
  console.log(
    `${o.size}-byte messages, MPUB batches of ${o.batchSize}, RDY ${o.rdy}, ${o.connections} connections each way, ` +
      `${o.runfor / 1000} s each, median of ${o.runs}`,
  );
  console.log("| client | runtime | publish msgs/s | consume msgs/s |");
  console.log("| --- | --- | ---: | ---: |");
  for (const [client, runtime] of pairs) {
    const r = results.get(`${client}/${runtime}`)!;
    if (r.pub.length === 0) console.log(`| ${client} | ${runtime} | (no node on the PATH) | |`);
    else console.log(`| ${client} | ${runtime} | ${fmt(median(r.pub))} | ${fmt(median(r.sub))} |`);
  }
  return 0;
}

if (import.meta.main) toolMain({ name: "bench_pair", table: benchPairOptionTable, run });
