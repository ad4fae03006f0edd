import { describe, expect, test } from "bun:test";
import { ClientError } from "../../src/protocol/errors.ts";
import { FrameDecoder, decodeMessageFrame } from "../../src/protocol/frame-decoder.ts";
import { FRAME_TYPE_ERROR, FRAME_TYPE_MESSAGE, FRAME_TYPE_RESPONSE, encodeFrame, writeUint32BE, writeUint64BE } from "../../src/protocol/frames.ts";
import { goQuote } from "../../src/protocol/go-quote.ts";
import {
  MAX_NODE_ID,
  MAX_SEQUENCE,
  formatMessageId,
  parseMessageNode,
  parseMessageSequence,
  writeMessageId,
} from "../../src/protocol/message-id.ts";
import { decodeMpub } from "../../src/protocol/mpub.ts";
import { isEphemeralName, isValidChannelName, isValidTopicName } from "../../src/protocol/names.ts";
import { parseBase10 } from "../../src/protocol/numbers.ts";
import { mulberry32, TEST_SEEDS } from "../helpers/random.ts";
import { concatBytes as concat } from "../helpers/raw-client.ts";

const SEEDS = TEST_SEEDS;

const encoder = new TextEncoder();
const bytes = (s: string): Uint8Array => encoder.encode(s);
const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const ascii = (b: Uint8Array): string => String.fromCharCode(...b);

function int32BE(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, n);
  return out;
}


/** The id text the documented layout gives: [10-bit node][1 zero bit][53-bit sequence], as 16 lowercase hex digits. */
function expectedId(node: number, sequence: number): string {
  return ((BigInt(node) << 54n) | BigInt(sequence)).toString(16).padStart(16, "0");
}

/** A random sequence: uniform over the bit length, so every magnitude up to 2^53 - 1 shows up. */
function randomSequence(rand: () => number): number {
  const bitsLen = Math.floor(rand() * 54);
  if (bitsLen === 0) return 0;
  const hi = Math.floor(rand() * 2 ** 21);
  const lo = Math.floor(rand() * 2 ** 32);
  const full = BigInt(hi) * 2n ** 32n + BigInt(lo);
  return Number(full & ((1n << BigInt(bitsLen)) - 1n));
}

