/**
 * Quotes bytes the way Go's %q does, so error texts match nsqd's: the bytes are
 * decoded rune by rune like utf8.DecodeRune; printable characters stay as they are,
 * the usual backslash escapes apply, each byte that does not start a valid UTF-8
 * sequence becomes \xNN, and other non-printable characters \uNNNN or \UNNNNNNNN.
 */
const ESCAPES: Record<number, string> = {
  0x07: "\\a",
  0x08: "\\b",
  0x0c: "\\f",
  0x0a: "\\n",
  0x0d: "\\r",
  0x09: "\\t",
  0x0b: "\\v",
  0x22: '\\"',
  0x5c: "\\\\",
};

/** Go's unicode.IsPrint beyond ASCII: letters, marks, numbers, punctuation, symbols. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

function quoteChar(cp: number): string {
  const esc = ESCAPES[cp];
  if (esc !== undefined) return esc;
  if (cp < 0x20 || cp === 0x7f) return `\\x${hex(cp, 2)}`;
  if (cp < 0x7f) return String.fromCharCode(cp);
  const ch = String.fromCodePoint(cp);
  if (PRINTABLE.test(ch)) return ch;
  return cp < 0x10000 ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
}

const isCont = (b: number | undefined): boolean => b !== undefined && (b & 0xc0) === 0x80;

/**
 * The code point of the valid UTF-8 sequence at i and its length, as in Go's
 * utf8.DecodeRune (no overlong forms, no surrogates, nothing above U+10FFFF);
 * -1 when the byte at i does not start one.
 */
function decodeAt(bytes: Uint8Array, i: number): [number, number] | -1 {
  const b0 = bytes[i];
  const b1 = bytes[i + 1];
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    return isCont(b1) ? [((b0 & 0x1f) << 6) | (b1 & 0x3f), 2] : -1;
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    if (b1 === undefined || b1 < lo || b1 > hi || !isCont(bytes[i + 2])) return -1;
    return [((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (bytes[i + 2] & 0x3f), 3];
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    if (b1 === undefined || b1 < lo || b1 > hi || !isCont(bytes[i + 2]) || !isCont(bytes[i + 3])) return -1;
    return [((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((bytes[i + 2] & 0x3f) << 6) | (bytes[i + 3] & 0x3f), 4];
  }
  return -1;
}

export function goQuote(bytes: Uint8Array): string {
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      out += quoteChar(b);
      i++;
      continue;
    }
    const rune = decodeAt(bytes, i);
    if (rune === -1) {
      out += `\\x${hex(b, 2)}`;
      i++;
      continue;
    }
    out += quoteChar(rune[0]);
    i += rune[1];
  }
  return out + '"';
}
