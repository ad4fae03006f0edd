#!/usr/bin/env bun
/**
 * The consumer of the suite's latency measurement (suite-cases.ts `latency()`),
 * run as its own process as NSQ's bench tools are, so that the producer's timer,
 * MPUB building and GC in the suite process never delay a receive timestamp.
 *
 * It subscribes with an empty IDENTIFY and RDY --rdy, FINs every message, and
 * records now − (the send time stamped in the first 8 bytes of the body) for
 * each message sent inside the window. The connection is the suite's RawConn;
 * per message it allocates only the frame decoder's view of the frame (the FINs
 * of a read go to one preallocated buffer), so its own GC stays small.
 *
 * Talks to its parent in lines:
 *   stdout  "ready"                     subscribed, RDY sent
 *   stdin   "window <fromUs> <toUs>"    record messages whose send stamp is in [from, to)
 *   stdin   "done"                      the producer stopped: wait for the last messages
 *   stdout  {"measured":…,"p50":…,…}    latencies in µs, then it exits
 *
 * --dump=<file> also writes (send stamp µs, latency µs) float64 pairs of every
 * recorded message, in arrival order, to line the tail up with GC logs.
 *
 * Send and receive stamps are both `epochUs()` (timeOrigin + now): two Bun
 * processes on one machine agree on it within a few µs.
 */
import type { Subprocess } from "bun";
import { parseArgs } from "node:util";
import { epochUs } from "./suite-profile.ts";
import { command, commandWithBody, RawConn } from "./suite-raw.ts";

const FIN_HEAD = new TextEncoder().encode("FIN ");
const FIN_LENGTH = 21; // "FIN " + 16-byte id + "\n"
/** Message frame data: [8-byte timestamp][2-byte attempts][16-byte id][body]. */
const ID_AT = 10;
const BODY_AT = 26;

/** The value at quantile q of ascending samples. */
function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export interface LatencyResult {
  measured: number;
  /** Latencies in µs. */
  p50: number;
  p99: number;
  p999: number;
}

/** One V2 consumer connection (RawConn) recording publish-to-delivery latency. */
export class LatencyConsumer {
  /** Latency of each recorded message, in µs. */
  readonly samples: Float64Array;
  /** Its send stamp, with --dump only: to line the tail up with GC logs. */
  readonly sends: Float64Array | null;
  measured = 0;
  windowFrom = Infinity;
  windowTo = Infinity;
  private conn: RawConn | null = null;
  /** FINs of one read, written together at the end of it (at most RDY are pending). */
  private readonly fins: Uint8Array;
  private finLength = 0;
  private readonly flushFins = () => {
    void this.conn!.write(this.fins.subarray(0, this.finLength)); // copied if it has to wait
    this.finLength = 0;
  };
  private readonly stampBytes = new Uint8Array(8);
  private readonly stampView = new DataView(this.stampBytes.buffer);

  constructor(maxSamples: number, rdy: number, keepSendTimes = false) {
    this.samples = new Float64Array(maxSamples);
    this.fins = new Uint8Array(FIN_LENGTH * rdy);
    this.sends = keepSendTimes ? new Float64Array(maxSamples) : null;
  }

  /** Connects with an empty IDENTIFY (nsqd's default output buffering), SUB, then RDY. */
  async subscribe(port: number, topic: string, channel: string, rdy: number): Promise<void> {
    this.conn = await RawConn.connect(port, (data) => this.message(data));
    await this.conn.request(commandWithBody("IDENTIFY", new TextEncoder().encode("{}")));
    await this.conn.request(command(`SUB ${topic} ${channel}`));
    await this.conn.write(command(`RDY ${rdy}`));
  }

  close(): void {
    this.conn?.close();
  }

  /** `data` is the message frame's data: [8-byte timestamp][2-byte attempts][16-byte id][body]. */
  private message(data: Uint8Array): void {
    const now = epochUs();
    const stamp = this.stampBytes;
    for (let i = 0; i < 8; i++) stamp[i] = data[BODY_AT + i]; // the body's first 8 bytes, without a view
    const sent = this.stampView.getFloat64(0);
    if (sent >= this.windowFrom && sent < this.windowTo && this.measured < this.samples.length) {
      if (this.sends !== null) this.sends[this.measured] = sent;
      this.samples[this.measured++] = now - sent;
    }
    if (this.finLength === 0) queueMicrotask(this.flushFins);
    const fins = this.fins;
    const at = this.finLength;
    fins.set(FIN_HEAD, at);
    for (let i = 0; i < 16; i++) fins[at + 4 + i] = data[ID_AT + i];
    fins[at + 20] = 0x0a;
    this.finLength = at + FIN_LENGTH;
  }