describe("message ids", () => {
  const edgeSequences = [0, 1, 0xff, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 52, MAX_SEQUENCE - 1, MAX_SEQUENCE];
  const edgeNodes = [0, 1, 511, 512, MAX_NODE_ID];

  test("limits", () => {
    expect(MAX_SEQUENCE).toBe(2 ** 53 - 1);
    expect(MAX_NODE_ID).toBe(1023);
  });

  test("edge values round trip and match the documented layout", () => {
    for (const node of edgeNodes) {
      for (const seq of edgeSequences) {
        const id = formatMessageId(node, seq);
        expect(id).toBe(expectedId(node, seq));
        expect(parseMessageSequence(bytes(id), 0)).toBe(seq);
        expect(parseMessageNode(bytes(id), 0)).toBe(node);
      }
    }
    expect(formatMessageId(MAX_NODE_ID, MAX_SEQUENCE)).toBe("ffdfffffffffffff");
    expect(formatMessageId(0, 0)).toBe("0000000000000000");
    expect(formatMessageId(1, 0)).toBe("0040000000000000");
  });

  for (const seed of SEEDS) {
    test(`random node and sequence round trip at random offsets (seed ${seed})`, () => {
      const rand = mulberry32(seed);
      for (let i = 0; i < 5000; i++) {
        const node = Math.floor(rand() * (MAX_NODE_ID + 1));
        const seq = randomSequence(rand);
        const pos = Math.floor(rand() * 8);
        const buf = new Uint8Array(pos + 16 + 3).fill(0x2a);
        writeMessageId(buf, pos, node, seq);
        const what = `seed ${seed} node ${node} seq ${seq}`;
        expect(ascii(buf.subarray(pos, pos + 16)), what).toBe(expectedId(node, seq));
        // nothing written outside the 16 bytes
        expect(buf.subarray(0, pos).every((b) => b === 0x2a), what).toBe(true);
        expect(buf.subarray(pos + 16).every((b) => b === 0x2a), what).toBe(true);
        expect(parseMessageSequence(buf, pos), what).toBe(seq);
        expect(parseMessageNode(buf, pos), what).toBe(node);
      }
    });
  }

  test("uppercase and mixed-case hex are accepted", () => {
    for (const [node, seq] of [
      [MAX_NODE_ID, MAX_SEQUENCE],
      [0x2ab, 0xabcdef012345],
      [0, 0xfedcba98],
    ]) {
      const id = formatMessageId(node, seq);
      expect(parseMessageSequence(bytes(id.toUpperCase()), 0)).toBe(seq);
      expect(parseMessageNode(bytes(id.toUpperCase()), 0)).toBe(node);
      const mixed = [...id].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c)).join("");
      expect(parseMessageSequence(bytes(mixed), 0)).toBe(seq);
      expect(parseMessageNode(bytes(mixed), 0)).toBe(node);
    }
  });

  test("any non-hex character at any position is rejected", () => {
    const id = formatMessageId(0x155, 0x123456789abcd);
    // neighbours of the accepted ranges, plus spaces, NUL and non-ASCII
    for (const bad of ["/", ":", "@", "G", "`", "g", " ", "\x00", "\xff", "-", "+", "x"]) {
      for (let i = 0; i < 16; i++) {
        const text = id.slice(0, i) + bad + id.slice(i + 1);
        expect(parseMessageSequence(latin1(text), 0), JSON.stringify(text)).toBe(-1);
      }
    }
  });

  test("an id with bit 21 of its high word set is rejected", () => {
    expect(parseMessageSequence(bytes("0020000000000000"), 0)).toBe(-1);
    expect(parseMessageSequence(bytes("ffffffffffffffff"), 0)).toBe(-1);
    expect(parseMessageSequence(bytes("FFFFFFFFFFFFFFFF"), 0)).toBe(-1);
    expect(parseMessageSequence(bytes("0030000000000001"), 0)).toBe(-1);
    // the neighbouring bits are fine
    expect(parseMessageSequence(bytes("0040000000000000"), 0)).toBe(0);
    expect(parseMessageNode(bytes("0040000000000000"), 0)).toBe(1);
    expect(parseMessageSequence(bytes("001fffffffffffff"), 0)).toBe(MAX_SEQUENCE);
    expect(parseMessageNode(bytes("001fffffffffffff"), 0)).toBe(0);
    const rand = mulberry32(99);
    for (let i = 0; i < 1000; i++) {
      const id = (BigInt(Math.floor(rand() * 1024)) << 54n) | BigInt(randomSequence(rand)) | (1n << 53n);
      expect(parseMessageSequence(bytes(id.toString(16).padStart(16, "0")), 0)).toBe(-1);
    }
  });
});

