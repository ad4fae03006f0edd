/**
 * Byte-level state machine for NSQ's TCP protocols (V1 and V2 share the framing):
 * a 4-byte magic, then command lines ending in "\n" (an optional "\r" before it is
 * dropped), each optionally followed by a 4-byte big-endian size and that many body
 * bytes. Lines and bodies are handed out as views of the received chunk; only a
 * frame that is split across chunks is copied, once.
 */
import { readInt32BE } from "./frames.ts";

const NEWLINE = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const MAX_ARGS = 8;

/** One command line, described by offsets into a buffer that is valid during the callback only. */
export class CommandLine {
  buf: Uint8Array = new Uint8Array(0);
  /** Number of space-separated parameters including the command name (may exceed MAX_ARGS). */
  argc = 0;
  readonly argStart = new Int32Array(MAX_ARGS);
  readonly argEnd = new Int32Array(MAX_ARGS);

  set(buf: Uint8Array, start: number, end: number): void {
    this.buf = buf;
    let argc = 0;
    let argStart = start;
    for (let i = start; i <= end; i++) {
      if (i === end || buf[i] === SPACE) {
        if (argc < MAX_ARGS) {
          this.argStart[argc] = argStart;
          this.argEnd[argc] = i;
        }
        argc++;
        argStart = i + 1;
      }
    }
    this.argc = argc;
  }

  argLength(i: number): number {
    return i < this.argc && i < MAX_ARGS ? this.argEnd[i] - this.argStart[i] : 0;
  }

  /** Compares parameter i with an ASCII constant. */
  argIs(i: number, ascii: Uint8Array): boolean {
    if (i >= this.argc || i >= MAX_ARGS) return false;
    const s = this.argStart[i];
    if (this.argEnd[i] - s !== ascii.length) return false;
    for (let j = 0; j < ascii.length; j++) if (this.buf[s + j] !== ascii[j]) return false;
    return true;
  }

  /** Parameter i as a string; bytes above 0x7f are decoded as UTF-8. */
  arg(i: number): string {
    if (i >= this.argc || i >= MAX_ARGS) return "";
    return bytesToString(this.buf, this.argStart[i], this.argEnd[i]);
  }

  /** The whole line as text, for logs and error messages. */
  text(): string {
    const n = Math.min(this.argc, MAX_ARGS);
    return n === 0 ? "" : bytesToString(this.buf, this.argStart[0], this.argEnd[n - 1]);
  }
}

const utf8 = new TextDecoder("utf-8");

