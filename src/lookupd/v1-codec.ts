/**
 * Responses of the lookup protocol V1: a 4-byte big-endian size and that many
 * bytes, with no frame type (errors are told apart by their "E_" text).
 */
import { readInt32BE, writeUint32BE } from "../protocol/frames.ts";

const encoder = new TextEncoder();

export function encodeV1Response(data: string | Uint8Array): Uint8Array {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  const out = new Uint8Array(4 + bytes.length);
  writeUint32BE(out, 0, bytes.length);
  out.set(bytes, 4);
  return out;
}

/** A V1 command with a size-prefixed body (IDENTIFY). */
export function encodeV1Command(line: string, body: string): Uint8Array {
  const head = encoder.encode(`${line}\n`);
  const payload = encodeV1Response(body);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

/** Splits a byte stream into V1 responses; throws on a size above the limit. */
export class V1ResponseDecoder {
  private pending = new Uint8Array(0);

  constructor(
    private readonly onResponse: (data: Uint8Array) => void,
    private readonly maxSize = 1 << 20,
  ) {}

  feed(chunk: Uint8Array): void {
    let buf = chunk;
    if (this.pending.length > 0) {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending);
      buf.set(chunk, this.pending.length);
    }
    let pos = 0;
    while (buf.length - pos >= 4) {
      const size = readInt32BE(buf, pos);
      if (size < 0 || size > this.maxSize) throw new Error(`response size ${size} out of range`);
      if (buf.length - pos - 4 < size) break;
      this.onResponse(buf.subarray(pos + 4, pos + 4 + size));
      pos += 4 + size;
    }
    this.pending = buf.slice(pos);
  }
}
