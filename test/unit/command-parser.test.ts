import { describe, expect, test } from "bun:test";
import { CommandParser, type CommandHandler, type CommandLine } from "../../src/protocol/command-parser.ts";
import { mulberry32, TEST_SEEDS } from "../helpers/random.ts";

const SEEDS = TEST_SEEDS;

const encoder = new TextEncoder();

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

function int32BE(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, n);
  return out;
}

/** Commands whose line is followed by a size-prefixed body. */
const BODY_COMMANDS = new Set(["PUB", "MPUB", "DPUB", "IDENTIFY", "AUTH"]);

interface RecorderOptions {
  magicOk?: boolean;
  /** Calls parser.stop() inside the callback that records this event. */
  stopAt?: (event: string) => boolean;
}

/** A handler that records every callback as a string, and keeps the body views it got. */
class Recorder implements CommandHandler {
  readonly events: string[] = [];
  readonly bodies: Uint8Array[] = [];
  parser!: CommandParser;

  constructor(private readonly opts: RecorderOptions = {}) {}

  private record(event: string): void {
    this.events.push(event);
    if (this.opts.stopAt?.(event)) this.parser.stop();
  }

  magic(bytes: Uint8Array): boolean {
    expect(bytes.length).toBe(4);
    this.record(`magic ${JSON.stringify(latin1(bytes))}`);
    return this.opts.magicOk ?? true;
  }

  line(line: CommandLine): boolean {
    const args: string[] = [];
    for (let i = 0; i < Math.min(line.argc, 8); i++) {
      // arg(), argLength() and argIs() describe the same bytes
      const raw = line.buf.slice(line.argStart[i], line.argEnd[i]);
      expect(line.argLength(i)).toBe(raw.length);
      expect(line.argIs(i, raw)).toBe(true);
      expect(encoder.encode(line.arg(i))).toEqual(raw);
      args.push(line.arg(i));
    }
    expect(line.arg(line.argc)).toBe("");
    this.record(`line ${line.argc} ${JSON.stringify(args)} ${JSON.stringify(line.text())}`);
    return BODY_COMMANDS.has(line.arg(0));
  }

  bodySize(size: number): void {
    this.record(`size ${size}`);
  }

  body(bytes: Uint8Array): void {
    this.bodies.push(bytes);
    this.record(`body ${hex(bytes)}`);
  }

  lineTooLong(limit: number): void {
    this.record(`tooLong ${limit}`);
  }
}

function makeParser(opts: RecorderOptions = {}, maxLineLength?: number, expectMagic = true): Recorder {
  const rec = new Recorder(opts);
  rec.parser = new CommandParser(rec, maxLineLength, expectMagic);
  return rec;
}

/** A byte stream built from parts, remembering where each body lies. */
class StreamBuilder {
  private parts: Uint8Array[] = [];
  private length = 0;
  readonly bodyRanges: [number, number][] = [];

  add(part: Uint8Array | string): this {
    const b = typeof part === "string" ? encoder.encode(part) : part;
    this.parts.push(b);
    this.length += b.length;
    return this;
  }

  /** A line, then a size prefix; a positive size is followed by that body. */
  command(line: string, body: Uint8Array | string | number): this {
    this.add(line);
    if (typeof body === "number") return this.add(int32BE(body));
    const b = typeof body === "string" ? encoder.encode(body) : body;
    this.add(int32BE(b.length));
    this.bodyRanges.push([this.length, this.length + b.length]);
    return this.add(b);
  }

  build(): Uint8Array {
    const out = new Uint8Array(this.length);
    let pos = 0;
    for (const p of this.parts) {
      out.set(p, pos);
      pos += p.length;
    }
    return out;
  }
}

function randomBytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

const bigBody = randomBytes(mulberry32(7), 300);
bigBody[10] = 0x0a; // newlines and spaces inside a body are not line structure
bigBody[11] = 0x20;

const IDENTIFY_BODY = encoder.encode("line1\nline2\r\n \x00\u00ff");

