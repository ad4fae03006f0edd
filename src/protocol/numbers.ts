/**
 * Parses ASCII decimal digits like nsqd's ByteToBase10: only 0-9 are allowed (no
 * sign, no spaces), and an empty argument reads as 0. Returns -1 for anything else.
 * Values past 2^53 lose precision, which only matters for range errors.
 */
export function parseBase10(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}
