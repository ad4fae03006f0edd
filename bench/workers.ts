#!/usr/bin/env bun
/**
 * nsqd --workers=N against the NSQ-shaped publish/consume of the suite (200-byte
 * messages, bench-writer MPUB 200, then bench-reader RDY 2500 on the backlog),
 * every client on the shared address. For each N: the rates, the CPU of every
 * nsqd process (supervisor and workers, summed) and messages per server
 * CPU-second. The consume phase is measured twice: a reader on the shared
 * address (the relay brings the siblings' messages), and one reader per worker
 * on its own port (as consumers that discover through nsqlookupd connect).
 * See docs/performance.md, "Workers".
 *
 * Each server is warmed up first (--warmup of publishing and consuming, then
 * emptied), so that no worker's JIT compilation falls into the measurement.
 *
 *   bun bench/workers.ts [--workers=1,2,4] [--runfor=5s] [--connections=4] [--runs=1] [--warmup=2s]
 */
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { toolMain, type ToolContext } from "../src/cli/tool.ts";
import type { OptionsOf } from "../src/options/flags.ts";
import { freePorts, removeDir, tempDataDir, waitListening } from "../test/helpers/process.ts";
import { cpuMs, createChannel } from "./suite-nsqd.ts";

const NSQD = join(import.meta.dir, "..", "src", "cli", "nsqd.ts");
const SIZE = 200;

const table = [
  { key: "workers", flag: "workers", kind: "string", default: "1,2,4", help: "worker counts to measure, comma-separated" },
  { key: "runfor", flag: "runfor", kind: "duration", default: 5000, above: 0, help: "duration of each phase (publish, consume)" },
  { key: "connections", flag: "connections", kind: "int", default: 4, min: 1, help: "connections of the writer and of the reader" },
  { key: "runs", flag: "runs", kind: "int", default: 1, min: 1, help: "runs of every worker count" },
  { key: "warmup", flag: "warmup", kind: "duration", default: 2000, help: "publish and consume for this long before measuring (0: measure from the start)" },
] as const;

type Options = OptionsOf<typeof table>;

/** The nsqd process and its children (the workers). */
function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // gone
  }
  return [pid, ...children.flatMap(processTree)];
}

async function treeCpuMs(pid: number): Promise<number> {
  let total = 0;
  for (const p of processTree(pid)) total += await cpuMs(p).catch(() => 0);
  return total;
}

async function runChild(script: string, args: string[]): Promise<number> {
  return parseRate(await childOutput(script, args));
}

function parseRate(out: string): number {
  const rate = /([\d.]+)ops\/s/.exec(out);
  if (!rate) throw new Error(`unexpected bench output: ${out}`);
  return Number(rate[1]);
}

async function childOutput(script: string, args: string[]): Promise<string> {
  const proc = Bun.spawn(["bun", join(import.meta.dir, script), ...args], { stdout: "pipe", stderr: "inherit" });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  if (code !== 0) throw new Error(`${script} exited with ${code}`);
  return out;
}

interface Phase {
  rate: number;
  cpu: number;
}

async function phase(pid: number, children: () => Promise<number>): Promise<Phase> {
  const cpu0 = await treeCpuMs(pid);
  const t0 = performance.now();
  const rate = await children();
  const wall = performance.now() - t0;
  const cpu = (await treeCpuMs(pid)) - cpu0;
  return { rate, cpu: cpu / wall };
}

