/**
 * Who does snappy's heavy lifting for the framing format (snappy-stream.ts):
 * block compression, block decompression and CRC-32C. The native packages
 * (`snappy` and `@node-rs/crc32`, napi-rs addons with prebuilt binaries) are
 * several times faster than the hand-written codec; where they do not load (a
 * platform without a prebuilt binary, a client bundle installed without them)
 * the hand-written codec takes over. The choice is made once, when this module
 * loads. Both write the same format, so peers cannot tell them apart.
 */
import { CodecError } from "./codec.ts";
import { crc32c, maskCrc } from "./crc32c.ts";
import { blockLength, compressBlock, decompressBlock } from "./snappy-block.ts";

export interface SnappyEngine {
  readonly name: "native" | "js";
  /** Compresses src[start, end) (at most MAX_BLOCK_SIZE bytes) into dst at d, which has maxCompressedLength room; returns the end in dst. */
  compressBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array, d: number): number;
  /** Decompresses one block into fresh memory; throws CodecError when it is malformed or longer than maxLength. */
  decompressBlock(src: Uint8Array, maxLength: number): Uint8Array;
  /** The masked CRC-32C of data[start, end), as chunks carry it. */
  maskedCrc32c(data: Uint8Array, start: number, end: number): number;
}

export const jsSnappy: SnappyEngine = {
  name: "js",
  compressBlock,
  decompressBlock,
  maskedCrc32c: (data, start, end) => maskCrc(crc32c(data, start, end)),
};

interface NativeSnappy {
  compressSync(input: Uint8Array, options: { copyOutputData: boolean }): Uint8Array;
  uncompressSync(input: Uint8Array, options: { copyOutputData: boolean }): Uint8Array | string;
}

/**
 * Blocks smaller than this stay with the hand-written codec even when the addon is
 * loaded: below it a call into the addon costs more than the work (measured on Bun
 * and Node: the two break even between 500 and 1,000 bytes). The CRC is native at
 * every size.
 */
const NATIVE_MIN_BLOCK = 512;
interface NativeCrc32 {
  crc32c(input: Uint8Array, initialState?: number): number;
}

/** The native engine, or null when either package (or its binary for this platform) does not load. */
function loadNative(): SnappyEngine | null {
  let snappy: NativeSnappy;
  let crc: NativeCrc32;
  try {
    // require, not import: synchronous and allowed to fail; bundlers see it (bun build --compile embeds the
    // .node files, --target=node keeps it as a require of the installed package)
    snappy = require("snappy") as NativeSnappy;
    crc = require("@node-rs/crc32") as NativeCrc32;
    // a binary that loads but does not work is no better than none
    if (crc.crc32c(new TextEncoder().encode("123456789")) !== 0xe3069283) return null;
  } catch {
    return null;
  }
  // Buffers the addon creates over its own memory are slow to hand over in Bun; copied ones are not.
  const copy = { copyOutputData: true };
  return {
    name: "native",
    compressBlock(src, start, end, dst, d) {
      if (end - start < NATIVE_MIN_BLOCK) return compressBlock(src, start, end, dst, d);
      const block = snappy.compressSync(src.subarray(start, end), copy);
      dst.set(block, d);
      return d + block.length;
    },
    decompressBlock(src, maxLength) {
      // checked first so that a hostile length never reaches the allocation
      const length = blockLength(src, maxLength);
      if (length < NATIVE_MIN_BLOCK) return decompressBlock(src, maxLength);
      let out: Uint8Array | string;
      try {
        out = snappy.uncompressSync(src, copy);
      } catch (err) {
        throw new CodecError(`snappy: ${(err as Error).message}`);
      }
      if (typeof out === "string" || out.length !== length) throw new CodecError("snappy: bad block");
      return out;
    },
    maskedCrc32c: (data, start, end) => maskCrc(crc.crc32c(start === 0 && end === data.length ? data : data.subarray(start, end))),
  };
}

/** The engine every SnappyStream uses unless given another. */
export const snappyEngine: SnappyEngine = loadNative() ?? jsSnappy;