describe("decodeMpub", () => {
  const MAX_MSG = 10;
  const MAX_BODY = 5 * 1024 * 1024;

  function mpub(count: number, ...messages: (Uint8Array | string)[]): Uint8Array {
    return concat(int32BE(count), ...messages.flatMap((m) => [int32BE(typeof m === "string" ? bytes(m).length : m.length), m]));
  }

  function decodeError(body: Uint8Array, maxMsg = MAX_MSG, maxBody = MAX_BODY): ClientError {
    let count: number;
    try {
      count = decodeMpub(body, maxMsg, maxBody, []);
    } catch (err) {
      if (!(err instanceof ClientError)) throw err;
      expect(err.fatal).toBe(true);
      return err;
    }
    throw new Error(`expected an error, got count ${count}`);
  }

  /** The messages that `spans` (offset, length pairs) point at in `body`. */
  function messagesAt(body: Uint8Array, spans: number[], count: number): Uint8Array[] {
    return Array.from({ length: count }, (_, i) => body.subarray(spans[2 * i], spans[2 * i] + spans[2 * i + 1]));
  }

  test("happy path: spans of the body, in order", () => {
    const body = mpub(3, "a", "hello", new Uint8Array([0, 0x0a, 0xff]));
    const spans: number[] = [];
    expect(decodeMpub(body, MAX_MSG, MAX_BODY, spans)).toBe(3);
    expect(spans).toEqual([8, 1, 13, 5, 22, 3]);
    const out = messagesAt(body, spans, 3);
    expect(out.map((m) => Array.from(m))).toEqual([[0x61], Array.from(bytes("hello")), [0, 0x0a, 0xff]]);
  });

  test("messages of exactly the maximum size, and a body inside a larger buffer", () => {
    const inner = mpub(2, "x".repeat(MAX_MSG), "y");
    const outer = concat("junk", inner, "more junk");
    const view = outer.subarray(4, 4 + inner.length);
    const spans: number[] = [];
    expect(decodeMpub(view, MAX_MSG, MAX_BODY, spans)).toBe(2);
    const out = messagesAt(view, spans, 2);
    expect(ascii(out[0])).toBe("x".repeat(MAX_MSG));
    expect(ascii(out[1])).toBe("y");
  });

  test("fewer than 4 bytes", () => {
    for (const body of [new Uint8Array(0), new Uint8Array([0]), new Uint8Array([0, 0, 1])]) {
      expect(decodeError(body).frameText).toBe("E_BAD_BODY MPUB failed to read message count");
    }
  });

  test("count 0 and negative counts", () => {
    expect(decodeError(mpub(0)).frameText).toBe("E_BAD_BODY MPUB invalid message count 0");
    expect(decodeError(mpub(0, "a")).frameText).toBe("E_BAD_BODY MPUB invalid message count 0");
    expect(decodeError(mpub(-1, "a")).frameText).toBe("E_BAD_BODY MPUB invalid message count -1");
    expect(decodeError(mpub(-2147483648, "a")).frameText).toBe("E_BAD_BODY MPUB invalid message count -2147483648");
  });

  test("more messages than the max body size can hold", () => {
    // nsqd: (maxBodySize - 4) / 5, as 4 bytes of count then at least 5 bytes a message
    const maxMessages = Math.floor((MAX_BODY - 4) / 5);
    expect(decodeError(mpub(maxMessages + 1, "a")).frameText).toBe(`E_BAD_BODY MPUB invalid message count ${maxMessages + 1}`);
    expect(decodeError(mpub(2147483647, "a")).frameText).toBe("E_BAD_BODY MPUB invalid message count 2147483647");
    // at the limit the count is accepted; what follows is checked next
    expect(decodeError(mpub(maxMessages)).frameText).toBe("E_BAD_MESSAGE MPUB failed to read message(0) body size");
    // a small max body size: (24 - 4) / 5 = 4 messages
    expect(decodeError(mpub(5, "a", "b", "c", "d", "e"), MAX_MSG, 24).frameText).toBe("E_BAD_BODY MPUB invalid message count 5");
    expect(decodeMpub(mpub(4, "a", "b", "c", "d"), MAX_MSG, 24, [])).toBe(4);
  });

  test("a truncated size", () => {
    expect(decodeError(concat(mpub(2, "abc"), new Uint8Array([0, 0]))).frameText).toBe(
      "E_BAD_MESSAGE MPUB failed to read message(1) body size",
    );
    expect(decodeError(mpub(1)).frameText).toBe("E_BAD_MESSAGE MPUB failed to read message(0) body size");
    expect(decodeError(concat(int32BE(1), new Uint8Array([0, 0, 0]))).frameText).toBe(
      "E_BAD_MESSAGE MPUB failed to read message(0) body size",
    );
  });

  test("a message of size 0 or less", () => {
    expect(decodeError(concat(mpub(2, "abc"), int32BE(0))).frameText).toBe("E_BAD_MESSAGE MPUB invalid message(1) body size 0");
    expect(decodeError(concat(int32BE(1), int32BE(-1), "x")).frameText).toBe("E_BAD_MESSAGE MPUB invalid message(0) body size -1");
    expect(decodeError(concat(int32BE(1), int32BE(-2147483648))).frameText).toBe(
      "E_BAD_MESSAGE MPUB invalid message(0) body size -2147483648",
    );
  });

  test("a message bigger than the max message size", () => {
    expect(decodeError(mpub(2, "a", "x".repeat(MAX_MSG + 1))).frameText).toBe(`E_BAD_MESSAGE MPUB message too big 11 > ${MAX_MSG}`);
    // checked before the body is looked for
    expect(decodeError(concat(int32BE(1), int32BE(2147483647))).frameText).toBe(
      `E_BAD_MESSAGE MPUB message too big 2147483647 > ${MAX_MSG}`,
    );
  });

  test("a truncated message body", () => {
    // [count][3]abc[4]defg: 19 bytes
    const full = mpub(2, "abc", "defg");
    expect(full.length).toBe(19);
    const expected: [number, string][] = [
      [18, "E_BAD_MESSAGE MPUB failed to read message body"],
      [16, "E_BAD_MESSAGE MPUB failed to read message body"],
      [15, "E_BAD_MESSAGE MPUB failed to read message body"],
      [14, "E_BAD_MESSAGE MPUB failed to read message(1) body size"],
      [11, "E_BAD_MESSAGE MPUB failed to read message(1) body size"],
      [10, "E_BAD_MESSAGE MPUB failed to read message body"],
      [8, "E_BAD_MESSAGE MPUB failed to read message body"],
    ];
    for (const [cut, text] of expected) expect(decodeError(full.subarray(0, cut)).frameText, `cut at ${cut}`).toBe(text);
  });

  test("bytes left over after the last message", () => {
    const body = concat(mpub(1, "abcdef"), "xyz");
    expect(decodeError(body).frameText).toBe("E_BAD_BODY MPUB body size 17 does not match its 1 messages (14 bytes)");
    const two = concat(mpub(2, "a", "b"), new Uint8Array([0]));
    expect(decodeError(two).frameText).toBe("E_BAD_BODY MPUB body size 15 does not match its 2 messages (14 bytes)");
  });

  test("error codes", () => {
    expect(decodeError(mpub(0)).code).toBe("E_BAD_BODY");
    expect(decodeError(mpub(0)).description).toBe("MPUB invalid message count 0");
    expect(decodeError(mpub(1)).code).toBe("E_BAD_MESSAGE");
  });
});

