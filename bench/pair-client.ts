/**
 * One side of the bench pair with one client library, on whichever runtime runs
 * it: bunsq's client or nsqjs, as a writer (MPUB batches, each answered before
 * the next, as NSQ's bench_writer) or a reader (FIN every message, counted from
 * the moment RDY is sent, as NSQ's bench_reader), for `runfor` ms over
 * `connections` connections. Prints {"messages": n, "ms": t} on stdout.
 * Uses no Bun API: bench-pair.ts runs it with bun directly and with node once
 * bundled (`bun build --target=node`, which is how build:client builds the client).
 *
 *   bun bench/pair-client.ts '{"client":"nsqjs","role":"writer","address":"127.0.0.1:4150",...}'
 */
import { Reader, Writer } from "nsqjs";
import { Consumer, Producer } from "../src/client/index.ts";

export interface PairJob {
  client: "bunsq" | "nsqjs";
  role: "writer" | "reader";
  address: string;
  topic: string;
  channel: string;
  size: number;
  batchSize: number;
  rdy: number;
  runfor: number;
  connections: number;
  /** Readers: the backlog; the clock stops when all of it arrived (before runfor ends). */
  backlog?: number;
}

export interface PairResult {
  messages: number;
  ms: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function hostPort(address: string): [string, number] {
  const colon = address.lastIndexOf(":");
  return [address.slice(0, colon), Number(address.slice(colon + 1))];
}

/** Runs `worker` on every connection until the deadline; the total it returns. */
async function writers(job: PairJob, worker: (deadline: number) => Promise<number>): Promise<PairResult> {
  const start = performance.now();
  const counts = await Promise.all(Array.from({ length: job.connections }, () => worker(start + job.runfor)));
  return { messages: counts.reduce((a, b) => a + b, 0), ms: performance.now() - start };
}

async function bunsqWriter(job: PairJob, batch: Uint8Array[]): Promise<PairResult> {
  return writers(job, async (deadline) => {
    const p = new Producer(job.address);
    await p.connect();
    let sent = 0;
    do {
      await p.multiPublish(job.topic, batch);
      sent += batch.length;
    } while (performance.now() < deadline);
    await p.stop();
    return sent;
  });
}

async function nsqjsWriter(job: PairJob, batch: Uint8Array[]): Promise<PairResult> {
  const bodies = batch.map((b) => Buffer.from(b));
  const [host, port] = hostPort(job.address);
  return writers(job, async (deadline) => {
    const w = new Writer(host, port);
    await new Promise<void>((resolve, reject) => {
      w.on("ready", resolve);
      w.on("error", reject);
      w.connect();
    });
    let sent = 0;
    do {
      await new Promise<void>((resolve, reject) => w.publish(job.topic, bodies, (err) => (err ? reject(err) : resolve())));
      sent += bodies.length;
    } while (performance.now() < deadline);
    w.close();
    return sent;
  });
}

/** Counts a reader's messages from run() on, until runfor passes or the whole backlog arrived. */
class ReadCounter {
  private received = 0;
  private start = 0;
  private end = 0;
  private done: (() => void) | null = null;
  constructor(private readonly job: PairJob) {}

  add(): void {
    if (++this.received === this.job.backlog && this.end === 0) {
      this.end = performance.now();
      this.done?.();
    }
  }

  async run(): Promise<PairResult> {
    // count from here, as the Go reader does (messages that came with the connection's first RDY included)
    this.start = performance.now();
    if (this.end === 0) await Promise.race([sleep(this.job.runfor), new Promise<void>((resolve) => (this.done = resolve))]);
    const end = this.end === 0 ? performance.now() : this.end;
    return { messages: this.received, ms: Math.max(end - this.start, 1) };
  }
}

async function bunsqReader(job: PairJob): Promise<PairResult> {
  const counter = new ReadCounter(job);
  const consumers = Array.from(
    { length: job.connections },
    () => new Consumer(job.topic, job.channel, { maxInFlight: job.rdy, msgTimeout: 3000, handler: () => counter.add() }),
  );
  await Promise.all(consumers.map((c) => c.connectToNsqd(job.address)));
  const result = await counter.run();
  await Promise.all(consumers.map((c) => c.stop(1000)));
  return result;
}

async function nsqjsReader(job: PairJob): Promise<PairResult> {
  const counter = new ReadCounter(job);
  const readers = Array.from({ length: job.connections }, () => {
    const r = new Reader(job.topic, job.channel, { nsqdTCPAddresses: [job.address], maxInFlight: job.rdy, messageTimeout: 3000 });
    r.on("message", (msg) => {
      counter.add();
      msg.finish();
    });
    return r;
  });
  await Promise.all(
    readers.map(
      (r) =>
        new Promise<void>((resolve, reject) => {
          r.on("nsqd_connected", () => resolve());
          r.on("error", reject);
          r.connect();
        }),
    ),
  );
  const result = await counter.run();
  for (const r of readers) r.close();
  return result;
}

export async function runPairJob(job: PairJob): Promise<PairResult> {
  if (job.role === "reader") return job.client === "bunsq" ? bunsqReader(job) : nsqjsReader(job);
  const msg = new Uint8Array(job.size).fill(0x61);
  const batch = Array.from({ length: job.batchSize }, () => msg);
  return job.client === "bunsq" ? bunsqWriter(job, batch) : nsqjsWriter(job, batch);
}

const arg = process.argv[2];
if (arg !== undefined) {
  const result = await runPairJob(JSON.parse(arg) as PairJob);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // nsqjs may leave timers behind its close(); the figures are out
  process.exit(0);
}
