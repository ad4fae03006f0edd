/**
 * A minimal V2 connection for the suite's own clients: writes bytes (waiting for
 * drain when the socket is full), hands responses to waiters in order, and passes
 * message frames to a callback with the message's data as a view.
 */
import type { Socket } from "bun";
import { FrameDecoder } from "../src/protocol/frame-decoder.ts";
import { FRAME_TYPE_MESSAGE, FRAME_TYPE_RESPONSE, writeUint32BE } from "../src/protocol/frames.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const HEARTBEAT = "_heartbeat_";

export class RawConn {
  private socket!: Socket<undefined>;
  private readonly waiters: { ok: () => void; fail: (e: Error) => void }[] = [];
  private readonly queued: Uint8Array[] = [];
  private flushing: Promise<void> | null = null;
  private drained: (() => void) | null = null;
  private closed = false;
  /** The last error frame nobody waited for (pipelined publishes). */
  lastError: Error | null = null;

  private constructor(private readonly onMessage: (data: Uint8Array) => void) {}

  static async connect(port: number, onMessage: (data: Uint8Array) => void = () => {}): Promise<RawConn> {
    const c = new RawConn(onMessage);
    const decoder = new FrameDecoder((type, data) => c.frame(type, data));
    c.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_s, chunk) => decoder.feed(chunk),
        drain: () => c.drain(),
        close: () => c.fail(new Error("connection closed")),
        error: (_s, e) => c.fail(e),
      },
    });
    await c.write(enc.encode("  V2"));
    return c;
  }

  private frame(type: number, data: Uint8Array): void {
    if (type === FRAME_TYPE_MESSAGE) return this.onMessage(data);
    if (type === FRAME_TYPE_RESPONSE && dec.decode(data) === HEARTBEAT) {
      void this.write(enc.encode("NOP\n"));
      return;
    }
    const w = this.waiters.shift();
    if (type !== FRAME_TYPE_RESPONSE) {
      const e = new Error(`nsqd error: ${dec.decode(data)}`);
      if (w) w.fail(e);
      else this.lastError = e;
    } else w?.ok();
  }

  private fail(e: Error): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.fail(e);
    this.drain();
  }

  private drain(): void {
    const d = this.drained;
    this.drained = null;
    d?.();
  }

  /**
   * Writes all of data, in order after anything still queued; resolves at once
   * unless the socket is full. What waits is copied, so callers may reuse buffers.
   */
  write(data: Uint8Array): Promise<void> | void {
    if (this.queued.length > 0) {
      this.queued.push(data.slice());
      return this.flushing!;
    }
    const n = this.socket.write(data);
    if (n >= data.length) return;
    this.queued.push(data.slice(Math.max(n, 0)));
    this.flushing = this.flushQueued();
    return this.flushing;
  }

  private async flushQueued(): Promise<void> {
    while (this.queued.length > 0) {
      if (this.closed) break; // what is left cannot be sent; waiters have failed already
      await new Promise<void>((r) => (this.drained = r));
      while (this.queued.length > 0) {
        const head = this.queued[0];
        const n = this.socket.write(head);
        if (n < head.length) {
          this.queued[0] = head.subarray(Math.max(n, 0));
          break;
        }
        this.queued.shift();
      }
    }
    this.queued.length = 0;
    this.flushing = null;
  }

  /** Sends a command and resolves on its OK (responses come back in order). */
  async request(data: Uint8Array): Promise<void> {
    const answered = new Promise<void>((ok, fail) => this.waiters.push({ ok, fail }));
    await this.write(data);
    await answered;
  }

  close(): void {
    this.closed = true;
    this.socket.terminate();
  }
}

/** "NAME\n" + 4-byte size + body, e.g. IDENTIFY or PUB. */
export function commandWithBody(line: string, body: Uint8Array): Uint8Array {
  const head = enc.encode(`${line}\n`);
  const out = new Uint8Array(head.length + 4 + body.length);
  out.set(head);
  writeUint32BE(out, head.length, body.length);
  out.set(body, head.length + 4);
  return out;
}

export function command(line: string): Uint8Array {
  return enc.encode(`${line}\n`);
}

/**
 * An MPUB of up to `max` messages of `size` bytes, rewritten in place: `frame(n)`
 * returns the command for the first n bodies after `fill` has set each of them.
 */
export class MpubBuilder {
  private readonly buf: Uint8Array;
  private readonly headLength: number;
  private readonly view: DataView;

  constructor(topic: string, private readonly size: number, max: number) {
    const head = enc.encode(`MPUB ${topic}\n`);
    this.headLength = head.length;
    this.buf = new Uint8Array(head.length + 8 + max * (4 + size)).fill(0x61);
    this.buf.set(head);
    this.view = new DataView(this.buf.buffer);
  }

  /** Writes a float64 at the start of message i's body. */
  stamp(i: number, value: number): void {
    this.view.setFloat64(this.headLength + 8 + i * (4 + this.size) + 4, value);
  }

  frame(n: number): Uint8Array {
    const h = this.headLength;
    writeUint32BE(this.buf, h, 4 + n * (4 + this.size));
    writeUint32BE(this.buf, h + 4, n);
    for (let i = 0; i < n; i++) writeUint32BE(this.buf, h + 8 + i * (4 + this.size), this.size);
    return this.buf.subarray(0, h + 8 + n * (4 + this.size));
  }
}
