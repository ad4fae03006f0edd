/**
 * A deliberately raw V2 client for protocol tests: writes exactly the bytes a test
 * gives it and exposes every frame the server sends, in order.
 */
import type { Socket } from "bun";
import { FrameDecoder, decodeMessageFrame, type MessageFrame } from "../../src/protocol/frame-decoder.ts";
import { FRAME_TYPE_ERROR, FRAME_TYPE_MESSAGE, FRAME_TYPE_RESPONSE, writeUint32BE } from "../../src/protocol/frames.ts";

export interface TestFrame {
  type: number;
  text: string;
  data: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

export function sizePrefixed(body: Uint8Array | string): Uint8Array {
  const b = typeof body === "string" ? bytes(body) : body;
  const out = new Uint8Array(4 + b.length);
  writeUint32BE(out, 0, b.length);
  out.set(b, 4);
  return out;
}

export function concatBytes(...parts: (Uint8Array | string)[]): Uint8Array {
  const arrays = parts.map((p) => (typeof p === "string" ? bytes(p) : p));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let pos = 0;
  for (const a of arrays) {
    out.set(a, pos);
    pos += a.length;
  }
  return out;
}

export function mpubBody(bodies: (Uint8Array | string)[]): Uint8Array {
  const count = new Uint8Array(4);
  writeUint32BE(count, 0, bodies.length);
  return concatBytes(count, ...bodies.map((b) => sizePrefixed(b)));
}

export class RawClient {
  private readonly frames: TestFrame[] = [];
  private waiters: (() => void)[] = [];
  private socket!: Socket<undefined>;
  closed = false;
  /** Heartbeats received (they are not queued as frames). */
  heartbeats = 0;
  private readonly decoder = new FrameDecoder((type, data) => {
    const copy = data.slice();
    if (type === FRAME_TYPE_RESPONSE && decoder.decode(copy) === "_heartbeat_") {
      this.heartbeats++;
      this.wake();
      return;
    }
    this.frames.push({ type, text: type === FRAME_TYPE_MESSAGE ? "" : decoder.decode(copy), data: copy });
    this.wake();
  });

  static async connect(port: number, magic: string | null = "  V2"): Promise<RawClient> {
    const client = new RawClient();
    client.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_s, chunk) => client.decoder.feed(chunk),
        drain: () => client.drain(),
        close: () => {
          client.closed = true;
          client.wake();
        },
        error: () => {
          client.closed = true;
          client.wake();
        },
      },
    });
    if (magic !== null) client.write(magic);
    return client;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async waitFor<T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Writes now what the socket takes and the rest on drain, in order. */
  write(data: Uint8Array | string): void {
    const b = typeof data === "string" ? bytes(data) : data;
    if (this.backlog.length > 0) {
      this.backlog.push(b);
      return;
    }
    const n = this.socket.write(b);
    if (n < b.length) this.backlog.push(b.subarray(Math.max(n, 0)));
  }

  private readonly backlog: Uint8Array[] = [];

  private drain(): void {
    while (this.backlog.length > 0) {
      const b = this.backlog[0];
      const n = this.socket.write(b);
      if (n < b.length) {
        this.backlog[0] = b.subarray(Math.max(n, 0));
        return;
      }
      this.backlog.shift();
    }
  }

  /** The next frame (heartbeats are only counted). */
  async frame(timeoutMs = 3000): Promise<TestFrame> {
    return this.waitFor(
      () => {
        if (this.frames.length > 0) return this.frames.shift()!;
        if (this.closed) throw new Error("connection closed while waiting for a frame");
        return undefined;
      },
      "a frame",
      timeoutMs,
    );
  }

  async response(timeoutMs?: number): Promise<string> {
    const f = await this.frame(timeoutMs);
    if (f.type !== FRAME_TYPE_RESPONSE) throw new Error(`expected a response, got type ${f.type}: ${f.text}`);
    return f.text;
  }

  async error(timeoutMs?: number): Promise<string> {
    const f = await this.frame(timeoutMs);
    if (f.type !== FRAME_TYPE_ERROR) throw new Error(`expected an error, got type ${f.type}: ${f.text}`);
    return f.text;
  }

  async message(timeoutMs?: number): Promise<MessageFrame> {
    const f = await this.frame(timeoutMs);
    if (f.type !== FRAME_TYPE_MESSAGE) throw new Error(`expected a message, got type ${f.type}: ${f.text}`);
    return decodeMessageFrame(f.data);
  }

  /** Resolves once `count` heartbeats have arrived in total. */
  async waitHeartbeats(count: number, timeoutMs = 5000): Promise<void> {
    await this.waitFor(() => (this.heartbeats >= count ? true : undefined), `${count} heartbeats`, timeoutMs);
  }

  /** Resolves when the server has closed the connection. */
  async waitClosed(timeoutMs = 3000): Promise<void> {
    await this.waitFor(() => (this.closed ? true : undefined), "the server to close the connection", timeoutMs);
  }

  /** True if no frame (other than heartbeats) arrives within ms. */
  async quiet(ms: number): Promise<boolean> {
    await Bun.sleep(ms);
    return this.frames.length === 0;
  }

  // ---- commands ----

  identify(data: Record<string, unknown>): void {
    this.write(concatBytes("IDENTIFY\n", sizePrefixed(JSON.stringify(data))));
  }
  sub(topic: string, channel: string): void {
    this.write(`SUB ${topic} ${channel}\n`);
  }
  rdy(n: number): void {
    this.write(`RDY ${n}\n`);
  }
  fin(id: string): void {
    this.write(`FIN ${id}\n`);
  }
  req(id: string, ms: number): void {
    this.write(`REQ ${id} ${ms}\n`);
  }
  touch(id: string): void {
    this.write(`TOUCH ${id}\n`);
  }
  pub(topic: string, body: Uint8Array | string): void {
    this.write(concatBytes(`PUB ${topic}\n`, sizePrefixed(body)));
  }
  dpub(topic: string, ms: number, body: Uint8Array | string): void {
    this.write(concatBytes(`DPUB ${topic} ${ms}\n`, sizePrefixed(body)));
  }
  mpub(topic: string, bodies: (Uint8Array | string)[]): void {
    this.write(concatBytes(`MPUB ${topic}\n`, sizePrefixed(mpubBody(bodies))));
  }

  /** SUB and wait for its OK. */
  async subscribe(topic: string, channel: string, rdy?: number): Promise<void> {
    this.sub(topic, channel);
    const r = await this.response();
    if (r !== "OK") throw new Error(`SUB answered ${r}`);
    if (rdy !== undefined) this.rdy(rdy);
  }

  /** PUB and wait for its OK. */
  async publish(topic: string, body: Uint8Array | string): Promise<void> {
    this.pub(topic, body);
    const r = await this.response();
    if (r !== "OK") throw new Error(`PUB answered ${r}`);
  }

  close(): void {
    if (!this.closed) this.socket.end();
    this.closed = true;
  }
}