  /** Waits until no message arrived for `quietMs`, then takes percentiles of what was recorded. */
  async finish(quietMs = 200): Promise<LatencyResult> {
    for (let last = -1; last !== this.measured; ) {
      last = this.measured;
      await Bun.sleep(quietMs);
    }
    const sorted = this.samples.slice(0, this.measured).sort(); // a copy: samples stay in arrival order
    return {
      measured: this.measured,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      p999: percentile(sorted, 0.999),
    };
  }
}

export interface LatencyConsumerSpec {
  port: number;
  topic: string;
  channel: string;
  rdy: number;
  /** Room for this many samples; later messages are not recorded. */
  maxSamples: number;
  /** --dump=<file>, or none. */
  dump?: string;
}

/** The parent's side: this file run as a child process, spoken to in lines. */
export class LatencyConsumerProcess {
  private readonly lines: AsyncGenerator<string>;

  private constructor(private readonly proc: Subprocess<"pipe", "pipe", "inherit">) {
    this.lines = readLines(proc.stdout);
  }

  /** Spawns the consumer and resolves once it is subscribed with its RDY sent. */
  static async start(spec: LatencyConsumerSpec): Promise<LatencyConsumerProcess> {
    const args = [
      `--port=${spec.port}`,
      `--topic=${spec.topic}`,
      `--channel=${spec.channel}`,
      `--rdy=${spec.rdy}`,
      `--max-samples=${spec.maxSamples}`,
      ...(spec.dump === undefined ? [] : [`--dump=${spec.dump}`]),
    ];
    const proc = Bun.spawn(["bun", import.meta.path, ...args], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    const c = new LatencyConsumerProcess(proc);
    try {
      const line = await c.nextLine();
      if (line !== "ready") throw new Error(`latency consumer: unexpected "${line}"`);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Records the messages whose send stamp (epochUs) is in [fromUs, toUs). */
  window(fromUs: number, toUs: number): void {
    this.proc.stdin.write(`window ${fromUs} ${toUs}\n`);
    this.proc.stdin.flush();
  }

  /** Tells it the producer stopped; resolves with its figures once the last messages arrived. */
  async finish(): Promise<LatencyResult> {
    this.proc.stdin.write("done\n");
    this.proc.stdin.flush();
    return JSON.parse(await this.nextLine()) as LatencyResult;
  }

  /** Ends the child, whatever state it is in. */
  async stop(): Promise<void> {
    this.proc.kill();
    await this.proc.exited;
  }

  private async nextLine(): Promise<string> {
    const next = await this.lines.next();
    if (next.done) throw new Error(`latency consumer exited with ${await this.proc.exited}`);
    return next.value;
  }
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const dec = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    text += dec.decode(chunk, { stream: true });
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n")) {
      yield text.slice(0, nl);
      text = text.slice(nl + 1);
    }
  }
}

/** (send stamp, latency) per recorded message, in arrival order, as float64 pairs. */
function dumpPairs(c: LatencyConsumer): Float64Array {
  const pairs = new Float64Array(c.measured * 2);
  for (let i = 0; i < c.measured; i++) {
    pairs[2 * i] = c.sends![i];
    pairs[2 * i + 1] = c.samples[i];
  }
  return pairs;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      topic: { type: "string" },
      channel: { type: "string", default: "ch" },
      rdy: { type: "string", default: "2500" },
      "max-samples": { type: "string" },
      dump: { type: "string" },
    },
  });
  const rdy = Number(values.rdy);
  const consumer = new LatencyConsumer(Number(values["max-samples"]), rdy, values.dump !== undefined);
  await consumer.subscribe(Number(values.port), values.topic!, values.channel!, rdy);
  console.log("ready");
  for await (const line of console) {
    const [word, from, to] = line.trim().split(" ");
    if (word === "window") {
      consumer.windowFrom = Number(from);
      consumer.windowTo = Number(to);
    } else if (word === "done") {
      const result = await consumer.finish();
      if (values.dump !== undefined) await Bun.write(values.dump, dumpPairs(consumer));
      console.log(JSON.stringify(result));
      break;
    }
  }
  consumer.close();
  process.exit(0);
}

if (import.meta.main) await main();