describe("goQuote matches Go's %q", () => {
  const cases: [string, Uint8Array, string][] = [
    ["empty", bytes(""), '""'],
    ["ASCII", bytes("topic_name-1.x"), '"topic_name-1.x"'],
    ["printable ASCII punctuation", bytes("a b!#$%&'()*+,/:;<=>?@[]^`{|}~"), `"a b!#$%&'()*+,/:;<=>?@[]^\`{|}~"`],
    ["quotes and backslashes", bytes('say "hi" \\ bye'), '"say \\"hi\\" \\\\ bye"'],
    ["NUL", new Uint8Array([0x61, 0x00, 0x62]), '"a\\x00b"'],
    ["newline, CR and tab", bytes("a\nb\rc\td"), '"a\\nb\\rc\\td"'],
    ["other C escapes", new Uint8Array([0x07, 0x08, 0x0c, 0x0b]), '"\\a\\b\\f\\v"'],
    ["other control characters", new Uint8Array([0x01, 0x1b, 0x1f]), '"\\x01\\x1b\\x1f"'],
    ["DEL", new Uint8Array([0x7f]), '"\\x7f"'],
    ["é", bytes("é"), '"é"'],
    ["中", bytes("topic中文"), '"topic中文"'],
    ["emoji (4 bytes)", bytes("a😀"), '"a😀"'],
    ["U+FFFD itself is printable", bytes("\ufffd"), '"\ufffd"'],
    ["a lone \\xff", new Uint8Array([0xff]), '"\\xff"'],
    ["\\xff\\xfe", new Uint8Array([0xff, 0xfe]), '"\\xff\\xfe"'],
    ["invalid bytes between ASCII", new Uint8Array([0x61, 0xff, 0x62, 0x0a]), '"a\\xffb\\n"'],
    ["valid runes next to invalid bytes", concat("é", new Uint8Array([0xff]), "中"), '"é\\xff中"'],
    ["a truncated sequence", concat("中", new Uint8Array([0xe4, 0xb8])), '"中\\xe4\\xb8"'],
    ["a lone continuation byte", new Uint8Array([0x80, 0x61]), '"\\x80a"'],
    ["an overlong encoding", new Uint8Array([0xc0, 0x80]), '"\\xc0\\x80"'],
    ["an overlong 3-byte encoding", new Uint8Array([0xe0, 0x80, 0xaf]), '"\\xe0\\x80\\xaf"'],
    ["an encoded surrogate", new Uint8Array([0xed, 0xa0, 0x80]), '"\\xed\\xa0\\x80"'],
    ["above U+10FFFF", new Uint8Array([0xf4, 0x90, 0x80, 0x80]), '"\\xf4\\x90\\x80\\x80"'],
    ["C1 control (U+0085)", bytes("\u0085"), '"\\u0085"'],
    ["no-break space (U+00A0)", bytes("a\u00a0b"), '"a\\u00a0b"'],
    ["soft hyphen (U+00AD)", bytes("\u00ad"), '"\\u00ad"'],
    ["zero-width space (U+200B)", bytes("\u200b"), '"\\u200b"'],
    ["byte order mark (U+FEFF)", bytes("\ufeff"), '"\\ufeff"'],
    ["line separator (U+2028)", bytes("\u2028"), '"\\u2028"'],
    ["private use (U+E000)", bytes("\ue000"), '"\\ue000"'],
    ["noncharacter above the BMP (U+10FFFF)", bytes("\u{10ffff}"), '"\\U0010ffff"'],
    ["combining mark (U+0301) is printable", bytes("e\u0301"), '"e\u0301"'],
  ];

  for (const [name, input, expected] of cases) {
    test(name, () => {
      expect(goQuote(input)).toBe(expected);
    });
  }

  test("is JSON-compatible for printable ASCII without escapes", () => {
    for (let c = 0x20; c < 0x7f; c++) {
      const s = String.fromCharCode(c);
      expect(goQuote(bytes(s))).toBe(JSON.stringify(s));
    }
  });
});

