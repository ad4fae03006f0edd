/**
 * The measurements of the suite. Each runs against the nsqd it is given and
 * returns named figures (see suite-table.ts for their units and targets) and
 * notes worth printing.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { openIdleConnections } from "../test/hardening/connections.ts";
import { channelStats, cpuMs, createChannel, settledRss, type Nsqd } from "./suite-nsqd.ts";
import { epochUs, type PhaseProfiles } from "./suite-profile.ts";
import { LatencyConsumerProcess } from "./latency-consumer.ts";
import { commandWithBody, MpubBuilder, RawConn } from "./suite-raw.ts";

export interface CaseResult {
  figures: Record<string, number>;
  notes: string[];
}

export interface CaseContext {
  runforMs: number;
  profiles: PhaseProfiles;
}

const SIZE = 200;

async function runChild(script: string, args: string[]): Promise<string> {
  const proc = Bun.spawn(["bun", join(import.meta.dir, script), ...args], { stdout: "pipe", stderr: "inherit" });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  if (code !== 0) throw new Error(`${script} exited with ${code}`);
  return out;
}

/** ops/s and the client's CPU share (% of one core) from NSQ-format result lines. */
function parseBenchOutput(out: string): { rate: number; cpu: number } {
  const rate = /([\d.]+)ops\/s/.exec(out);
  const cpu = /cpu: [\d.]+s \(([\d.]+)% of one core\)/.exec(out);
  if (!rate || !cpu) throw new Error(`unexpected bench output: ${out}`);
  return { rate: Number(rate[1]), cpu: Number(cpu[1]) };
}

/** Runs a bench child while measuring nsqd's CPU share and marking the phase for profiling. */
async function benchPhase(n: Nsqd, ctx: CaseContext, phase: string, script: string, args: string[]) {
  const cpu0 = await cpuMs(n.proc.pid);
  const t0 = performance.now();
  const from = epochUs();
  const out = await runChild(script, args);
  const to = epochUs();
  const wall = performance.now() - t0;
  const serverCpu = ((await cpuMs(n.proc.pid)) - cpu0) / wall;
  // the child's start-up and connect are inside the window: skip its first 300 ms
  ctx.profiles.mark(n.profile, phase, from + 300_000, to);
  return { ...parseBenchOutput(out), serverCpu: serverCpu * 100 };
}

/**
 * bench-writer (MPUB batches of 200, 2 connections) for runfor, then bench-reader
 * (RDY 2500, 2 connections) on the backlog for runfor. `kind` names the figures.
 */
export async function throughput(n: Nsqd, ctx: CaseContext, kind: string): Promise<CaseResult> {
  const topic = "sub_bench";
  await createChannel(n.httpPort, topic, "ch");
  const common = [`--nsqd-tcp-address=127.0.0.1:${n.port}`, `--topic=${topic}`, `--size=${SIZE}`, `--runfor=${ctx.runforMs}ms`, "--connections=2"];
  const w = await benchPhase(n, ctx, `${kind} write`, "bench-writer.ts", [...common, "--batch-size=200"]);
  const r = await benchPhase(n, ctx, `${kind} read`, "bench-reader.ts", [...common, "--rdy=2500"]);
  const left = await channelStats(n.httpPort, topic, "ch");
  const notes = left.depth === 0 ? [`${kind}: the reader emptied the backlog, so its rate is a lower bound`] : [];
  return {
    figures: {
      [`${kind}.in`]: w.rate,
      [`${kind}.out`]: r.rate,
      [`${kind}.client-cpu.in`]: w.cpu,
      [`${kind}.client-cpu.out`]: r.cpu,
      [`${kind}.nsqd-cpu.in`]: w.serverCpu,
      [`${kind}.nsqd-cpu.out`]: r.serverCpu,
      // throughput per second of nsqd CPU: steadier than the rate when nsqd shares the cores
      [`${kind}.per-cpu.in`]: w.rate / (w.serverCpu / 100),
      [`${kind}.per-cpu.out`]: r.rate / (r.serverCpu / 100),
    },
    notes,
  };
}