async function measure(workers: number, o: Options): Promise<{ write: Phase; read: Phase; direct: Phase }> {
  const dataPath = tempDataDir();
  const [port, httpPort] = freePorts(2);
  const logFile = `${dataPath}.log`;
  const fd = openSync(logFile, "a");
  const proc = Bun.spawn(
    ["bun", NSQD, `--workers=${workers}`, `--tcp-address=127.0.0.1:${port}`, `--http-address=127.0.0.1:${httpPort}`, `--data-path=${dataPath}`, "--mem-queue-size=100000000"],
    { stdout: fd, stderr: fd },
  );
  closeSync(fd);
  try {
    await waitListening(port, proc, 15_000);
    await waitListening(httpPort, proc, 15_000);
    // every worker listening: the tree has N workers (or the one nsqd)
    while (workers > 1 && processTree(proc.pid).length < workers + 1) await Bun.sleep(50);
    await Bun.sleep(500);
    const topic = "sub_bench";
    await createChannel(httpPort, topic, "ch");
    const to = `--nsqd-tcp-address=127.0.0.1:${port}`;
    const shape = [`--topic=${topic}`, `--size=${SIZE}`, `--connections=${o.connections}`];
    if (o.warmup > 0) {
      // every worker process compiles its hot paths on its own (JSC's JIT threads count as its CPU): a
      // server that has run for a while has done so, and N workers would otherwise pay it N times here
      const warm = [to, ...shape, `--runfor=${o.warmup}ms`];
      await runChild("bench-writer.ts", [...warm, "--batch-size=200"]);
      await runChild("bench-reader.ts", [...warm, "--rdy=2500"]);
      await emptyChannel(httpPort, topic, "ch");
    }
    const common = [to, ...shape, `--runfor=${o.runfor}ms`];
    const write = await phase(proc.pid, () => runChild("bench-writer.ts", [...common, "--batch-size=200"]));
    const read = await phase(proc.pid, () => runChild("bench-reader.ts", [...common, "--rdy=2500"]));
    // the rest of the backlog, read from every worker's own port at once
    const own = ownPorts(readFileSync(logFile, "utf8"), workers, port);
    const per = [`--topic=${topic}`, `--size=${SIZE}`, `--runfor=${o.runfor}ms`, `--connections=${Math.max(1, Math.round(o.connections / own.length))}`, "--rdy=2500"];
    const direct = await phase(proc.pid, async () => {
      const rates = await Promise.all(own.map((p) => runChild("bench-reader.ts", [`--nsqd-tcp-address=127.0.0.1:${p}`, ...per])));
      return rates.reduce((a, b) => a + b, 0);
    });
    return { write, read, direct };
  } finally {
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
    await proc.exited;
    clearTimeout(timer);
    removeDir(dataPath);
    removeDir(logFile);
  }
}

/** Drops what the warm-up left (the topic's queue and the channel's), on every worker. */
async function emptyChannel(httpPort: number, topic: string, channel: string): Promise<void> {
  for (const path of [`/topic/empty?topic=${topic}`, `/channel/empty?topic=${topic}&channel=${channel}`]) {
    const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, { method: "POST" });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  }
}

/** Each worker's own TCP port, from the supervisor's log (the one nsqd's port without workers). */
function ownPorts(log: string, workers: number, sharedPort: number): number[] {
  if (workers === 1) return [sharedPort];
  const ports = new Map<number, number>();
  for (const m of log.matchAll(/worker (\d+) \(pid \d+\) listening, own ports tcp (\d+)/g)) ports.set(Number(m[1]), Number(m[2]));
  return [...ports.values()];
}

async function run(o: Options, _ctx: ToolContext): Promise<number> {
  const counts = o.workers.split(",").map((s) => Number(s.trim()));
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  console.log("| workers | publish msg/s | nsqd CPU | msg per CPU-s | consume, shared address | nsqd CPU | msg per CPU-s | consume, own ports | nsqd CPU | msg per CPU-s |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const n of counts) {
    for (let r = 0; r < o.runs; r++) {
      const { write, read, direct } = await measure(n, o);
      const cells = [write, read, direct].map((p) => `${fmt(p.rate)} | ${p.cpu.toFixed(2)} | ${fmt(p.rate / p.cpu)}`);
      console.log(`| ${n} | ${cells.join(" | ")} |`);
    }
  }
  return 0;
}

toolMain({ name: "workers-bench", table, run });
