#!/usr/bin/env bun
/**
 * End-to-end throughput of the negotiated transports next to plain TCP, in one
 * run: nsqd in its own process with a certificate generated for the run; for each
 * mode, writers publish MPUB batches for `--runfor` seconds, then readers consume
 * the backlog and FIN every message. Each mode runs `--runs` times (interleaved);
 * the median is reported with its ratio to plain TCP. The client side uses
 * Bun's TLS and bunsq's own codecs.
 *
 *   bun bench/features.ts [--runfor=2] [--runs=3] [--size=200] [--batch-size=200] [--rdy=2500] [--conns=2]
 */
import type { Socket } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StreamCodec } from "../src/compress/codec.ts";
import { SnappyStream } from "../src/compress/snappy-stream.ts";
import { DeflateStream } from "../src/compress/sync-zlib.ts";
import { FrameDecoder } from "../src/protocol/frame-decoder.ts";
import { FRAME_TYPE_MESSAGE, FRAME_TYPE_RESPONSE, writeUint32BE } from "../src/protocol/frames.ts";
import { mpub } from "../src/client/commands.ts";
import { freePort, waitListening } from "../test/helpers/process.ts";

const args = new Map<string, string>();
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)=(.*)$/.exec(a);
  if (!m) throw new Error(`bad argument ${a} (use --name=value)`);
  args.set(m[1], m[2]);
}
const num = (name: string, dflt: number) => Number(args.get(name) ?? dflt);
const runfor = num("runfor", 2);
const runs = num("runs", 3);
const size = num("size", 200);
const batchSize = num("batch-size", 200);
const rdy = num("rdy", 2500);
const conns = num("conns", 2);

interface Mode {
  name: string;
  tls: boolean;
  compression: "" | "snappy" | "deflate";
}
const MODES: Mode[] = [
  { name: "plain TCP", tls: false, compression: "" },
  { name: "TLS", tls: true, compression: "" },
  { name: "snappy", tls: false, compression: "snappy" },
  { name: "deflate (level 6)", tls: false, compression: "deflate" },
  { name: "TLS + snappy", tls: true, compression: "snappy" },
];

const dir = mkdtempSync(join(tmpdir(), "bunsq-features-"));

function makeCert(): void {
  const r = Bun.spawnSync(
    ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem",
      "-out", "cert.pem", "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
    { cwd: dir, stderr: "pipe" },
  );
  if (r.exitCode !== 0) throw new Error(`openssl failed: ${r.stderr.toString()}`);
}

async function startNsqd(port: number) {
  const proc = Bun.spawn(
    ["bun", `${import.meta.dir}/../src/cli/nsqd.ts`, `--tcp-address=127.0.0.1:${port}`, "--http-address=127.0.0.1:0",
      "--https-address=127.0.0.1:0", `--data-path=${dir}`, "--log-level=warn", "--mem-queue-size=100000000",
      `--tls-cert=${dir}/cert.pem`, `--tls-key=${dir}/key.pem`],
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

/** Message bodies like application events: some structure, some entropy (so compression has real work). */
function body(i: number): Uint8Array {
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(40)), (b) => b.toString(16).padStart(2, "0")).join("");
  const text = `{"id":${i},"user":"user-${i % 977}","event":"page_view","path":"/products/${i % 131}","trace":"${hex}"}`;
  return new TextEncoder().encode(text.padEnd(size, " ").slice(0, size));
}

/**
 * One V2 connection that negotiates the mode (IDENTIFY response in plain text,
 * TLS handshake + OK, compression + OK) and then hands frames to onFrame.
 */
class Conn {
  private socket!: Socket<undefined>;
  private codec: StreamCodec | null = null;
  /** Frames that still arrive uncompressed (the IDENTIFY response, TLS's OK) before the codec applies. */
  private plainFrames = 0;
  private readonly decoder: FrameDecoder;
  private waiting: ((f: { type: number; data: Uint8Array }) => void) | null = null;
  /** Frames of the negotiation that arrived before they were asked for. */
  private early: { type: number; data: Uint8Array }[] = [];
  private negotiating = true;
  private pending: Uint8Array[] = [];
  private drained: (() => void) | null = null;
  onFrame: (type: number, data: Uint8Array) => void = () => {};