export function bytesToString(buf: Uint8Array, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (buf[i] > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (!ascii) return utf8.decode(buf.subarray(start, end));
  // short ASCII arguments (names, ids, counts): cheaper than a decoder call
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
  return s;
}

export interface CommandHandler {
  /** The 4 magic bytes. Return false to stop. */
  magic(bytes: Uint8Array): boolean;
  /** A complete line. Return true when a size-prefixed body follows it. Call stop() to end. */
  line(line: CommandLine): boolean;
  /** The body's declared size (signed). Call stop() to refuse it. */
  bodySize(size: number): void;
  /** The body, a view valid during the callback only unless the caller keeps it. */
  body(bytes: Uint8Array): void;
  /** The line grew past the limit without a newline. */
  lineTooLong(limit: number): void;
}

const enum State {
  Magic,
  Line,
  Size,
  Body,
  Stopped,
}

export class CommandParser {
  private state = State.Magic;
  /** Bytes of an incomplete magic, line or size kept from the previous chunk. */
  private partial: Uint8Array | null = null;
  private partialLength = 0;
  /** A body larger than what arrived so far, filled across chunks. */
  private bodyBuf: Uint8Array | null = null;
  private bodyFilled = 0;
  private bodyLength = 0;
  private readonly line = new CommandLine();
  /** Set by pause(): input waits here, unparsed, until resume(). */
  private held: Uint8Array[] | null = null;

  constructor(
    private readonly handler: CommandHandler,
    private readonly maxLineLength = 16 * 1024,
    expectMagic = true,
  ) {
    if (!expectMagic) this.state = State.Line;
  }

  /** Stops parsing for good (the connection is closing). */
  stop(): void {
    this.state = State.Stopped;
    this.held = null;
    this.partial = null;
    this.partialLength = 0;
    this.bodyBuf = null;
  }

  /**
   * Called from a handler callback: parsing stops after the current frame, and
   * what follows it (in this chunk and later ones) waits for resume().
   */
  pause(): void {
    if (this.held === null) this.held = [];
  }

  /** Parses the input held since pause(), unless a handler pauses again. */
  resume(): void {
    const held = this.held;
    this.held = null;
    if (held === null) return;
    for (let i = 0; i < held.length; i++) {
      if (this.held !== null || this.stopped) {
        for (let j = i; j < held.length; j++) this.hold(held[j], 0);
        return;
      }
      this.feed(held[i]);
    }
  }

  private hold(chunk: Uint8Array, pos: number): void {
    if (pos < chunk.length && !this.stopped) this.held!.push(pos === 0 ? chunk : chunk.slice(pos));
  }

  get stopped(): boolean {
    return this.state === State.Stopped;
  }

  feed(chunk: Uint8Array): void {
    if (this.held !== null) return this.hold(chunk, 0);
    let pos = 0;
    if (this.bodyBuf !== null) {
      pos = this.fillBody(chunk);
    } else if (this.partial !== null) {
      pos = this.completePartial(chunk);
      if (pos < 0) return;
    }
    if (this.held !== null) return this.hold(chunk, pos);
    if (!this.stopped && pos < chunk.length) this.run(chunk, pos);
  }

  /** Parses complete frames in buf from pos; keeps what is left of an incomplete one. */
  private run(buf: Uint8Array, pos: number): void {
    const len = buf.length;
    while (pos < len) {
      switch (this.state) {
        case State.Magic: {
          if (len - pos < 4) return this.keep(buf, pos);
          const ok = this.handler.magic(buf.subarray(pos, pos + 4));
          pos += 4;
          if (!ok) return this.stop();
          if (this.stopped) return;
          this.state = State.Line;
          break;
        }
        case State.Line: {
          const nl = buf.indexOf(NEWLINE, pos);
          if (nl < 0) {
            if (len - pos > this.maxLineLength) return this.tooLong();
            return this.keep(buf, pos);
          }
          if (nl - pos > this.maxLineLength) return this.tooLong();
          const end = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
          this.line.set(buf, pos, end);
          pos = nl + 1;
          const hasBody = this.handler.line(this.line);
          if (this.stopped) return;
          if (hasBody) this.state = State.Size;
          if (this.held !== null) return this.hold(buf, pos);
          break;
        }
        case State.Size: {
          if (len - pos < 4) return this.keep(buf, pos);
          const size = readInt32BE(buf, pos);
          pos += 4;
          this.handler.bodySize(size);
          if (this.stopped) return;
          if (size <= 0) {
            this.state = State.Line;
            break;
          }
          this.bodyLength = size;
          this.state = State.Body;
          break;
        }
        case State.Body: {
          const size = this.bodyLength;
          if (len - pos >= size) {
            const body = buf.subarray(pos, pos + size);
            pos += size;
            this.state = State.Line;
            this.handler.body(body);
            if (this.stopped) return;
            if (this.held !== null) return this.hold(buf, pos);
            break;
          }
          // split body: one copy into storage of its own, completed by later chunks
          const own = new Uint8Array(size);
          own.set(buf.subarray(pos, len));
          this.bodyBuf = own;
          this.bodyFilled = len - pos;
          return;
        }
        case State.Stopped:
          return;
      }
    }
  }

  private fillBody(chunk: Uint8Array): number {
    const bodyBuf = this.bodyBuf!;
    const n = Math.min(this.bodyLength - this.bodyFilled, chunk.length);
    bodyBuf.set(n === chunk.length ? chunk : chunk.subarray(0, n), this.bodyFilled);
    this.bodyFilled += n;
    if (this.bodyFilled === this.bodyLength) {
      this.bodyBuf = null;
      this.state = State.Line;
      this.handler.body(bodyBuf);
    }
    return n;
  }

  /**
   * Completes the magic, line or size begun in the previous chunk by copying just
   * the missing bytes, parses that piece, and returns where the rest of the chunk
   * starts (-1 when the chunk did not complete it).
   */
  private completePartial(chunk: Uint8Array): number {
    let take: number;
    if (this.state === State.Line) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl < 0) {
        if (this.partialLength + chunk.length > this.maxLineLength) this.tooLong();
        else this.appendPartial(chunk, chunk.length);
        return -1;
      }
      take = nl + 1;
    } else {
      take = 4 - this.partialLength;
      if (chunk.length < take) {
        this.appendPartial(chunk, chunk.length);
        return -1;
      }
    }
    this.appendPartial(chunk, take);
    const piece = this.partial!.subarray(0, this.partialLength);
    this.partial = null;
    this.partialLength = 0;
    this.run(piece, 0);
    return take;
  }

  /** Adds bytes to the kept partial frame, growing it by doubling (a slow sender must not cost O(n²)). */
  private appendPartial(chunk: Uint8Array, take: number): void {
    let partial = this.partial!;
    const need = this.partialLength + take;
    if (partial.length < need) {
      const grown = new Uint8Array(Math.max(need, partial.length * 2));
      grown.set(partial.subarray(0, this.partialLength));
      this.partial = partial = grown;
    }
    partial.set(take === chunk.length ? chunk : chunk.subarray(0, take), this.partialLength);
    this.partialLength = need;
  }

  private keep(buf: Uint8Array, pos: number): void {
    this.partial = buf.slice(pos);
    this.partialLength = this.partial.length;
  }

  private tooLong(): void {
    this.handler.lineTooLong(this.maxLineLength);
    this.stop();
  }
}

