/**
 * Message ids travel as 16 lowercase hex characters (8 bytes of id). bunsq's id is
 * [10-bit node id][1 zero bit][53-bit sequence], so the sequence alone is an exact
 * JavaScript number and serves as the in-flight map key without any allocation.
 */
const HEX = "0123456789abcdef";
const HEX_PAIRS = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  // both ASCII digits packed so one lookup yields two output bytes
  HEX_PAIRS[i] = (HEX.charCodeAt(i >>> 4) << 8) | HEX.charCodeAt(i & 15);
}

const TWO_32 = 4294967296;
export const MAX_NODE_ID = 1023;
/** Largest sequence: 2^53 - 1. */
export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;

function writeHexU32(buf: Uint8Array, pos: number, v: number): void {
  let p = HEX_PAIRS[v >>> 24];
  buf[pos] = p >>> 8;
  buf[pos + 1] = p & 0xff;
  p = HEX_PAIRS[(v >>> 16) & 0xff];
  buf[pos + 2] = p >>> 8;
  buf[pos + 3] = p & 0xff;
  p = HEX_PAIRS[(v >>> 8) & 0xff];
  buf[pos + 4] = p >>> 8;
  buf[pos + 5] = p & 0xff;
  p = HEX_PAIRS[v & 0xff];
  buf[pos + 6] = p >>> 8;
  buf[pos + 7] = p & 0xff;
}

/** Writes the 16-character id for (node, sequence) at pos. */
export function writeMessageId(buf: Uint8Array, pos: number, node: number, sequence: number): void {
  const seqHi = Math.floor(sequence / TWO_32);
  writeHexU32(buf, pos, ((node << 22) | seqHi) >>> 0);
  writeHexU32(buf, pos + 8, (sequence - seqHi * TWO_32) >>> 0);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function parseHexU32(buf: Uint8Array, pos: number): number {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const d = hexValue(buf[pos + i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/**
 * Reads the 16-character id at pos. Returns its sequence, or -1 when the text is not
 * an id this scheme produces (it can then not be in flight). The node is read by
 * parseMessageNode: two numbers, so the FIN / REQ / TOUCH path allocates nothing.
 */
export function parseMessageSequence(buf: Uint8Array, pos: number): number {
  const hi = parseHexU32(buf, pos);
  if (hi < 0 || (hi & 0x200000) !== 0) return -1;
  const lo = parseHexU32(buf, pos + 8);
  if (lo < 0) return -1;
  return (hi & 0x1fffff) * TWO_32 + lo;
}

/** The node of the id at pos, which parseMessageSequence accepted (its first 10 bits: 3 hex digits less 2 bits). */
export function parseMessageNode(buf: Uint8Array, pos: number): number {
  return ((hexValue(buf[pos]) << 8) | (hexValue(buf[pos + 1]) << 4) | hexValue(buf[pos + 2])) >>> 2;
}

/** The id as a string (logs, stats, tests). */
export function formatMessageId(node: number, sequence: number): string {
  const out = new Uint8Array(16);
  writeMessageId(out, 0, node, sequence);
  return String.fromCharCode(...out);
}