const mixed = new StreamBuilder()
  .add("  V2")
  .add("NOP\n")
  .command("PUB topic\n", "hello")
  .add("\n")
  .add("FIN 0123456789abcdef\r\n")
  .command("MPUB t\r\n", 0)
  .command("PUB t\n", -1)
  .command("PUB t\n", -2147483648)
  .command("IDENTIFY\n", IDENTIFY_BODY)
  .add("\r\n")
  .add("RDY  10 \n")
  .add("A B C D E F G H I J\n")
  .add("TOUCH é中\n")
  .command("PUB x\n", "!")
  .add("\r\r\n")
  .command("DPUB big 100\r\n", bigBody)
  .command("AUTH\n", new Uint8Array([0x0a]))
  .add("CLS\n");
const MIXED = mixed.build();

const EXPECTED_MIXED = [
  'magic "  V2"',
  'line 1 ["NOP"] "NOP"',
  'line 2 ["PUB","topic"] "PUB topic"',
  "size 5",
  `body ${hex(encoder.encode("hello"))}`,
  'line 1 [""] ""',
  'line 2 ["FIN","0123456789abcdef"] "FIN 0123456789abcdef"',
  'line 2 ["MPUB","t"] "MPUB t"',
  "size 0",
  'line 2 ["PUB","t"] "PUB t"',
  "size -1",
  'line 2 ["PUB","t"] "PUB t"',
  "size -2147483648",
  'line 1 ["IDENTIFY"] "IDENTIFY"',
  `size ${IDENTIFY_BODY.length}`,
  `body ${hex(IDENTIFY_BODY)}`,
  'line 1 [""] ""',
  'line 4 ["RDY","","10",""] "RDY  10 "',
  'line 10 ["A","B","C","D","E","F","G","H"] "A B C D E F G H"',
  'line 2 ["TOUCH","é中"] "TOUCH é中"',
  'line 2 ["PUB","x"] "PUB x"',
  "size 1",
  "body 21",
  // only the last "\r" before "\n" is dropped
  'line 1 ["\\r"] "\\r"',
  'line 3 ["DPUB","big","100"] "DPUB big 100"',
  "size 300",
  `body ${hex(bigBody)}`,
  'line 1 ["AUTH"] "AUTH"',
  "size 1",
  "body 0a",
  'line 1 ["CLS"] "CLS"',
];

/** Cuts data at the given sorted offsets; each chunk is a fresh copy with its own buffer. */
function chunksAt(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...cuts, data.length]) {
    chunks.push(data.slice(prev, c));
    prev = c;
  }
  return chunks;
}

function randomCuts(rand: () => number, length: number): number[] {
  const cuts: number[] = [];
  const mode = rand();
  let pos = 0;
  for (;;) {
    // mostly small steps, sometimes large, sometimes an empty chunk
    const r = rand();
    const step = r < 0.05 ? 0 : mode < 0.5 ? 1 + Math.floor(rand() * 8) : 1 + Math.floor(rand() * 120);
    pos += step;
    if (pos >= length) return cuts;
    cuts.push(pos);
  }
}

/**
 * Feeds the chunks, then checks the events and that every body was handed out as a
 * view of its chunk when the chunk held all of it, and as one copy of its own otherwise.
 */
function feedAndCheck(data: Uint8Array, cuts: number[], bodyRanges: [number, number][], expected: string[], what: string): void {
  const rec = makeParser();
  const chunks = chunksAt(data, cuts);
  for (const chunk of chunks) rec.parser.feed(chunk);
  expect(rec.events, what).toEqual(expected);
  expect(rec.bodies.length, what).toBe(bodyRanges.length);
  const starts = [0, ...cuts];
  for (let j = 0; j < bodyRanges.length; j++) {
    const [s, e] = bodyRanges[j];
    const body = rec.bodies[j];
    const c = starts.findLastIndex((start) => start <= s);
    const chunkEnd = starts[c] + chunks[c].length;
    if (e <= chunkEnd) {
      expect(body.buffer === chunks[c].buffer, `${what}: body ${j} should be a view of chunk ${c}`).toBe(true);
      expect(body.byteOffset, what).toBe(s - starts[c]);
    } else {
      expect(
        chunks.some((ch) => ch.buffer === body.buffer),
        `${what}: split body ${j} must not alias a chunk`,
      ).toBe(false);
      expect(body.byteOffset, what).toBe(0);
      expect(body.buffer.byteLength, `${what}: split body ${j} copied into storage of its own size`).toBe(e - s);
    }
  }
}

