/**
 * Snappy's block format: a varint of the uncompressed length, then literals and
 * back-references (copies). Compression is the usual greedy hash-table matcher;
 * decompression checks every length and offset so corrupt input throws instead
 * of reading or writing out of bounds.
 */
import { CodecError } from "./codec.ts";

/** Largest block the framing format puts in one chunk. */
export const MAX_BLOCK_SIZE = 65536;

const MAX_HASH_BITS = 14;
/** Positions of recent 4-byte sequences, +1 so that 0 means "none"; small inputs use (and clear) a prefix. */
const table = new Uint32Array(1 << MAX_HASH_BITS);

/** Worst-case compressed size of n bytes. */
export function maxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

const load32 = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);

function emitLiteral(src: Uint8Array, start: number, end: number, dst: Uint8Array, d: number): number {
  const n = end - start - 1;
  if (n < 60) dst[d++] = n << 2;
  else if (n < 0x100) {
    dst[d++] = 60 << 2;
    dst[d++] = n;
  } else {
    dst[d++] = 61 << 2;
    dst[d++] = n & 0xff;
    dst[d++] = n >>> 8;
  }
  return copyBytes(src, start, end, dst, d);
}

/** Copies src[start, end) to dst at d; short runs by hand (cheaper than a subarray + set). */
function copyBytes(src: Uint8Array, start: number, end: number, dst: Uint8Array, d: number): number {
  if (end - start > 32) {
    dst.set(src.subarray(start, end), d);
    return d + end - start;
  }
  for (let i = start; i < end; i++) dst[d++] = src[i];
  return d;
}

function emitCopy(offset: number, length: number, dst: Uint8Array, d: number): number {
  while (length >= 68) {
    dst[d++] = (63 << 2) | 2;
    dst[d++] = offset & 0xff;
    dst[d++] = offset >>> 8;
    length -= 64;
  }
  if (length > 64) {
    dst[d++] = (59 << 2) | 2;
    dst[d++] = offset & 0xff;
    dst[d++] = offset >>> 8;
    length -= 60;
  }
  if (length >= 12 || offset >= 2048) {
    dst[d++] = ((length - 1) << 2) | 2;
    dst[d++] = offset & 0xff;
    dst[d++] = offset >>> 8;
  } else {
    dst[d++] = ((offset >>> 8) << 5) | ((length - 4) << 2) | 1;
    dst[d++] = offset & 0xff;
  }
  return d;
}

/** Compresses src[start, end) (at most MAX_BLOCK_SIZE bytes) into dst at d; returns the end in dst. */
export function compressBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array, d: number): number {
  let n = end - start;
  while (n >= 0x80) {
    dst[d++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  dst[d++] = n;
  if (end - start < 16) return end > start ? emitLiteral(src, start, end, dst, d) : d;
  let bits = 8;
  while (bits < MAX_HASH_BITS && 1 << bits < end - start) bits++;
  const shift = 32 - bits;
  table.fill(0, 0, 1 << bits);
  const limit = end - 4;
  let literalStart = start;
  let i = start;
  while (i < limit) {
    const v = load32(src, i);
    const h = Math.imul(v, 0x1e35a7bd) >>> shift;
    const candidate = table[h] - 1 + start;
    table[h] = i - start + 1;
    if (candidate >= start && load32(src, candidate) === v) {
      if (literalStart < i) d = emitLiteral(src, literalStart, i, dst, d);
      let length = 4;
      while (i + length + 4 <= end && load32(src, i + length) === load32(src, candidate + length)) length += 4;
      while (i + length < end && src[i + length] === src[candidate + length]) length++;
      d = emitCopy(i - candidate, length, dst, d);
      i += length;
      literalStart = i;
    } else {
      // skip faster through data that does not compress
      i += 1 + ((i - literalStart) >>> 5);
    }
  }
  if (literalStart < end) d = emitLiteral(src, literalStart, end, dst, d);
  return d;
}

/** The uncompressed length a block announces (its leading varint); throws CodecError when bad or above maxLength. */
export function blockLength(src: Uint8Array, maxLength: number): number {
  let s = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (s >= src.length || shift > 28) throw new CodecError("snappy: bad block length");
    const b = src[s++];
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (length > maxLength) throw new CodecError("snappy: block too large");
  return length;
}

/** Decompresses one block; throws CodecError when it is malformed or longer than maxLength. */
export function decompressBlock(src: Uint8Array, maxLength: number): Uint8Array {
  const length = blockLength(src, maxLength);
  let s = 0;
  while (src[s++] >= 0x80); // past the varint blockLength checked
  const dst = new Uint8Array(length);
  let d = 0;
  while (s < src.length) {
    const tag = src[s++];
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >>> 2;
      if (n >= 60) {
        const bytes = n - 59;
        if (s + bytes > src.length) throw new CodecError("snappy: truncated literal");
        n = 0;
        for (let k = 0; k < bytes; k++) n += src[s + k] * 2 ** (8 * k);
        s += bytes;
      }
      n += 1;
      if (s + n > src.length || d + n > length) throw new CodecError("snappy: bad literal");
      d = copyBytes(src, s, s + n, dst, d);
      s += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (kind === 1) {
      if (s >= src.length) throw new CodecError("snappy: truncated copy");
      n = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[s++];
    } else if (kind === 2) {
      if (s + 2 > src.length) throw new CodecError("snappy: truncated copy");
      n = (tag >>> 2) + 1;
      offset = src[s] | (src[s + 1] << 8);
      s += 2;
    } else {
      if (s + 4 > src.length) throw new CodecError("snappy: truncated copy");
      n = (tag >>> 2) + 1;
      offset = (src[s] | (src[s + 1] << 8) | (src[s + 2] << 16) | (src[s + 3] << 24)) >>> 0;
      s += 4;
    }
    if (offset === 0 || offset > d || d + n > length) throw new CodecError("snappy: bad copy");
    // byte by byte: an overlapping copy (offset < n) repeats the pattern, as the format intends
    if (n > 32 && offset >= n) dst.copyWithin(d, d - offset, d - offset + n);
    else for (let k = 0; k < n; k++) dst[d + k] = dst[d + k - offset];
    d += n;
  }
  if (d !== length) throw new CodecError("snappy: block shorter than its length");
  return dst;
}