  private constructor() {
    this.decoder = new FrameDecoder((type, data) => {
      const w = this.waiting;
      if (w !== null) {
        this.waiting = null;
        w({ type, data: data.slice() });
      } else if (this.negotiating) this.early.push({ type, data: data.slice() });
      else this.onFrame(type, data);
    });
  }

  private readonly handlers = {
    data: (s: Socket<undefined>, chunk: Uint8Array) => {
      // after the TLS upgrade the raw socket still reports the encrypted bytes
      if (s !== this.socket) return;
      let rest = chunk;
      while (this.plainFrames > 0 && rest.length >= 4) {
        const end = 4 + new DataView(rest.buffer, rest.byteOffset).getUint32(0);
        this.decoder.feed(rest.subarray(0, end));
        rest = rest.subarray(end);
        this.plainFrames--;
      }
      if (rest.length === 0) return;
      if (this.codec === null || this.plainFrames > 0) this.decoder.feed(rest);
      else this.codec.decode(rest, (b) => this.decoder.feed(b));
    },
    drain: () => this.flushPending(),
  };

  private nextFrame(): Promise<{ type: number; data: Uint8Array }> {
    const f = this.early.shift();
    if (f !== undefined) return Promise.resolve(f);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  static async open(port: number, mode: Mode): Promise<Conn> {
    const c = new Conn();
    if (mode.compression !== "") {
      c.codec = mode.compression === "snappy" ? new SnappyStream() : new DeflateStream(6);
      c.plainFrames = mode.tls ? 2 : 1;
    }
    c.socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: c.handlers });
    const identify = JSON.stringify({
      feature_negotiation: true,
      tls_v1: mode.tls,
      snappy: mode.compression === "snappy",
      deflate: mode.compression === "deflate",
    });
    const response = c.nextFrame();
    c.socket.write(`  V2IDENTIFY\n`);
    const len = new Uint8Array(4);
    writeUint32BE(len, 0, identify.length);
    c.socket.write(len);
    c.socket.write(identify);
    await response;
    if (mode.tls) {
      const ok = c.nextFrame();
      const [, tls] = c.socket.upgradeTLS<undefined>({ tls: { rejectUnauthorized: false }, socket: c.handlers });
      c.socket = tls;
      await ok;
    }
    if (mode.compression !== "") await c.nextFrame();
    c.negotiating = false;
    return c;
  }

  /** Writes (through the codec), resolving once the socket took everything. */
  async write(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    this.pending.push(this.codec === null || this.plainFrames > 0 ? bytes : this.codec.encode(bytes));
    this.flushPending();
    while (this.pending.length > 0) await new Promise<void>((r) => (this.drained = r));
  }

  private flushPending(): void {
    while (this.pending.length > 0) {
      const b = this.pending[0];
      const n = this.socket.write(b);
      if (n < b.length) {
        this.pending[0] = b.subarray(Math.max(n, 0));
        return;
      }
      this.pending.shift();
    }
    this.drained?.();
    this.drained = null;
  }

  end(): void {
    this.socket.end();
  }
}

async function writer(port: number, mode: Mode, topic: string, deadline: number): Promise<number> {
  const frame = mpub(topic, Array.from({ length: batchSize }, (_, i) => body(i)));
  const c = await Conn.open(port, mode);
  let answered: (() => void) | null = null;
  c.onFrame = (type, data) => {
    if (type !== FRAME_TYPE_RESPONSE) throw new Error(`publish failed: ${new TextDecoder().decode(data)}`);
    if (data[0] !== 0x5f) answered?.();
  };
  let sent = 0;
  while (Date.now() < deadline) {
    const ok = new Promise<void>((r) => (answered = r));
    await c.write(frame);
    await ok;
    sent += batchSize;
  }
  c.end();
  return sent;
}