/** `publishers` connections, each with one PUB in flight, for runfor: acknowledged PUBs/s. */
export async function syncPublishers(n: Nsqd, ctx: CaseContext, publishers: number): Promise<CaseResult> {
  const frame = commandWithBody("PUB sync_bench", new Uint8Array(SIZE).fill(0x61));
  const conns = await Promise.all(Array.from({ length: publishers }, () => RawConn.connect(n.port)));
  try {
    const start = performance.now();
    const deadline = start + ctx.runforMs;
    const counts = await Promise.all(
      conns.map(async (c) => {
        let acked = 0;
        while (performance.now() < deadline) {
          await c.request(frame);
          acked++;
        }
        return acked;
      }),
    );
    const secs = (performance.now() - start) / 1000;
    return { figures: { [`sync.${publishers}`]: counts.reduce((a, b) => a + b, 0) / secs }, notes: [] };
  } finally {
    for (const c of conns) c.close();
  }
}

const WARM_UP_MS = 1000;
const LATENCY_MS = 5000;
/** The consumer's RDY: the bench reader's, so 100k msgs/s is not limited by FIN round trips. */
const LATENCY_RDY = 2500;

/**
 * One producer publishing `rate` msgs/s (an MPUB of what is due every 1 ms tick,
 * each body stamped with its send time in µs) and one consumer (empty IDENTIFY,
 * RDY 2500, FIN for every message) that records publish-to-delivery latency for
 * LATENCY_MS after WARM_UP_MS.
 *
 * The consumer is its own process (latency-consumer.ts), as NSQ's bench tools
 * are, so the producer's timer, its MPUB building and this process's GC pauses
 * (with the consumer in here: ~20 per 5 s, up to ~2 ms) cannot delay a receive
 * timestamp. The client CPU figure is both processes' together.
 */
export async function latency(n: Nsqd, ctx: CaseContext, rate: number): Promise<CaseResult> {
  const topic = "latency_bench";
  const kind = `latency.${rate / 1000}k`;
  const maxSamples = Math.ceil((rate * LATENCY_MS) / 1000) * 2;
  const consumer = await LatencyConsumerProcess.start({ port: n.port, topic, channel: "ch", rdy: LATENCY_RDY, maxSamples });
  let producer: RawConn | null = null;
  try {
    producer = await RawConn.connect(n.port);
    const perTick = Math.ceil(rate / 1000) * 50; // room for 50 ms of catching up
    const mpub = new MpubBuilder(topic, SIZE, perTick);
    const cpuFrom = (await cpuMs("self")) + (await cpuMs(consumer.pid));
    const start = performance.now();
    const windowFrom = epochUs() + WARM_UP_MS * 1000;
    const windowTo = windowFrom + LATENCY_MS * 1000;
    consumer.window(windowFrom, windowTo);
    let sent = 0;
    let sentInWindow = 0;
    let maxLagMs = 0;
    let blocked: Promise<void> | void = undefined;
    await new Promise<void>((done, fail) => {
      const timer = setInterval(() => {
        const elapsed = performance.now() - start;
        if (elapsed >= WARM_UP_MS + LATENCY_MS) {
          clearInterval(timer);
          return done();
        }
        if (blocked !== undefined) return; // the socket is full: wait for drain
        const due = Math.min(Math.floor((rate * elapsed) / 1000) - sent, perTick);
        if (due <= 0) return;
        const stamp = epochUs();
        if (elapsed >= WARM_UP_MS) {
          maxLagMs = Math.max(maxLagMs, elapsed - (sent * 1000) / rate);
          sentInWindow += due;
        }
        for (let i = 0; i < due; i++) mpub.stamp(i, stamp);
        sent += due;
        blocked = producer!.write(mpub.frame(due));
        if (blocked !== undefined) blocked.then(() => (blocked = undefined), fail);
      }, 1);
    });
    const cpuTo = (await cpuMs("self")) + (await cpuMs(consumer.pid));
    const clientCpu = ((cpuTo - cpuFrom) / (performance.now() - start)) * 100; // warm-up included
    const result = await consumer.finish(); // once the last messages arrived
    ctx.profiles.mark(n.profile, kind, windowFrom, windowTo);
    const achieved = sentInWindow / (LATENCY_MS / 1000);
    const notes: string[] = [];
    if (achieved < rate * 0.99) notes.push(`${kind}: pacing reached only ${Math.round(achieved)} msgs/s`);
    if (result.measured < sentInWindow) notes.push(`${kind}: ${sentInWindow - result.measured} of ${sentInWindow} messages not delivered`);
    if (producer.lastError !== null) notes.push(`${kind}: publish error ${producer.lastError.message}`);
    return {
      figures: {
        [`${kind}.p50`]: result.p50 / 1000,
        [`${kind}.p99`]: result.p99 / 1000,
        [`${kind}.p999`]: result.p999 / 1000,
        [`${kind}.rate`]: achieved,
        [`${kind}.lag`]: maxLagMs,
        [`${kind}.client-cpu`]: clientCpu,
      },
      notes,
    };
  } finally {
    producer?.close();
    await consumer.stop();
  }
}

