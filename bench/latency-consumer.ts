#!/usr/bin/env bun
/**
 * The consumer of the suite's latency measurement (suite-cases.ts `latency()`),
 * run as its own process as NSQ's bench tools are, so that the producer's timer,
 * MPUB building and GC in the suite process never delay a receive timestamp.
 *
 * It subscribes with an empty IDENTIFY and RDY --rdy, FINs every message, and
 * records now − (the send time stamped in the first 8 bytes of the body) for
 * each message sent inside the window. It allocates nothing per message: frames
 * are parsed in place from Bun's chunk, FINs go to one preallocated buffer, so
 * its own GC is left with Bun's read buffers (~20 eden pauses of ~0.6 ms in the
 * 5 s window at 100k msgs/s).
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
import type { Socket, Subprocess } from "bun";
import { parseArgs } from "node:util";
import { FRAME_TYPE_MESSAGE, FRAME_TYPE_RESPONSE, readInt32BE, writeUint32BE } from "../src/protocol/frames.ts";
import { epochUs } from "./suite-profile.ts";

const FIN_LENGTH = 21; // "FIN " + 16-byte id + "\n"
/** Message frame data: [8-byte timestamp][2-byte attempts][16-byte id][body]. */
const ID_AT = 10;
const BODY_AT = 26;
/** A response frame's data "_heartbeat_" is told from "OK" by its length alone. */
const HEARTBEAT_LENGTH = 11;
const enc = new TextEncoder();
const NOP = enc.encode("NOP\n");

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

/** One V2 consumer connection recording publish-to-delivery latency without allocating per message. */
export class LatencyConsumer {
  /** Latency of each recorded message, in µs. */
  readonly samples: Float64Array;
  /** Its send stamp, with --dump only: to line the tail up with GC logs. */
  readonly sends: Float64Array | null;
  measured = 0;
  windowFrom = Infinity;
  windowTo = Infinity;
  private socket!: Socket<undefined>;
  /** Bytes of a frame split across chunks (grown only for a frame larger than it). */
  private carry = new Uint8Array(1 << 16);
  private carried = 0;
  /** FINs and NOPs not yet taken by the socket: at most RDY FINs are ever pending. */
  private readonly out: Uint8Array;
  private outLength = 0;
  private readonly stampBytes = new Uint8Array(8);
  private readonly stampView = new DataView(this.stampBytes.buffer);
  private readonly okWaiters: { ok: () => void; fail: (e: Error) => void }[] = [];
  /** The receive stamp of the chunk being parsed. */
  private now = 0;

  constructor(maxSamples: number, rdy: number, keepSendTimes = false) {
    this.samples = new Float64Array(maxSamples);
    this.out = new Uint8Array(FIN_LENGTH * rdy + 64);
    this.sends = keepSendTimes ? new Float64Array(maxSamples) : null;
  }

  /** Connects, sends the magic, an empty IDENTIFY and SUB, and then RDY. */
  async subscribe(port: number, topic: string, channel: string, rdy: number): Promise<void> {
    this.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_s, chunk) => this.onData(chunk),
        drain: () => this.flush(),
        close: () => this.failWaiters(new Error("connection closed")),
        error: (_s, e) => this.failWaiters(e),
      },
    });
    const identify = new Uint8Array(9 + 4 + 2);
    identify.set(enc.encode("IDENTIFY\n"));
    writeUint32BE(identify, 9, 2);
    identify.set(enc.encode("{}"), 13);
    this.socket.write(enc.encode("  V2"));
    await this.request(identify);
    await this.request(enc.encode(`SUB ${topic} ${channel}\n`));
    this.send(enc.encode(`RDY ${rdy}\n`));
  }

  close(): void {
    this.socket?.terminate();
  }

  private request(data: Uint8Array): Promise<void> {
    const answered = new Promise<void>((ok, fail) => this.okWaiters.push({ ok, fail }));
    this.send(data);
    return answered;
  }

  private failWaiters(e: Error): void {
    for (const w of this.okWaiters.splice(0)) w.fail(e);
  }

  private onData(chunk: Uint8Array): void {
    // every frame of a chunk arrived together: one receive stamp for all of them
    this.now = epochUs();
    if (this.carried === 0) {
      const used = this.parse(chunk, chunk.length);
      if (used < chunk.length) this.keep(chunk, used);
    } else {
      this.keep(chunk, 0);
      const used = this.parse(this.carry, this.carried);
      this.carry.copyWithin(0, used, this.carried);
      this.carried -= used;
    }
    this.flush();
  }

  /** Appends buf[from..] to the carry buffer. */
  private keep(buf: Uint8Array, from: number): void {
    const need = this.carried + buf.length - from;
    if (need > this.carry.length) {
      const grown = new Uint8Array(Math.max(need, this.carry.length * 2));
      grown.set(this.carry.subarray(0, this.carried));
      this.carry = grown;
    }
    this.carry.set(from === 0 ? buf : buf.subarray(from), this.carried);
    this.carried = need;
  }

  /** Handles the complete frames in buf[0, length); returns the bytes they took. */
  private parse(buf: Uint8Array, length: number): number {
    let pos = 0;
    while (length - pos >= 8) {
      const size = readInt32BE(buf, pos);
      if (size < 4) throw new Error(`invalid frame size ${size}`);
      if (length - pos < 4 + size) break;
      const type = readInt32BE(buf, pos + 4);
      const data = pos + 8;
      if (type === FRAME_TYPE_MESSAGE) this.message(buf, data);
      else if (type === FRAME_TYPE_RESPONSE && size - 4 === HEARTBEAT_LENGTH) this.send(NOP);
      else if (type === FRAME_TYPE_RESPONSE) this.okWaiters.shift()?.ok();
      else throw new Error(`nsqd error: ${new TextDecoder().decode(buf.subarray(data, pos + 4 + size))}`);
      pos += 4 + size;
    }
    return pos;
  }

  private message(buf: Uint8Array, data: number): void {
    const stamp = this.stampBytes;
    for (let i = 0; i < 8; i++) stamp[i] = buf[data + BODY_AT + i];
    const sent = this.stampView.getFloat64(0);
    if (sent >= this.windowFrom && sent < this.windowTo && this.measured < this.samples.length) {
      if (this.sends !== null) this.sends[this.measured] = sent;
      this.samples[this.measured++] = this.now - sent;
    }
    // byte by byte: no subarray views
    const out = this.out;
    let at = this.outLength;
    out[at] = 0x46; // F
    out[at + 1] = 0x49; // I
    out[at + 2] = 0x4e; // N
    out[at + 3] = 0x20;
    at += 4;
    for (let i = 0; i < 16; i++) out[at + i] = buf[data + ID_AT + i];
    out[at + 16] = 0x0a;
    this.outLength = at + 17;
  }

  /** Queues bytes behind the pending FINs and writes them. */
  private send(bytes: Uint8Array): void {
    this.out.set(bytes, this.outLength);
    this.outLength += bytes.length;
    this.flush();
  }

  /** Writes what is pending; the socket's drain event calls it again for the rest. */
  private flush(): void {
    if (this.outLength === 0) return;
    const written = this.socket.write(this.out.subarray(0, this.outLength));
    if (written <= 0) return;
    this.out.copyWithin(0, written, this.outLength);
    this.outLength -= written;
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
