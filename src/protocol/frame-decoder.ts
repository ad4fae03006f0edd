import { MESSAGE_HEADER_SIZE, MESSAGE_ID_LENGTH, readInt32BE, readUint64BE } from "./frames.ts";

/** A frame as a client receives it; `data` is a view valid during the callback. */
export interface Frame {
  type: number;
  data: Uint8Array;
}

/** A message frame's data, decoded (nsqadmin's tail, tests); the client's Message adds FIN / REQ / TOUCH. */
export interface MessageFrame {
  timestamp: number;
  attempts: number;
  /** The 16-character id, as sent back in FIN / REQ / TOUCH. */
  id: string;
  body: Uint8Array;
}

/**
 * The client side of NSQ's framing: [4-byte size][4-byte type][data]. Feeds on
 * chunks, calls onFrame for each complete frame with a view of the chunk, and
 * copies only a frame split across chunks.
 */
export class FrameDecoder {
  private partial: Uint8Array | null = null;
  private partialFilled = 0;

  constructor(private readonly onFrame: (type: number, data: Uint8Array) => void) {}

  feed(chunk: Uint8Array): void {
    const buf = chunk;
    let pos = 0;
    if (this.partial !== null) {
      const partial = this.partial;
      if (this.partialFilled < 4) {
        // size not known yet: join what is needed for it
        const take = Math.min(4 - this.partialFilled, chunk.length);
        partial.set(chunk.subarray(0, take), this.partialFilled);
        this.partialFilled += take;
        pos = take;
        if (this.partialFilled < 4) return;
        const size = readInt32BE(partial, 0);
        if (size < 4) throw new Error(`invalid frame size ${size}`);
        const full = new Uint8Array(4 + size);
        full.set(partial.subarray(0, 4));
        this.partial = full;
      }
      const full = this.partial!;
      const take = Math.min(full.length - this.partialFilled, chunk.length - pos);
      full.set(chunk.subarray(pos, pos + take), this.partialFilled);
      this.partialFilled += take;
      pos += take;
      if (this.partialFilled < full.length) return;
      this.partial = null;
      this.onFrame(readInt32BE(full, 4), full.subarray(8));
    }
    const len = buf.length;
    while (pos < len) {
      if (len - pos < 4) return this.keep(buf, pos);
      const size = readInt32BE(buf, pos);
      if (size < 4) throw new Error(`invalid frame size ${size}`);
      if (len - pos < 4 + size) return this.keep(buf, pos);
      const type = readInt32BE(buf, pos + 4);
      const data = buf.subarray(pos + 8, pos + 4 + size);
      pos += 4 + size;
      this.onFrame(type, data);
    }
  }

  private keep(buf: Uint8Array, pos: number): void {
    const rest = buf.length - pos;
    if (rest >= 4) {
      const full = new Uint8Array(4 + readInt32BE(buf, pos));
      full.set(buf.subarray(pos));
      this.partial = full;
    } else {
      this.partial = new Uint8Array(4);
      this.partial.set(buf.subarray(pos));
    }
    this.partialFilled = rest;
  }
}

const latin1 = new TextDecoder("latin1");

export function decodeMessageFrame(data: Uint8Array): MessageFrame {
  return {
    timestamp: readUint64BE(data, 0),
    attempts: (data[8] << 8) | data[9],
    id: latin1.decode(data.subarray(10, 10 + MESSAGE_ID_LENGTH)),
    body: data.subarray(MESSAGE_HEADER_SIZE),
  };
}