const QUEUED = 1_000_000;

/** RSS growth of nsqd per queued 200-byte message beyond its body, with 1,000,000 queued. */
export async function messageMemory(n: Nsqd): Promise<CaseResult> {
  const topic = "mem_bench";
  await createChannel(n.httpPort, topic, "ch");
  const before = await settledRss(n.proc.pid);
  const conn = await RawConn.connect(n.port);
  try {
    const frame = new MpubBuilder(topic, SIZE, 200).frame(200);
    for (let sent = 0; sent < QUEUED; sent += 200 * 10) {
      await Promise.all(Array.from({ length: 10 }, () => conn.request(frame)));
    }
  } finally {
    conn.close();
  }
  const deadline = Date.now() + 60_000;
  while ((await channelStats(n.httpPort, topic, "ch")).depth < QUEUED) {
    if (Date.now() > deadline) throw new Error("the channel never held all messages");
    await Bun.sleep(100);
  }
  const after = await settledRss(n.proc.pid, 3000);
  return { figures: { "mem.per-message": (after - before - QUEUED * SIZE) / QUEUED }, notes: [] };
}

const IDLE = 10_000;

/** RSS growth of nsqd per idle connection (magic + IDENTIFY, answered), with 10,000 open. */
export async function connectionMemory(n: Nsqd): Promise<CaseResult> {
  const before = await settledRss(n.proc.pid, 1000);
  const conns = await openIdleConnections(n.port, IDLE);
  try {
    const deadline = Date.now() + 60_000;
    while (conns.answered < IDLE) {
      if (Date.now() > deadline) throw new Error(`only ${conns.answered} of ${IDLE} connections were answered`);
      await Bun.sleep(50);
    }
    const after = await settledRss(n.proc.pid, 1000);
    return { figures: { "mem.per-connection": (after - before) / IDLE / 1024 }, notes: [] };
  } finally {
    for (const s of conns.sockets) s.terminate();
  }
}

const IDLE_TOPICS = 10_000;

/** POSTs `path(i)` for i in [0, count), `concurrency` requests at a time. */
async function postEach(httpPort: number, count: number, path: (i: number) => string, concurrency = 32): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const res = await fetch(`http://127.0.0.1:${httpPort}${path(i)}`, { method: "POST" });
      if (!res.ok) throw new Error(`POST ${path(i)}: ${res.status}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Idle topics (issue 17): RSS growth of nsqd per topic with one channel, 10,000
 * created over HTTP and never published to; the files they left in the data path
 * (nsqd.dat aside); and how far above its start RSS stays once all are deleted.
 */
export async function topicMemory(n: Nsqd): Promise<CaseResult> {
  // each reading after a full collection (nsqd's /debug/freememory): what the topics hold, not the requests' garbage
  const collected = async () => {
    await postEach(n.httpPort, 1, () => "/debug/freememory", 1);
    return settledRss(n.proc.pid, 1000);
  };
  const before = await collected();
  await postEach(n.httpPort, IDLE_TOPICS, (i) => `/topic/create?topic=idle${i}`);
  await postEach(n.httpPort, IDLE_TOPICS, (i) => `/channel/create?topic=idle${i}&channel=c`);
  const created = await collected();
  const files = readdirSync(n.dataPath).filter((f) => f !== "nsqd.dat" && !f.startsWith("."));
  await postEach(n.httpPort, IDLE_TOPICS, (i) => `/topic/delete?topic=idle${i}`);
  const deleted = await collected();
  return {
    figures: {
      "mem.per-idle-topic": (created - before) / IDLE_TOPICS / 1024,
      "mem.after-topic-delete": (deleted - before) / 1024 / 1024,
      "files.idle-topics": files.length,
    },
    notes: files.length > 0 ? [`idle topics left files: ${files.slice(0, 5).join(", ")}`] : [],
  };
}