describe("topic and channel names", () => {
  const valid = [
    "a",
    "A",
    "0",
    "topic",
    "Topic_With-Dots.1",
    "...",
    "-",
    "_",
    "x".repeat(64),
    "a#ephemeral",
    `${"x".repeat(54)}#ephemeral`,
  ];
  const invalid = [
    "",
    "x".repeat(65),
    `${"x".repeat(55)}#ephemeral`,
    "#ephemeral",
    "a#ephemeral#ephemeral",
    "a#Ephemeral",
    "a#ephemera",
    "a#",
    "#",
    "a#b",
    "a b",
    " a",
    "a ",
    "a\tb",
    "a\nb",
    "a\x00",
    "a/b",
    "a:b",
    "a*",
    "é",
    "tópic",
    "中",
    "a\ufffd",
    "ephemeral#ephemeral ",
  ];

  for (const [label, check] of [
    ["topic", isValidTopicName],
    ["channel", isValidChannelName],
  ] as const) {
    test(`valid ${label} names`, () => {
      for (const name of valid) expect(check(name), JSON.stringify(name)).toBe(true);
    });
    test(`invalid ${label} names`, () => {
      for (const name of invalid) expect(check(name), JSON.stringify(name)).toBe(false);
    });
  }

  test("the #ephemeral suffix counts in the 64 characters", () => {
    const base54 = "y".repeat(54);
    expect(`${base54}#ephemeral`.length).toBe(64);
    expect(isValidTopicName(`${base54}#ephemeral`)).toBe(true);
    expect(isValidTopicName(`${base54}y#ephemeral`)).toBe(false);
  });

  test("isEphemeralName", () => {
    expect(isEphemeralName("a#ephemeral")).toBe(true);
    expect(isEphemeralName("a")).toBe(false);
    expect(isEphemeralName("a#ephemeralx")).toBe(false);
    expect(isEphemeralName("ephemeral")).toBe(false);
  });
});