describe("CommandParser: a mixed stream", () => {
  test("fed whole", () => {
    feedAndCheck(MIXED, [], mixed.bodyRanges, EXPECTED_MIXED, "whole");
  });

  test("split into two chunks at every byte position", () => {
    for (let i = 0; i <= MIXED.length; i++) {
      feedAndCheck(MIXED, [i], mixed.bodyRanges, EXPECTED_MIXED, `split at ${i}`);
    }
  });

  test("split into three chunks at every pair of positions around each body", () => {
    // every cut pair that lands in or next to a body or its size prefix
    const interesting = new Set<number>();
    for (const [s, e] of mixed.bodyRanges) {
      for (let i = s - 6; i <= Math.min(e + 2, s + 8); i++) interesting.add(i);
      for (let i = e - 3; i <= e + 2; i++) interesting.add(i);
    }
    const points = [...interesting].filter((i) => i >= 0 && i <= MIXED.length).sort((a, b) => a - b);
    for (const a of points) {
      for (const b of points) {
        if (b < a) continue;
        feedAndCheck(MIXED, [a, b], mixed.bodyRanges, EXPECTED_MIXED, `split at ${a} and ${b}`);
      }
    }
  });

  test("one byte at a time", () => {
    const cuts = Array.from({ length: MIXED.length - 1 }, (_, i) => i + 1);
    feedAndCheck(MIXED, cuts, mixed.bodyRanges, EXPECTED_MIXED, "byte by byte");
  });

  test("empty chunks change nothing", () => {
    const rec = makeParser();
    rec.parser.feed(new Uint8Array(0));
    for (let i = 0; i < MIXED.length; i++) {
      rec.parser.feed(MIXED.subarray(i, i + 1));
      rec.parser.feed(new Uint8Array(0));
    }
    expect(rec.events).toEqual(EXPECTED_MIXED);
  });

  for (const seed of SEEDS) {
    test(`random chunkings (seed ${seed})`, () => {
      const rand = mulberry32(seed);
      for (let round = 0; round < 300; round++) {
        const cuts = randomCuts(rand, MIXED.length);
        feedAndCheck(MIXED, cuts, mixed.bodyRanges, EXPECTED_MIXED, `seed ${seed} round ${round} cuts ${cuts.join(",")}`);
      }
    });
  }

  test("a body split across chunks is delivered once the last byte arrives", () => {
    const data = new StreamBuilder().add("  V2").command("PUB t\n", "abcdef").add("NOP\n").build();
    const rec = makeParser();
    rec.parser.feed(data.slice(0, 4 + 6 + 4 + 2));
    expect(rec.events).toEqual(['magic "  V2"', 'line 2 ["PUB","t"] "PUB t"', "size 6"]);
    rec.parser.feed(data.slice(16, 19));
    expect(rec.events.length).toBe(3);
    rec.parser.feed(data.slice(19));
    expect(rec.events.slice(3)).toEqual([`body ${hex(encoder.encode("abcdef"))}`, 'line 1 ["NOP"] "NOP"']);
  });

  test("incomplete lines are buffered until their newline", () => {
    const rec = makeParser();
    rec.parser.feed(encoder.encode("  V2SUB top"));
    expect(rec.events).toEqual(['magic "  V2"']);
    rec.parser.feed(encoder.encode("ic ch"));
    rec.parser.feed(encoder.encode("\r"));
    expect(rec.events.length).toBe(1);
    rec.parser.feed(encoder.encode("\nRDY 1"));
    expect(rec.events.slice(1)).toEqual(['line 3 ["SUB","topic","ch"] "SUB topic ch"']);
  });

  test("without magic, lines are parsed from the first byte", () => {
    const rec = makeParser({}, undefined, false);
    rec.parser.feed(encoder.encode("  V2\nNOP\n"));
    expect(rec.events).toEqual(['line 3 ["","","V2"] "  V2"', 'line 1 ["NOP"] "NOP"']);
  });
});

