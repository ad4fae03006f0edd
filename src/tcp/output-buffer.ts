import type { Delivery } from "../core/message.ts";
import {
  FRAME_HEADER_SIZE,
  FRAME_TYPE_MESSAGE,
  MESSAGE_HEADER_SIZE,
  copyBytes,
  writeUint32BE,
  writeUint64BE,
} from "../protocol/frames.ts";
import { writeMessageId } from "../protocol/message-id.ts";

const INITIAL_SIZE = 512;

/**
 * A connection's pending output: frames are encoded straight into one growable
 * byte array, written to the socket in one call per flush. Starts small so idle
 * connections stay cheap.
 */
export class OutputBuffer {
  private buf: Uint8Array | null = null;
  length = 0;

  private reserve(n: number): Uint8Array {
    let buf = this.buf;
    const need = this.length + n;
    if (buf === null || buf.length < need) {
      let size = buf === null ? INITIAL_SIZE : buf.length * 2;
      while (size < need) size *= 2;
      const grown = new Uint8Array(size);
      if (buf !== null && this.length > 0) grown.set(buf.subarray(0, this.length));
      this.buf = buf = grown;
    }
    return buf;
  }

  /** Appends an already encoded frame (responses, errors, heartbeats). */
  writeBytes(bytes: Uint8Array): void {
    const buf = this.reserve(bytes.length);
    buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Appends a message frame: header, timestamp, attempts, id and the body, copied once. */
  writeMessage(d: Delivery): void {
    const frameLength = FRAME_HEADER_SIZE + MESSAGE_HEADER_SIZE + d.length;
    const buf = this.reserve(frameLength);
    let p = this.length;
    writeUint32BE(buf, p, frameLength - 4);
    writeUint32BE(buf, p + 4, FRAME_TYPE_MESSAGE);
    writeUint64BE(buf, p + 8, d.timestamp);
    buf[p + 16] = d.attempts >>> 8;
    buf[p + 17] = d.attempts;
    writeMessageId(buf, p + 18, d.node, d.sequence);
    p += FRAME_HEADER_SIZE + MESSAGE_HEADER_SIZE;
    copyBytes(d.source, d.offset, d.length, buf, p);
    this.length = p + d.length;
  }

  /** The bytes waiting to be written. */
  pending(): Uint8Array {
    return this.buf === null ? new Uint8Array(0) : this.buf.subarray(0, this.length);
  }

  /** Drops the first n bytes after a (partial) socket write. */
  consume(n: number): void {
    if (n >= this.length) {
      this.length = 0;
      return;
    }
    this.buf!.copyWithin(0, n, this.length);
    this.length -= n;
  }
}