describe("parseBase10", () => {
  const parse = (s: string) => {
    const b = bytes(s);
    return parseBase10(b, 0, b.length);
  };

  test("digits", () => {
    expect(parse("0")).toBe(0);
    expect(parse("7")).toBe(7);
    expect(parse("123")).toBe(123);
    expect(parse("0007")).toBe(7);
    expect(parse("2500")).toBe(2500);
    expect(parse("4294967296")).toBe(4294967296);
    expect(parse("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER);
  });

  test("empty reads as 0", () => {
    expect(parse("")).toBe(0);
    expect(parseBase10(bytes("123"), 2, 2)).toBe(0);
  });

  test("signs, spaces and other characters are refused", () => {
    for (const s of ["-1", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "a", "1a", "١", "/", ":", "\x00"]) {
      expect(parse(s), JSON.stringify(s)).toBe(-1);
    }
  });

  test("reads only its range", () => {
    const b = bytes("x12y345z");
    expect(parseBase10(b, 1, 3)).toBe(12);
    expect(parseBase10(b, 4, 7)).toBe(345);
    expect(parseBase10(b, 0, 3)).toBe(-1);
    expect(parseBase10(b, 4, 8)).toBe(-1);
  });
});

describe("FrameDecoder", () => {
  function messageFrameData(timestampNs: number, attempts: number, id: string, body: Uint8Array): Uint8Array {
    const data = new Uint8Array(26 + body.length);
    writeUint64BE(data, 0, timestampNs);
    data[8] = attempts >>> 8;
    data[9] = attempts & 0xff;
    data.set(bytes(id), 10);
    data.set(body, 26);
    return data;
  }

  const bigBody = Uint8Array.from({ length: 700 }, (_, i) => (i * 31) & 0xff);
  const frames: [number, Uint8Array][] = [
    [FRAME_TYPE_RESPONSE, bytes("OK")],
    [FRAME_TYPE_RESPONSE, bytes("_heartbeat_")],
    [FRAME_TYPE_ERROR, bytes("E_INVALID invalid command \x00")],
    [FRAME_TYPE_RESPONSE, new Uint8Array(0)],
    [FRAME_TYPE_MESSAGE, messageFrameData(1_700_000_000_123_456_789, 3, "0123456789abcdef", bytes("hello"))],
    [FRAME_TYPE_MESSAGE, messageFrameData(1, 65535, "ffdfffffffffffff", bigBody)],
    [7, new Uint8Array([1])],
  ];
  const stream = concat(...frames.map(([type, data]) => encodeFrame(type, data)));
  const starts: number[] = [];
  {
    let p = 0;
    for (const [, data] of frames) {
      starts.push(p);
      p += 8 + data.length;
    }
  }

  function feed(cuts: number[], what: string): void {
    const got: { type: number; data: Uint8Array }[] = [];
    const decoder = new FrameDecoder((type, data) => got.push({ type, data }));
    const chunks: Uint8Array[] = [];
    let prev = 0;
    for (const c of [...cuts, stream.length]) {
      chunks.push(stream.slice(prev, c));
      prev = c;
    }
    for (const ch of chunks) decoder.feed(ch);
    expect(
      got.map((f) => [f.type, Array.from(f.data)]),
      what,
    ).toEqual(frames.map(([type, data]) => [type, Array.from(data)]));
    // a frame inside one chunk is a view of it; a split one is a copy
    const chunkStarts = [0, ...cuts];
    for (let j = 0; j < frames.length; j++) {
      const s = starts[j];
      const e = s + 8 + frames[j][1].length;
      const c = chunkStarts.findLastIndex((x) => x <= s);
      const inside = e <= chunkStarts[c] + chunks[c].length;
      expect(got[j].data.buffer === chunks[c].buffer, `${what}: frame ${j}`).toBe(inside);
    }
  }

  test("whole", () => feed([], "whole"));

  test("split at every byte position", () => {
    for (let i = 0; i <= stream.length; i++) feed([i], `split at ${i}`);
  });

  test("byte by byte", () => {
    feed(
      Array.from({ length: stream.length - 1 }, (_, i) => i + 1),
      "byte by byte",
    );
  });

  for (const seed of SEEDS) {
    test(`random chunkings (seed ${seed})`, () => {
      const rand = mulberry32(seed);
      for (let round = 0; round < 200; round++) {
        const cuts: number[] = [];
        let p = 0;
        for (;;) {
          p += 1 + Math.floor(rand() * 40);
          if (p >= stream.length) break;
          cuts.push(p);
        }
        feed(cuts, `seed ${seed} cuts ${cuts.join(",")}`);
      }
    });
  }

  test("decodeMessageFrame reads the message header", () => {
    const data = messageFrameData(1_700_000_000_123_456_768, 258, "0123456789abcdef", bytes("body"));
    const m = decodeMessageFrame(data);
    expect(m.timestamp).toBe(1_700_000_000_123_456_768);
    expect(m.attempts).toBe(258);
    expect(m.id).toBe("0123456789abcdef");
    expect(ascii(m.body)).toBe("body");
  });

  test("a frame size below 4 is refused wherever the stream is split", () => {
    for (const size of [0, 3, -1, -2147483648]) {
      const bad = concat(encodeFrame(FRAME_TYPE_RESPONSE, "OK"), int32BE(size), new Uint8Array(12));
      for (let i = 0; i <= bad.length; i++) {
        const got: number[] = [];
        const decoder = new FrameDecoder((type) => got.push(type));
        expect(() => {
          decoder.feed(bad.slice(0, i));
          decoder.feed(bad.slice(i));
        }, `size ${size} split at ${i}`).toThrow(`invalid frame size ${size}`);
        expect(got).toEqual([FRAME_TYPE_RESPONSE]);
      }
    }
  });

  test("writeUint32BE and the frame header agree", () => {
    const f = encodeFrame(FRAME_TYPE_ERROR, "E_X");
    const header = new Uint8Array(8);
    writeUint32BE(header, 0, 7);
    writeUint32BE(header, 4, FRAME_TYPE_ERROR);
    expect(Array.from(f.subarray(0, 8))).toEqual(Array.from(header));
  });
});