describe("CommandParser: magic", () => {
  test("the magic is handed over once, also when it arrives byte by byte", () => {
    const rec = makeParser();
    for (const b of encoder.encode("  V2NOP\n")) rec.parser.feed(new Uint8Array([b]));
    expect(rec.events).toEqual(['magic "  V2"', 'line 1 ["NOP"] "NOP"']);
  });

  test("a refused magic stops everything, whole or split", () => {
    const data = encoder.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    for (let i = 0; i <= data.length; i++) {
      const rec = makeParser({ magicOk: false });
      rec.parser.feed(data.slice(0, i));
      rec.parser.feed(data.slice(i));
      rec.parser.feed(encoder.encode("NOP\nPUB t\n\x00\x00\x00\x01x"));
      expect(rec.events, `split at ${i}`).toEqual(['magic "GET "']);
      expect(rec.parser.stopped).toBe(true);
    }
  });

  test("a magic with binary bytes is passed as is", () => {
    const rec = makeParser({ magicOk: false });
    rec.parser.feed(new Uint8Array([0, 0xff, 0x0a, 0x20, 0x4e]));
    expect(rec.events).toEqual([`magic ${JSON.stringify("\x00\xff\n ")}`]);
  });
});

describe("CommandParser: line length limit", () => {
  const limit = 16;

  test("a line of exactly the limit is accepted, one byte more is refused", () => {
    const ok = makeParser({}, limit);
    ok.parser.feed(encoder.encode(`  V2${"a".repeat(limit)}\nNOP\n`));
    expect(ok.events).toEqual(['magic "  V2"', `line 1 ["${"a".repeat(limit)}"] "${"a".repeat(limit)}"`, 'line 1 ["NOP"] "NOP"']);

    const long = makeParser({}, limit);
    long.parser.feed(encoder.encode(`  V2NOP\n${"a".repeat(limit + 1)}\nNOP\n`));
    expect(long.events).toEqual(['magic "  V2"', 'line 1 ["NOP"] "NOP"', `tooLong ${limit}`]);
    expect(long.parser.stopped).toBe(true);
    long.parser.feed(encoder.encode("NOP\n"));
    expect(long.events.length).toBe(3);
  });

  test("fires within one chunk as soon as the limit is passed, without a newline", () => {
    const rec = makeParser({}, limit);
    rec.parser.feed(encoder.encode(`  V2${"b".repeat(limit)}`));
    expect(rec.events).toEqual(['magic "  V2"']);
    const fresh = makeParser({}, limit);
    fresh.parser.feed(encoder.encode(`  V2${"b".repeat(limit + 1)}`));
    expect(fresh.events).toEqual(['magic "  V2"', `tooLong ${limit}`]);
  });

  test("fires across chunks as soon as the buffered line passes the limit", () => {
    const rec = makeParser({}, limit);
    rec.parser.feed(encoder.encode("  V2NOP\nccccc"));
    rec.parser.feed(encoder.encode("cccccc"));
    rec.parser.feed(encoder.encode("ccccc"));
    expect(rec.events).toEqual(['magic "  V2"', 'line 1 ["NOP"] "NOP"']);
    rec.parser.feed(encoder.encode("c"));
    expect(rec.events).toEqual(['magic "  V2"', 'line 1 ["NOP"] "NOP"', `tooLong ${limit}`]);
    expect(rec.parser.stopped).toBe(true);
  });

  test("the same events at every split point and byte by byte", () => {
    const cases: [string, string[]][] = [
      [`  V2NOP\n${"d".repeat(limit)}\nNOP\n`, ['magic "  V2"', 'line 1 ["NOP"] "NOP"', `line 1 ["${"d".repeat(limit)}"] "${"d".repeat(limit)}"`, 'line 1 ["NOP"] "NOP"']],
      [`  V2NOP\n${"d".repeat(limit + 1)}\nNOP\n`, ['magic "  V2"', 'line 1 ["NOP"] "NOP"', `tooLong ${limit}`]],
      [`  V2NOP\n${"d".repeat(limit * 3)}`, ['magic "  V2"', 'line 1 ["NOP"] "NOP"', `tooLong ${limit}`]],
      [`  V2PUB t\n\x00\x00\x00\x20${"e".repeat(32)}${"f".repeat(limit + 2)}\n`, ['magic "  V2"', 'line 2 ["PUB","t"] "PUB t"', "size 32", `body ${"65".repeat(32)}`, `tooLong ${limit}`]],
    ];
    for (const [text, expected] of cases) {
      const data = encoder.encode(text);
      for (let i = 0; i <= data.length; i++) {
        const rec = makeParser({}, limit);
        rec.parser.feed(data.slice(0, i));
        rec.parser.feed(data.slice(i));
        expect(rec.events, `${JSON.stringify(text)} split at ${i}`).toEqual(expected);
      }
      const rec = makeParser({}, limit);
      for (const b of data) rec.parser.feed(new Uint8Array([b]));
      expect(rec.events, `${JSON.stringify(text)} byte by byte`).toEqual(expected);
    }
  });

  test("the default limit is 16 KiB", () => {
    const ok = makeParser();
    ok.parser.feed(encoder.encode(`  V2${"g".repeat(16 * 1024)}\n`));
    expect(ok.events.length).toBe(2);
    expect(ok.events[1].startsWith('line 1 ["ggg')).toBe(true);
    const long = makeParser();
    long.parser.feed(encoder.encode("  V2"));
    for (let i = 0; i < 16; i++) long.parser.feed(encoder.encode("g".repeat(1024)));
    expect(long.events).toEqual(['magic "  V2"']);
    long.parser.feed(encoder.encode("g"));
    expect(long.events).toEqual(['magic "  V2"', `tooLong ${16 * 1024}`]);
  });
});

