/**
 * Snappy's framing format (what nsqd's snappy upgrade speaks): a stream identifier
 * chunk, then chunks of [type][3-byte little-endian length][data], data chunks
 * starting with the masked CRC-32C of their uncompressed bytes.
 */
import { CodecError, type StreamCodec } from "./codec.ts";
import { MAX_BLOCK_SIZE, maxCompressedLength } from "./snappy-block.ts";
import { type SnappyEngine, snappyEngine } from "./snappy-engine.ts";

const CHUNK_COMPRESSED = 0x00;
const CHUNK_UNCOMPRESSED = 0x01;
const CHUNK_STREAM_ID = 0xff;
const STREAM_ID = new Uint8Array([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]); // "sNaPpY"
const HEADER = 4;
const CRC = 4;
/** Largest chunk body a conforming writer produces. */
const MAX_CHUNK = CRC + maxCompressedLength(MAX_BLOCK_SIZE);

function writeHeader(dst: Uint8Array, d: number, type: number, length: number): void {
  dst[d] = type;
  dst[d + 1] = length & 0xff;
  dst[d + 2] = (length >>> 8) & 0xff;
  dst[d + 3] = length >>> 16;
}

function writeCrc(dst: Uint8Array, d: number, crc: number): void {
  dst[d] = crc & 0xff;
  dst[d + 1] = (crc >>> 8) & 0xff;
  dst[d + 2] = (crc >>> 16) & 0xff;
  dst[d + 3] = crc >>> 24;
}

export class SnappyStream implements StreamCodec {
  readonly name = "snappy";
  private wroteStreamId = false;
  private readStreamId = false;
  /** Bytes of an incomplete chunk. */
  private pending: Uint8Array | null = null;

  /** engine: who compresses and checksums (the native packages when they load); tests pass each in turn. */
  constructor(private readonly engine: SnappyEngine = snappyEngine) {}

  encode(data: Uint8Array): Uint8Array {
    const blocks = Math.ceil(data.length / MAX_BLOCK_SIZE);
    const out = new Uint8Array(STREAM_ID.length + blocks * (HEADER + CRC + maxCompressedLength(0)) + maxCompressedLength(data.length));
    let d = 0;
    if (!this.wroteStreamId) {
      out.set(STREAM_ID);
      d = STREAM_ID.length;
      this.wroteStreamId = true;
    }
    for (let start = 0; start < data.length; start += MAX_BLOCK_SIZE) {
      const end = Math.min(start + MAX_BLOCK_SIZE, data.length);
      const body = d + HEADER + CRC;
      let stop = this.engine.compressBlock(data, start, end, out, body);
      let type = CHUNK_COMPRESSED;
      // as snappy's writers do: store blocks that compress by less than 1/8 as they are
      if (stop - body >= end - start - ((end - start) >>> 3)) {
        out.set(data.subarray(start, end), body);
        stop = body + end - start;
        type = CHUNK_UNCOMPRESSED;
      }
      writeHeader(out, d, type, stop - d - HEADER);
      writeCrc(out, d + HEADER, this.engine.maskedCrc32c(data, start, end));
      d = stop;
    }
    return out.subarray(0, d);
  }

  decode(chunk: Uint8Array, sink: (bytes: Uint8Array) => void): void {
    let buf = chunk;
    if (this.pending !== null) {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending);
      buf.set(chunk, this.pending.length);
      this.pending = null;
    }
    let pos = 0;
    while (buf.length - pos >= HEADER) {
      const type = buf[pos];
      const length = buf[pos + 1] | (buf[pos + 2] << 8) | (buf[pos + 3] << 16);
      if (length > MAX_CHUNK) throw new CodecError("snappy: chunk too large");
      if (buf.length - pos - HEADER < length) break;
      const start = pos + HEADER;
      pos = start + length;
      this.decodeChunk(type, buf, start, pos, sink);
    }
    if (pos < buf.length) this.pending = buf.slice(pos);
  }

  close(): void {
    this.pending = null;
  }

  private decodeChunk(type: number, buf: Uint8Array, start: number, end: number, sink: (b: Uint8Array) => void): void {
    if (type === CHUNK_STREAM_ID) {
      for (let i = 0; i < 6; i++) {
        if (end - start !== 6 || buf[start + i] !== STREAM_ID[HEADER + i]) throw new CodecError("snappy: bad stream identifier");
      }
      this.readStreamId = true;
      return;
    }
    if (!this.readStreamId) throw new CodecError("snappy: missing stream identifier");
    if (type === CHUNK_COMPRESSED || type === CHUNK_UNCOMPRESSED) {
      if (end - start < CRC) throw new CodecError("snappy: chunk too short");
      const expected = (buf[start] | (buf[start + 1] << 8) | (buf[start + 2] << 16) | (buf[start + 3] << 24)) >>> 0;
      let data: Uint8Array;
      if (type === CHUNK_COMPRESSED) data = this.engine.decompressBlock(buf.subarray(start + CRC, end), MAX_BLOCK_SIZE);
      else {
        if (end - start - CRC > MAX_BLOCK_SIZE) throw new CodecError("snappy: chunk too large");
        data = buf.subarray(start + CRC, end);
      }
      if (this.engine.maskedCrc32c(data, 0, data.length) !== expected) throw new CodecError("snappy: checksum mismatch");
      if (data.length > 0) sink(data);
      return;
    }
    // reserved unskippable chunk types
    if (type < 0x80) throw new CodecError(`snappy: unsupported chunk type ${type}`);
    // padding (0xfe) and reserved skippable chunks (0x80-0xfd) carry nothing
  }
}
