#!/usr/bin/env bun
/**
 * What the relay of `nsqd --workers=2` costs per message. Every message is
 * published on worker 1's own port; then, round after round, one bench-reader
 * connection on the shared address reads for --runfor. The kernel puts that
 * connection on either worker: on worker 1 it is served directly (worker 1's own
 * subscriber; the relay link it opens to worker 0 finds nothing there), on
 * worker 0 every message crosses the relay. For each round: the rate, and the
 * CPU-seconds per million messages of each worker (the relaying worker's is the
 * relay's cost). A first round warms the workers up and is not counted. See
 * docs/performance.md, "Workers".
 *
 *   bun bench/workers-relay.ts [--rounds=8] [--runfor=2s]
 */
import { join } from "node:path";
import { toolMain } from "../src/cli/tool.ts";
import type { OptionsOf } from "../src/options/flags.ts";
import { SpawnedWorkers } from "../test/helpers/workers.ts";
import { cpuMs } from "./suite-nsqd.ts";

const table = [
  { key: "rounds", flag: "rounds", kind: "int", default: 8, min: 1, help: "reads of --runfor each (the backlog is published once, for all of them)" },
  { key: "runfor", flag: "runfor", kind: "duration", default: 2000, above: 0, help: "duration of each read" },
] as const;

type Options = OptionsOf<typeof table>;

const TOPIC = "sub_bench";

async function rateOf(script: string, args: string[]): Promise<number> {
  const proc = Bun.spawn(["bun", join(import.meta.dir, script), ...args], { stdout: "pipe", stderr: "inherit" });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  if (code !== 0) throw new Error(`${script} exited with ${code}`);
  const rate = /([\d.]+)ops\/s/.exec(out);
  if (!rate) throw new Error(`unexpected bench output: ${out}`);
  return Number(rate[1]);
}

/** True when worker 0 serves a subscriber of its own (not a sibling's relay link). */
async function readerOnWorker0(httpPort: number): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/stats?format=json&topic=${TOPIC}`);
  const stats = (await res.json()) as { topics: { channels: { clients: { user_agent: string }[] }[] }[] };
  const clients = stats.topics[0]?.channels[0]?.clients ?? [];
  return clients.some((c) => c.user_agent.startsWith("bench_reader"));
}

const median = (xs: number[]) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[xs.length >> 1]);

async function run(o: Options): Promise<number> {
  const nsqd = await SpawnedWorkers.start(2, ["--mem-queue-size=100000000"]);
  const relayed: number[] = [];
  const direct: number[] = [];
  try {
    const [w0, w1] = nsqd.workers();
    await fetch(`http://127.0.0.1:${nsqd.httpPort}/channel/create?topic=${TOPIC}&channel=ch`, { method: "POST" });
    const shape = [`--topic=${TOPIC}`, "--size=200"];
    // enough for every round: about 1.5M messages a second are read at most here
    const publishMs = Math.ceil(((o.rounds + 1) * o.runfor) / 1.5);
    await rateOf("bench-writer.ts", [`--nsqd-tcp-address=127.0.0.1:${w1.tcpPort}`, ...shape, `--runfor=${publishMs}ms`, "--connections=2", "--batch-size=200"]);
    console.log("| round | reader on | msg/s | worker 0 CPU-s per M msgs | worker 1 CPU-s per M msgs | msg per nsqd CPU-s |");
    console.log("| --- | --- | --- | --- | --- | --- |");
    // round 0 warms both workers up (JIT) and is not counted
    for (let round = 0; round <= o.rounds; round++) {
      const cpu0 = [await cpuMs(w0.pid), await cpuMs(w1.pid)];
      const start = performance.now();
      const reading = rateOf("bench-reader.ts", [`--nsqd-tcp-address=127.0.0.1:${nsqd.tcpPort}`, ...shape, `--runfor=${o.runfor}ms`, "--connections=1", "--rdy=2500"]);
      await Bun.sleep(Math.min(300, o.runfor / 2));
      const relaying = await readerOnWorker0(w0.httpPort);
      const rate = await reading;
      const seconds = (performance.now() - start) / 1000;
      const used = [(await cpuMs(w0.pid)) - cpu0[0], (await cpuMs(w1.pid)) - cpu0[1]];
      const millions = (rate * seconds) / 1e6;
      if (millions < 0.1) break; // the backlog ran out
      const perCpu = Math.round((rate * seconds) / ((used[0] + used[1]) / 1000));
      if (round > 0) (relaying ? relayed : direct).push(perCpu);
      const per = used.map((ms) => (ms / 1000 / millions).toFixed(2));
      console.log(`| ${round === 0 ? "0 (warm-up)" : round} | ${relaying ? "worker 0 (relayed)" : "worker 1 (direct)"} | ${Math.round(rate).toLocaleString("en-US")} | ${per[0]} | ${per[1]} | ${perCpu.toLocaleString("en-US")} |`);
    }
  } finally {
    await nsqd.cleanup();
  }
  const fmt = (xs: number[]) => `${Math.round(median(xs)).toLocaleString("en-US")} (${xs.length} rounds)`;
  console.log(`\nmedian msg per nsqd CPU-s: direct ${fmt(direct)}, relayed ${fmt(relayed)}`);
  return 0;
}

toolMain({ name: "workers-relay-bench", table, run });