describe("CommandParser: stop() inside a callback", () => {
  const stopCases: [string, (event: string) => boolean][] = [
    ["magic", (e) => e.startsWith("magic")],
    ["a line", (e) => e.startsWith('line 2 ["PUB","topic"]')],
    ["a line without body", (e) => e === 'line 1 [""] ""'],
    ["bodySize", (e) => e === "size 5"],
    ["bodySize of 0", (e) => e === "size 0"],
    ["the IDENTIFY body", (e) => e === `body ${hex(IDENTIFY_BODY)}`],
    ["the big body", (e) => e === `body ${hex(bigBody)}`],
    ["the last line", (e) => e === 'line 1 ["CLS"] "CLS"'],
  ];

  for (const [name, stopAt] of stopCases) {
    test(`stopping in ${name} ends parsing, at every split point`, () => {
      const at = EXPECTED_MIXED.findIndex(stopAt);
      expect(at).toBeGreaterThanOrEqual(0);
      const expected = EXPECTED_MIXED.slice(0, at + 1);
      const feeds: [string, Uint8Array[]][] = [["whole", [MIXED.slice()]]];
      for (let i = 0; i <= MIXED.length; i++) feeds.push([`split at ${i}`, chunksAt(MIXED, [i])]);
      feeds.push(["byte by byte", chunksAt(MIXED, Array.from({ length: MIXED.length - 1 }, (_, i) => i + 1))]);
      for (const [what, chunks] of feeds) {
        const rec = makeParser({ stopAt });
        for (const chunk of chunks) rec.parser.feed(chunk);
        rec.parser.feed(encoder.encode("NOP\n"));
        expect(rec.events, what).toEqual(expected);
        expect(rec.parser.stopped, what).toBe(true);
      }
    });
  }

  test("stop() between feeds drops a half-received body", () => {
    const rec = makeParser();
    rec.parser.feed(encoder.encode("  V2PUB t\n\x00\x00\x00\x0aabc"));
    rec.parser.stop();
    rec.parser.feed(encoder.encode("defghij\nNOP\n"));
    expect(rec.events).toEqual(['magic "  V2"', 'line 2 ["PUB","t"] "PUB t"', "size 10"]);
  });
});