async function reader(port: number, mode: Mode, topic: string, counter: { n: number }, stop: () => boolean) {
  const c = await Conn.open(port, mode);
  const fins: Uint8Array[] = [];
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  const flush = () => {
    if (fins.length === 0) return;
    const all = new Uint8Array(fins.length * 21);
    for (let i = 0; i < fins.length; i++) all.set(fins[i], i * 21);
    fins.length = 0;
    void c.write(all);
  };
  let scheduled = false;
  c.onFrame = (type, data) => {
    if (type !== FRAME_TYPE_MESSAGE) return;
    counter.n++;
    const fin = new Uint8Array(21);
    fin.set([0x46, 0x49, 0x4e, 0x20]);
    fin.set(data.subarray(10, 26), 4);
    fin[20] = 0x0a;
    fins.push(fin);
    if (!scheduled) {
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        flush();
        if (stop()) finished();
      });
    }
  };
  await c.write(`SUB ${topic} ch\nRDY ${rdy}\n`);
  const poll = setInterval(() => stop() && finished(), 50);
  await done;
  clearInterval(poll);
  c.end();
}

async function measure(port: number, mode: Mode, run: number): Promise<{ in: number; out: number }> {
  const topic = `bench_${mode.compression || "none"}_${mode.tls ? "tls" : "tcp"}_${run}`;
  const setup = await Conn.open(port, { name: "", tls: false, compression: "" });
  await setup.write(`SUB ${topic} ch\n`);
  await Bun.sleep(50);
  setup.end();
  const t0 = performance.now();
  const deadline = Date.now() + runfor * 1000;
  const wrote = (await Promise.all(Array.from({ length: conns }, () => writer(port, mode, topic, deadline)))).reduce((a, b) => a + b, 0);
  const inRate = wrote / ((performance.now() - t0) / 1000);
  const counters = Array.from({ length: conns }, () => ({ n: 0 }));
  const t1 = performance.now();
  const stop = () => counters.reduce((a, c) => a + c.n, 0) >= wrote || performance.now() - t1 > runfor * 5000;
  await Promise.all(counters.map((counter) => reader(port, mode, topic, counter, stop)));
  const read = counters.reduce((a, c) => a + c.n, 0);
  return { in: inRate, out: read / ((performance.now() - t1) / 1000) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

makeCert();
const port = await freePort();
const nsqd = await startNsqd(port);
process.on("uncaughtException", (err) => {
  console.error(err);
  nsqd.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
try {
  const results = new Map<string, { in: number[]; out: number[] }>(MODES.map((m) => [m.name, { in: [], out: [] }]));
  for (let run = 0; run < runs; run++) {
    for (const mode of MODES) {
      const r = await measure(port, mode, run);
      console.error(`run ${run + 1}: ${mode.name}: ${Math.round(r.in)} in, ${Math.round(r.out)} out`);
      results.get(mode.name)!.in.push(r.in);
      results.get(mode.name)!.out.push(r.out);
    }
  }
  const plain = results.get("plain TCP")!;
  const [basePub, baseSub] = [median(plain.in), median(plain.out)];
  console.log(`${size}-byte messages, MPUB batches of ${batchSize}, RDY ${rdy}, ${conns} connections each way, median of ${runs}`);
  console.log("| transport | publish msgs/s | vs plain | consume msgs/s | vs plain |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const mode of MODES) {
    const r = results.get(mode.name)!;
    const [pub, sub] = [median(r.in), median(r.out)];
    console.log(
      `| ${mode.name} | ${Math.round(pub).toLocaleString("en")} | ${(pub / basePub).toFixed(2)} | ` +
        `${Math.round(sub).toLocaleString("en")} | ${(sub / baseSub).toFixed(2)} |`,
    );
  }
} finally {
  nsqd.kill("SIGTERM");
  await nsqd.exited;
  rmSync(dir, { recursive: true, force: true });
}
