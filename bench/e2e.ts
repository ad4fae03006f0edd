#!/usr/bin/env bun
/**
 * End-to-end throughput in the shape of NSQ's bench_writer / bench_reader: nsqd runs
 * in its own process; writers publish MPUB batches of `--batch-size` messages of
 * `--size` bytes for `--runfor` seconds (one synchronous connection per core), then
 * readers (RDY `--rdy`) consume the backlog and FIN every message.
 *
 *   bun bench/e2e.ts [--runfor=5] [--size=200] [--batch-size=200] [--rdy=2500] [--conns=2]
 *                    [--nsqd-arg=--mem-queue-size=0 ...]
 */
import type { Socket } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FrameDecoder } from "../src/protocol/frame-decoder.ts";
import { FRAME_TYPE_MESSAGE } from "../src/protocol/frames.ts";
import { mpub } from "../src/client/commands.ts";
import { freePort, waitListening } from "../test/helpers/process.ts";

const args = new Map<string, string[]>();
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)=(.*)$/.exec(a);
  if (!m) throw new Error(`bad argument ${a} (use --name=value)`);
  args.set(m[1], [...(args.get(m[1]) ?? []), m[2]]);
}
const num = (name: string, dflt: number) => Number(args.get(name)?.[0] ?? dflt);
const runfor = num("runfor", 5);
const size = num("size", 200);
const batchSize = num("batch-size", 200);
const rdy = num("rdy", 2500);
const conns = num("conns", 2);
const nsqdArgs = args.get("nsqd-arg") ?? ["--mem-queue-size=100000000"];
const topic = `bench_${Date.now()}`;
/** nsqd's data goes to a temp dir, removed at the end. */
const dataPath = mkdtempSync(join(tmpdir(), "bunsq-e2e-"));

async function startNsqd(port: number) {
  const proc = Bun.spawn(
    [
      "bun",
      `${import.meta.dir}/../src/cli/nsqd.ts`,
      `--tcp-address=127.0.0.1:${port}`,
      "--http-address=127.0.0.1:0",
      `--data-path=${dataPath}`,
      "--log-level=warn",
      ...nsqdArgs,
    ],
    { stdout: "inherit", stderr: "inherit" },
  );
  try {
    await waitListening(port, proc);
  } catch (err) {
    proc.kill();
    throw err;
  }
  return proc;
}


/** Writes all of data, waiting for drain when the socket is full. */
class Writer {
  private pending: Uint8Array | null = null;
  private resume: (() => void) | null = null;
  constructor(private readonly socket: Socket<unknown>) {}
  async write(data: Uint8Array): Promise<void> {
    let n = this.socket.write(data);
    while (n < data.length) {
      this.pending = data.subarray(Math.max(n, 0));
      await new Promise<void>((r) => (this.resume = r));
      data = this.pending;
      n = this.socket.write(data);
    }
  }
  drained(): void {
    this.resume?.();
    this.resume = null;
  }
}

async function writerWorker(port: number, deadline: number): Promise<number> {
  const frame = mpub(topic, Array.from({ length: batchSize }, () => new Uint8Array(size).fill(0x61)));
  let answered: (() => void) | null = null;
  const decoder = new FrameDecoder((type, data) => {
    if (type !== 0 || data[0] === 0x5f /* _heartbeat_ */) {
      if (type !== 0) throw new Error(`publish failed: ${new TextDecoder().decode(data)}`);
      return;
    }
    answered?.();
  });
  let writer!: Writer;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: { data: (_s, chunk) => decoder.feed(chunk), drain: () => writer.drained() },
  });
  writer = new Writer(socket);
  await writer.write(new TextEncoder().encode("  V2"));
  let sent = 0;
  while (Date.now() < deadline) {
    const ok = new Promise<void>((r) => (answered = r));
    await writer.write(frame);
    await ok;
    sent += batchSize;
  }
  socket.end();
  return sent;
}

const FIN_LENGTH = 21; // "FIN " + 16-byte id + "\n"
const NOP = new TextEncoder().encode("NOP\n");

/**
 * A reader's outgoing commands, encoded straight into bytes (no string per FIN) and
 * written once per incoming chunk; what the socket does not take waits for drain.
 */
class CommandOut {
  private buf = new Uint8Array(64 * 1024);
  private length = 0;
  constructor(private readonly socket: () => Socket<unknown>) {}

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }

  fin(id: Uint8Array): void {
    this.reserve(FIN_LENGTH);
    const buf = this.buf;
    const p = this.length;
    buf[p] = 0x46; // F
    buf[p + 1] = 0x49; // I
    buf[p + 2] = 0x4e; // N
    buf[p + 3] = 0x20;
    buf.set(id, p + 4);
    buf[p + 20] = 0x0a;
    this.length = p + FIN_LENGTH;
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  flush(): void {
    if (this.length === 0) return;
    const n = this.socket().write(this.buf.subarray(0, this.length));
    if (n <= 0) return;
    this.buf.copyWithin(0, n, this.length);
    this.length -= n;
  }
}

/** Consumes and FINs into `counter` (live, so all readers can see the total) until stopAt. */
async function readerWorker(port: number, counter: { n: number }, stopAt: () => boolean): Promise<void> {
  let socket!: Socket<unknown>;
  const out = new CommandOut(() => socket);
  let done: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const decoder = new FrameDecoder((type, data) => {
    if (type !== FRAME_TYPE_MESSAGE) {
      if (type === 0 && data[0] === 0x5f) out.bytes(NOP);
      return;
    }
    counter.n++;
    out.fin(data.subarray(10, 26));
  });
  socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data: (_s, chunk) => {
        decoder.feed(chunk);
        out.flush();
        if (stopAt()) done();
      },
      drain: () => out.flush(),
    },
  });
  socket.write(`  V2SUB ${topic} ch\nRDY ${rdy}\n`);
  const poll = setInterval(() => stopAt() && done(), 50);
  await finished;
  clearInterval(poll);
  socket.end();
}

const port = await freePort();
const nsqd = await startNsqd(port);
try {
  // create the channel first so the backlog is the channel's, as with nsq's bench
  const setup = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
  setup.write(`  V2SUB ${topic} ch\n`);
  await Bun.sleep(100);
  setup.end();

  const t0 = performance.now();
  const deadline = Date.now() + runfor * 1000;
  const counts = await Promise.all(Array.from({ length: conns }, () => writerWorker(port, deadline)));
  const wrote = counts.reduce((a, b) => a + b, 0);
  const wSecs = (performance.now() - t0) / 1000;
  const line = (what: string, n: number, secs: number) =>
    console.log(
      `${what}: duration: ${secs.toFixed(3)}s - ${((n * size) / secs / 1048576).toFixed(3)}mb/s - ${Math.round(n / secs)}ops/s - ${((secs * 1e6) / n).toFixed(3)}us/op`,
    );
  line("[bench_writer]", wrote, wSecs);

  const counters = Array.from({ length: conns }, () => ({ n: 0 }));
  const t1 = performance.now();
  const stopAt = () =>
    counters.reduce((a, c) => a + c.n, 0) >= wrote || performance.now() - t1 > runfor * 4000;
  await Promise.all(counters.map((counter) => readerWorker(port, counter, stopAt)));
  const read = counters.reduce((a, c) => a + c.n, 0);
  line("[bench_reader]", read, (performance.now() - t1) / 1000);
} finally {
  nsqd.kill("SIGTERM");
  await nsqd.exited;
  rmSync(dataPath, { recursive: true, force: true });
}
