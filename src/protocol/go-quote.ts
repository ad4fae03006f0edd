/**
 * Quotes bytes the way Go's %q does, so error texts match nsqd's: printable
 * characters as they are, the usual backslash escapes, \xNN for bytes that are not
 * valid UTF-8, \uNNNN for other non-printable characters.
 */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

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

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

function quoteChar(cp: number): string {
  const esc = ESCAPES[cp];
  if (esc !== undefined) return esc;
  if (cp < 0x20 || cp === 0x7f) return `\\x${hex2(cp)}`;
  if (cp >= 0x80 && cp < 0xa0) return `\\u${cp.toString(16).padStart(4, "0")}`;
  return String.fromCodePoint(cp);
}

export function goQuote(bytes: Uint8Array): string {
  let text: string | null = null;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    text = null;
  }
  let out = '"';
  if (text !== null) {
    for (const ch of text) out += quoteChar(ch.codePointAt(0)!);
  } else {
    for (const b of bytes) out += b < 0x80 ? quoteChar(b) : `\\x${hex2(b)}`;
  }
  return out + '"';
}
