/**
 * Malformed and hostile input against a real in-process nsqd over real sockets.
 * Every case checks the error frame nsqd would send (texts from nsqd's
 * protocol_v2.go, as mirrored by src/tcp/client-v2.ts), whether the connection is
 * closed, and that the same server keeps serving: a fresh producer and consumer
 * work, and a consumer connected before all of this keeps receiving.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { FRAME_TYPE_ERROR } from "../../src/protocol/frames.ts";
import type { ClientV2 } from "../../src/tcp/client-v2.ts";
import { startTestNsqd, until } from "../helpers/nsqd.ts";
import { RawClient, bytes, concatBytes, mpubBody, sizePrefixed } from "../helpers/raw-client.ts";
import { mulberry32, TEST_SEEDS } from "../helpers/random.ts";

const SEEDS = TEST_SEEDS;

const MAX_MSG_SIZE = 1048576;
const MAX_BODY_SIZE = 5242880;
const COMMANDS = new Set(["FIN", "RDY", "REQ", "PUB", "MPUB", "DPUB", "NOP", "TOUCH", "SUB", "CLS", "IDENTIFY", "AUTH"]);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function sizePrefix(size: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, size >>> 0);
  return out;
}

let server: NsqdDaemon;
/** Subscribed to the health topic before any abuse; must keep receiving throughout. */
let veteran: RawClient;
let veteranReceived = 0;
const clients: RawClient[] = [];
let healthChecks = 0;

async function connect(magic: string | null = "  V2"): Promise<RawClient> {
  const c = await RawClient.connect(server.tcpPort, magic);
  clients.push(c);
  return c;
}

/** The server side of the connection accepted after `before` was taken. */
async function serverSideOf(before: Set<ClientV2>): Promise<ClientV2> {
  let found: ClientV2 | undefined;
  await until(() => {
    found = [...server.tcp.clients].find((c) => !before.has(c));
    return found !== undefined;
  }, "the server to accept the connection");
  return found!;
}

/** Counts the bytes the server side hands to its command parser, so a test can wait for a partial frame. */
function countReceived(side: ClientV2): () => number {
  let received = 0;
  const feed = side.parser.feed.bind(side.parser);
  side.parser.feed = (chunk) => {
    received += chunk.length;
    feed(chunk);
  };
  return () => received;
}

/** A V2 connection and its server side, whose received bytes (the magic included) are counted. */
async function connectTracked(): Promise<{ client: RawClient; side: ClientV2; received: () => number }> {
  const before = new Set(server.tcp.clients);
  const client = await connect(null);
  const side = await serverSideOf(before);
  const received = countReceived(side);
  client.write("  V2");
  return { client, side, received };
}

/** The server sends exactly this error frame, then closes the connection. */
async function expectFatal(c: RawClient, expected: string | Uint8Array): Promise<void> {
  const f = await c.frame();
  expect(f.type, `frame ${JSON.stringify(f.text)}`).toBe(FRAME_TYPE_ERROR);
  if (typeof expected === "string") expect(f.text).toBe(expected);
  else expect(Array.from(f.data)).toEqual(Array.from(expected));
  await c.waitClosed();
  // nothing else was sent after the error
  await expect(c.frame(500)).rejects.toThrow("connection closed");
}

/** The server sends this error frame and keeps the connection open. */
async function expectNonFatal(c: RawClient, expected: string | Uint8Array): Promise<void> {
  const f = await c.frame();
  expect(f.type, `frame ${JSON.stringify(f.text)}`).toBe(FRAME_TYPE_ERROR);
  if (typeof expected === "string") expect(f.text).toBe(expected);
  else expect(Array.from(f.data)).toEqual(Array.from(expected));
  expect(c.closed).toBe(false);
}

function publishedTo(topic: string): number {
  return server.nsqd.getExistingTopic(topic)?.messageCount ?? 0;
}

/**
 * The same server still works: a fresh consumer and producer exchange a message,
 * and the veteran consumer gets it too.
 */
async function expectHealthy(): Promise<void> {
  const n = ++healthChecks;
  const body = `health check ${n}`;
  const consumer = await connect();
  await consumer.subscribe("health", `fresh${n}#ephemeral`, 1);
  const producer = await connect();
  await producer.publish("health", body);
  const m = await consumer.message();
  expect(text(m.body)).toBe(body);
  consumer.fin(m.id);
  const v = await veteran.message();
  expect(text(v.body)).toBe(body);
  veteran.fin(v.id);
  veteranReceived++;
  expect(veteran.closed).toBe(false);
  producer.close();
  consumer.close();
}

beforeAll(async () => {
  server = startTestNsqd();
  veteran = await RawClient.connect(server.tcpPort);
  await veteran.subscribe("health", "veteran", 10);
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(() => {
  veteran?.close();
  server?.stop();
});

describe("protocol magic", () => {
  test("junk before the magic gets E_BAD_PROTOCOL and a close", async () => {
    for (const junk of ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "xx  V2NOP\n", "  V1", "\x00\x00\x00\x00", "V2  "]) {
      const c = await connect(null);
      c.write(junk);
      await expectFatal(c, "E_BAD_PROTOCOL");
    }
    const binary = await connect(null);
    binary.write(new Uint8Array([0xff, 0xfe, 0xfd, 0xfc, 0x0a, 0x0a]));
    await expectFatal(binary, "E_BAD_PROTOCOL");
    await expectHealthy();
  });

  test("the magic may arrive in pieces", async () => {
    const c = await connect(null);
    for (const piece of [" ", " ", "V", "2"]) {
      c.write(piece);
      await Bun.sleep(5);
    }
    await c.publish("pieces", "ok");
    expect(publishedTo("pieces")).toBe(1);
    await expectHealthy();
  });
});

describe("garbage commands", () => {
  for (const seed of SEEDS) {
    test(`seeded ASCII garbage is refused with nsqd's exact text (seed ${seed})`, async () => {
      const rand = mulberry32(seed);
      for (let round = 0; round < 5; round++) {
        let garbage: Uint8Array;
        let token: Uint8Array;
        do {
          garbage = Uint8Array.from({ length: 20 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 128));
          garbage[garbage.length - 1] = 0x0a;
          let lineEnd = garbage.indexOf(0x0a);
          if (lineEnd > 0 && garbage[lineEnd - 1] === 0x0d) lineEnd--;
          const line = garbage.subarray(0, lineEnd);
          const sp = line.indexOf(0x20);
          token = line.subarray(0, sp < 0 ? line.length : sp);
        } while (COMMANDS.has(text(token)));
        const c = await connect();
        c.write(garbage);
        await expectFatal(c, concatBytes("E_INVALID invalid command ", token));
      }
      await expectHealthy();
    });

    test(`seeded binary garbage closes the connection (seed ${seed})`, async () => {
      const rand = mulberry32(seed ^ 0x5a5a5a5a);
      for (let round = 0; round < 5; round++) {
        const garbage = Uint8Array.from({ length: 1 + Math.floor(rand() * 4000) }, () => Math.floor(rand() * 256));
        garbage[garbage.length - 1] = 0x0a;
        const c = await connect();
        c.write(garbage);
        const f = await c.frame();
        expect(f.type).toBe(FRAME_TYPE_ERROR);
        expect(f.text.startsWith("E_INVALID invalid command ")).toBe(true);
        await c.waitClosed();
      }
      await expectHealthy();
    });
  }

  test("an empty line is an invalid command", async () => {
    for (const line of ["\n", "\r\n", " PUB t\n"]) {
      const c = await connect();
      c.write(line);
      await expectFatal(c, "E_INVALID invalid command ");
    }
    await expectHealthy();
  });

  test("lower-case and padded command names are refused", async () => {
    const cases: [string, string][] = [
      ["nop\n", "E_INVALID invalid command nop"],
      ["PUBX t\n", "E_INVALID invalid command PUBX"],
      ["NOPE\n", "E_INVALID invalid command NOPE"],
      ["NOP\r\r\n", "E_INVALID invalid command NOP\r"],
    ];
    for (const [line, expected] of cases) {
      const c = await connect();
      c.write(line);
      await expectFatal(c, expected);
    }
    await expectHealthy();
  });

  test("commands before the garbage were executed, commands after it are not", async () => {
    const c = await connect();
    c.write(concatBytes("PUB before\n", sizePrefixed("one"), "NOP\nBOGUS\n", "PUB before\n", sizePrefixed("two")));
    expect(await c.response()).toBe("OK");
    await expectFatal(c, "E_INVALID invalid command BOGUS");
    expect(publishedTo("before")).toBe(1);
    await expectHealthy();
  });
});

describe("NUL bytes in commands", () => {
  test("fatal cases", async () => {
    const cases: [Uint8Array | string, string | Uint8Array][] = [
      ["NOP\x00\n", bytes("E_INVALID invalid command NOP\x00")],
      ["\x00\n", bytes("E_INVALID invalid command \x00")],
      ["\x00PUB t\n", bytes("E_INVALID invalid command \x00PUB")],
      [concatBytes("PUB top\x00ic\n", sizePrefixed("x")), 'E_BAD_TOPIC PUB topic name "top\\x00ic" is not valid'],
      ["SUB t\x00 c\n", 'E_BAD_TOPIC SUB topic name "t\\x00" is not valid'],
      ["SUB t c\x00\n", 'E_BAD_CHANNEL SUB channel name "c\\x00" is not valid'],
      [concatBytes("DPUB t\x00 10\n", sizePrefixed("x")), 'E_BAD_TOPIC DPUB topic name "t\\x00" is not valid'],
      [concatBytes("DPUB t 1\x000\n", sizePrefixed("x")), bytes("E_INVALID DPUB could not parse timeout 1\x000")],
      ["FIN \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\n", "E_INVALID cannot FIN in current state"],
    ];
    for (const [input, expected] of cases) {
      const c = await connect();
      c.write(input);
      await expectFatal(c, expected);
    }
    expect(publishedTo("t")).toBe(0);
    await expectHealthy();
  });

  test("NOP ignores its parameters, NUL bytes included", async () => {
    const c = await connect();
    c.write("NOP \x00\x00 \x00\n");
    await c.publish("nul-nop", "after");
    expect(publishedTo("nul-nop")).toBe(1);
    await expectHealthy();
  });

  test("a message id of 16 NUL bytes is not in flight: a non-fatal E_FIN_FAILED", async () => {
    const c = await connect();
    await c.subscribe("nul-fin", "c", 1);
    const nulId = "\x00".repeat(16);
    c.fin(nulId);
    await expectNonFatal(c, bytes(`E_FIN_FAILED FIN ${nulId} failed ID not in flight`));
    // still subscribed and receiving
    const p = await connect();
    await p.publish("nul-fin", "still here");
    const m = await c.message();
    expect(text(m.body)).toBe("still here");
    c.fin(m.id);
    expect(await c.quiet(50)).toBe(true);
    await expectHealthy();
  });
});

describe("non-fatal errors keep the connection", () => {
  test("FIN, REQ and TOUCH of ids not in flight, and of another client's message", async () => {
    const a = await connect();
    await a.subscribe("nonfatal", "c", 1);
    const b = await connect();
    await b.subscribe("nonfatal", "c");
    for (const id of ["ffdfffffffffffff", "ffffffffffffffff", "zzzzzzzzzzzzzzzz"]) {
      b.fin(id);
      await expectNonFatal(b, `E_FIN_FAILED FIN ${id} failed ID not in flight`);
      b.req(id, 0);
      await expectNonFatal(b, `E_REQ_FAILED REQ ${id} failed ID not in flight`);
      b.touch(id);
      await expectNonFatal(b, `E_TOUCH_FAILED TOUCH ${id} failed ID not in flight`);
    }
    const p = await connect();
    await p.publish("nonfatal", "first");
    const m = await a.message();
    expect(text(m.body)).toBe("first");
    b.fin(m.id);
    await expectNonFatal(b, `E_FIN_FAILED FIN ${m.id} failed client does not own message`);
    b.touch(m.id);
    await expectNonFatal(b, `E_TOUCH_FAILED TOUCH ${m.id} failed client does not own message`);
    a.fin(m.id);
    expect(await a.quiet(50)).toBe(true);
    // b is still a working consumer
    a.close();
    const channel = server.nsqd.getExistingTopic("nonfatal")!.getExistingChannel("c")!;
    await until(() => channel.consumers.length === 1, "a to leave the channel");
    b.rdy(1);
    await p.publish("nonfatal", "second");
    const m2 = await b.message();
    expect(text(m2.body)).toBe("second");
    b.fin(m2.id);
    expect(await b.quiet(50)).toBe(true);
    await expectHealthy();
  });

  test("a malformed message id is fatal", async () => {
    const c = await connect();
    await c.subscribe("badid", "c");
    c.fin("abc");
    await expectFatal(c, "E_INVALID Invalid Message ID");
    await expectHealthy();
  });
});

describe("size prefixes", () => {
  const cases: [string, number, string][] = [
    ["PUB t", 0, "E_BAD_MESSAGE PUB invalid message body size 0"],
    ["PUB t", 0x80000000, "E_BAD_MESSAGE PUB invalid message body size -2147483648"],
    ["PUB t", 0xffffffff, "E_BAD_MESSAGE PUB invalid message body size -1"],
    ["PUB t", 0x7fffffff, `E_BAD_MESSAGE PUB message too big 2147483647 > ${MAX_MSG_SIZE}`],
    ["PUB t", MAX_MSG_SIZE + 1, `E_BAD_MESSAGE PUB message too big ${MAX_MSG_SIZE + 1} > ${MAX_MSG_SIZE}`],
    ["DPUB t 10", 0x80000000, "E_BAD_MESSAGE DPUB invalid message body size -2147483648"],
    ["DPUB t 10", 0x7fffffff, `E_BAD_MESSAGE DPUB message too big 2147483647 > ${MAX_MSG_SIZE}`],
    ["MPUB t", 0, "E_BAD_BODY MPUB invalid body size 0"],
    ["MPUB t", 0x80000000, "E_BAD_BODY MPUB invalid body size -2147483648"],
    ["MPUB t", 0xffffffff, "E_BAD_BODY MPUB invalid body size -1"],
    ["MPUB t", 0x7fffffff, `E_BAD_BODY MPUB body too big 2147483647 > ${MAX_BODY_SIZE}`],
    ["MPUB t", MAX_BODY_SIZE + 1, `E_BAD_BODY MPUB body too big ${MAX_BODY_SIZE + 1} > ${MAX_BODY_SIZE}`],
    ["IDENTIFY", 0, "E_BAD_BODY IDENTIFY invalid body size 0"],
    ["IDENTIFY", 0x80000000, "E_BAD_BODY IDENTIFY invalid body size -2147483648"],
    ["IDENTIFY", 0x7fffffff, `E_BAD_BODY IDENTIFY body too big 2147483647 > ${MAX_BODY_SIZE}`],
    ["AUTH", 0xffffffff, "E_BAD_BODY AUTH invalid body size -1"],
  ];

  test("zero, negative (2 GiB and up) and too large sizes are fatal", async () => {
    for (const [line, size, expected] of cases) {
      const c = await connect();
      // whatever follows the size is never read as a body or a command
      c.write(concatBytes(`${line}\n`, sizePrefix(size), "hello\nNOP\n", "PUB t\n", sizePrefixed("x")));
      await expectFatal(c, expected);
    }
    expect(publishedTo("t")).toBe(0);
    await expectHealthy();
  });

  test("the size prefix may arrive byte by byte", async () => {
    const c = await connect();
    c.write("PUB t\n");
    for (const b of sizePrefix(0x80000000)) {
      await Bun.sleep(5);
      c.write(new Uint8Array([b]));
    }
    await expectFatal(c, "E_BAD_MESSAGE PUB invalid message body size -2147483648");
    await expectHealthy();
  });

  test("a PUB of exactly the max message size is accepted", async () => {
    const c = await connect();
    await c.publish("maxsize", new Uint8Array(MAX_MSG_SIZE).fill(0x61));
    expect(publishedTo("maxsize")).toBe(1);
    await expectHealthy();
  });
});

describe("MPUB bodies", () => {
  test("malformed bodies are fatal and publish nothing", async () => {
    const count = (n: number) => sizePrefix(n);
    const cases: [Uint8Array, string][] = [
      [new Uint8Array([0, 0]), "E_BAD_BODY MPUB failed to read message count"],
      [count(0), "E_BAD_BODY MPUB invalid message count 0"],
      [concatBytes(count(0xffffffff), sizePrefixed("a")), "E_BAD_BODY MPUB invalid message count -1"],
      [concatBytes(count(1048575 + 1), sizePrefixed("a")), "E_BAD_BODY MPUB invalid message count 1048576"],
      [concatBytes(count(2), sizePrefixed("a"), new Uint8Array([0, 0])), "E_BAD_MESSAGE MPUB failed to read message(1) body size"],
      [concatBytes(count(2), sizePrefixed("a"), sizePrefix(0)), "E_BAD_MESSAGE MPUB invalid message(1) body size 0"],
      [concatBytes(count(1), sizePrefix(0x80000000), "a"), "E_BAD_MESSAGE MPUB invalid message(0) body size -2147483648"],
      [concatBytes(count(1), sizePrefix(MAX_MSG_SIZE + 1), "a"), `E_BAD_MESSAGE MPUB message too big ${MAX_MSG_SIZE + 1} > ${MAX_MSG_SIZE}`],
      [concatBytes(count(1), sizePrefix(10), "abc"), "E_BAD_MESSAGE MPUB failed to read message body"],
      [concatBytes(mpubBody(["a", "b"]), "x"), "E_BAD_BODY MPUB body size 15 does not match its 2 messages (14 bytes)"],
    ];
    for (const [body, expected] of cases) {
      const c = await connect();
      c.write(concatBytes("MPUB mpub-bad\n", sizePrefixed(body)));
      await expectFatal(c, expected);
    }
    expect(publishedTo("mpub-bad")).toBe(0);
    await expectHealthy();
  });
});

describe("invalid names", () => {
  test("invalid UTF-8 and other bad names are quoted like Go's %q", async () => {
    const cases: [Uint8Array, string][] = [
      [concatBytes("PUB ", new Uint8Array([0xff, 0xfe]), "\n", sizePrefixed("x")), 'E_BAD_TOPIC PUB topic name "\\xff\\xfe" is not valid'],
      [concatBytes("PUB é", new Uint8Array([0xff]), "\n", sizePrefixed("x")), 'E_BAD_TOPIC PUB topic name "é\\xff" is not valid'],
      [concatBytes("DPUB ", new Uint8Array([0xc3]), " 10\n", sizePrefixed("x")), 'E_BAD_TOPIC DPUB topic name "\\xc3" is not valid'],
      [concatBytes("SUB ok ", new Uint8Array([0xed, 0xa0, 0x80]), "\n"), 'E_BAD_CHANNEL SUB channel name "\\xed\\xa0\\x80" is not valid'],
      [concatBytes("SUB 中 c\n"), 'E_BAD_TOPIC SUB topic name "中" is not valid'],
      [concatBytes("PUB \n", sizePrefixed("x")), 'E_BAD_TOPIC PUB topic name "" is not valid'],
      [concatBytes(`PUB ${"x".repeat(65)}\n`, sizePrefixed("x")), `E_BAD_TOPIC PUB topic name "${"x".repeat(65)}" is not valid`],
      [concatBytes("PUB #ephemeral\n", sizePrefixed("x")), 'E_BAD_TOPIC PUB topic name "#ephemeral" is not valid'],
      [concatBytes('PUB a"b\\c\n', sizePrefixed("x")), 'E_BAD_TOPIC PUB topic name "a\\"b\\\\c" is not valid'],
      [concatBytes("PUB a\tb\n", sizePrefixed("x")), 'E_BAD_TOPIC PUB topic name "a\\tb" is not valid'],
      [concatBytes("PUB\n", sizePrefixed("x")), "E_INVALID PUB insufficient number of parameters"],
      [concatBytes("SUB t\n"), "E_INVALID SUB insufficient number of parameters"],
    ];
    for (const [input, expected] of cases) {
      const c = await connect();
      c.write(input);
      await expectFatal(c, expected);
    }
    await expectHealthy();
  });
});

describe("bad numbers", () => {
  test("DPUB and RDY arguments", async () => {
    const cases: [string, string][] = [
      ["DPUB t abc\n", "E_INVALID DPUB could not parse timeout abc"],
      ["DPUB t -1\n", "E_INVALID DPUB could not parse timeout -1"],
      ["DPUB t 3600001\n", "E_INVALID DPUB timeout 3600001 out of range 0-3600000"],
      ["DPUB t\n", "E_INVALID DPUB insufficient number of parameters"],
    ];
    for (const [line, expected] of cases) {
      const c = await connect();
      c.write(concatBytes(line, sizePrefixed("x")));
      await expectFatal(c, expected);
    }
    for (const [arg, expected] of [
      ["-1", "E_INVALID RDY could not parse count -1"],
      ["1x", "E_INVALID RDY could not parse count 1x"],
      ["2501", "E_INVALID RDY count 2501 out of range 0-2500"],
    ]) {
      const c = await connect();
      await c.subscribe("rdy-bad", "c");
      c.write(`RDY ${arg}\n`);
      await expectFatal(c, expected);
    }
    expect(publishedTo("t")).toBe(0);
    await expectHealthy();
  });
});

describe("IDENTIFY bodies", () => {
  const undecodable: [string, string][] = [
    ["truncated JSON", '{"client_id": "x"'],
    ["not JSON", "hello"],
    ["a trailing comma", '{"client_id": "x",}'],
    ["an array", "[]"],
    ["a string", '"client"'],
    ["a number", "42"],
    ["a boolean", "true"],
    ["100000 unclosed [", "[".repeat(100000)],
    ["100000 nested arrays", "[".repeat(100000) + "]".repeat(100000)],
    ["client_id a number", '{"client_id": 5}'],
    ["hostname an object", '{"hostname": {}}'],
    ["heartbeat_interval a string", '{"heartbeat_interval": "1000"}'],
    ["msg_timeout a fraction", '{"msg_timeout": 1500.5}'],
    ["feature_negotiation a number", '{"feature_negotiation": 1}'],
    ["sample_rate a boolean", '{"sample_rate": true}'],
  ];

  test("undecodable bodies are fatal", async () => {
    for (const [name, json] of undecodable) {
      const c = await connect();
      c.write(concatBytes("IDENTIFY\n", sizePrefixed(json)));
      try {
        await expectFatal(c, "E_BAD_BODY IDENTIFY failed to decode JSON body");
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`);
      }
    }
    await expectHealthy();
  });

  test("out-of-range values are fatal with nsqd's texts", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ heartbeat_interval: 10 }, "E_BAD_BODY IDENTIFY heartbeat interval (10) is invalid"],
      [{ output_buffer_size: 10 }, "E_BAD_BODY IDENTIFY output buffer size (10) is invalid"],
      [{ sample_rate: 100 }, "E_BAD_BODY IDENTIFY sample rate (100) is invalid"],
      [{ msg_timeout: 10 }, "E_BAD_BODY IDENTIFY msg timeout (10) is invalid"],
    ];
    for (const [data, expected] of cases) {
      const c = await connect();
      c.identify(data);
      await expectFatal(c, expected);
    }
    await expectHealthy();
  });

  test("JSON null and unknown keys are accepted, as by Go's json.Unmarshal", async () => {
    for (const json of ["null", '{"unknown": [1, {"x": null}], "client_id": null}']) {
      const c = await connect();
      c.write(concatBytes("IDENTIFY\n", sizePrefixed(json)));
      expect(await c.response()).toBe("OK");
      await c.subscribe("identify-ok", "c");
    }
    await expectHealthy();
  });
});

describe("oversized lines", () => {
  test("a command line longer than 16 KiB without a newline closes the connection", async () => {
    const { client: c, side, received } = await connectTracked();
    // the PUB before it is answered first
    c.write(concatBytes("PUB longline\n", sizePrefixed("x")));
    expect(await c.response()).toBe("OK");
    const beforeLine = received();
    const chunk = "A".repeat(4096);
    for (let i = 0; i < 4; i++) c.write(chunk);
    // exactly 16 KiB without a newline is still waited for
    await until(() => received() === beforeLine + 16 * 1024, "16 KiB received");
    expect(c.closed).toBe(false);
    expect(side.closed).toBe(false);
    c.write("AA");
    await c.waitClosed();
    await until(() => !server.tcp.clients.has(side), "the server to drop the client");
    expect(side.parser.stopped).toBe(true);
    expect(publishedTo("longline")).toBe(1);
    await expectHealthy();
  });

  test("a long line sent at once closes the connection", async () => {
    const c = await connect();
    c.write("B".repeat(64 * 1024));
    await c.waitClosed();
    await expectHealthy();
  });

  test("a line just under the limit is fine", async () => {
    const c = await connect();
    c.write(`NOP ${"n".repeat(16000)}\n`);
    await c.publish("longish", "ok");
    expect(publishedTo("longish")).toBe(1);
    await expectHealthy();
  });
});

describe("truncated frames", () => {
  const cases: [string, Uint8Array][] = [
    ["mid-body of a PUB", concatBytes("PUB vanish\n", sizePrefix(100), "x".repeat(50))],
    ["mid-body of an MPUB", concatBytes("MPUB vanish\n", sizePrefix(2000), mpubBody(["a", "b"]), "y".repeat(300))],
    ["mid size prefix", concatBytes("PUB vanish\n", new Uint8Array([0, 0]))],
    ["mid command line", bytes("PUB vani")],
  ];

  for (const [name, data] of cases) {
    for (const how of ["end", "terminate"] as const) {
      test(`a client vanishing ${name} (${how})`, async () => {
        const before = new Set(server.tcp.clients);
        let closed = false;
        const socket: Socket<undefined> = await Bun.connect({
          hostname: "127.0.0.1",
          port: server.tcpPort,
          socket: {
            data: () => {},
            close: () => {
              closed = true;
            },
            error: () => {},
          },
        });
        const side = await serverSideOf(before);
        const received = countReceived(side);
        socket.write(concatBytes("  V2", data));
        await until(() => received() === 4 + data.length, "the partial frame received");
        if (how === "end") socket.end();
        else socket.terminate();
        await until(() => !server.tcp.clients.has(side), "the server to drop the client");
        expect(side.closed).toBe(true);
        expect(publishedTo("vanish")).toBe(0);
        if (how === "end") await until(() => closed, "the socket to close");
        await expectHealthy();
      });
    }
  }

  test("a client vanishing mid magic", async () => {
    const before = new Set(server.tcp.clients);
    const c = await connect(null);
    const side = await serverSideOf(before);
    const received = countReceived(side);
    c.write(" V");
    await until(() => received() === 2, "2 bytes received");
    c.close();
    await until(() => !server.tcp.clients.has(side), "the server to drop the client");
    await expectHealthy();
  });
});

describe("stalled clients", () => {
  test("half a PUB body then a stall: others are served, and the PUB completes later", async () => {
    const { client: staller, received } = await connectTracked();
    const sub = await connect();
    await sub.subscribe("stall", "c", 10);
    const half = concatBytes("PUB stall\n", sizePrefix(10), "01234");
    staller.write(half);
    await until(() => received() === 4 + half.length, "half the body received");
    // meanwhile the server keeps serving everyone else
    await expectHealthy();
    await expectHealthy();
    const other = await connect();
    await other.publish("stall", "from another client");
    const m1 = await sub.message();
    expect(text(m1.body)).toBe("from another client");
    sub.fin(m1.id);
    expect(staller.closed).toBe(false);
    expect(await staller.quiet(20)).toBe(true);
    // the rest of the body arrives: the PUB goes through
    staller.write("56789");
    expect(await staller.response()).toBe("OK");
    const m2 = await sub.message();
    expect(text(m2.body)).toBe("0123456789");
    sub.fin(m2.id);
    expect(publishedTo("stall")).toBe(2);
  });

  test("a client stalled mid-body is dropped after twice its heartbeat interval", async () => {
    const { client: staller, side, received } = await connectTracked();
    staller.identify({ heartbeat_interval: 1000 });
    expect(await staller.response()).toBe("OK");
    const started = Date.now();
    const beforePub = received();
    const partial = concatBytes("PUB stall-deadline\n", sizePrefix(100), "abc");
    staller.write(partial);
    await until(() => received() === beforePub + partial.length, "the partial body received");
    await expectHealthy();
    await staller.waitClosed(4000);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(1900);
    expect(waited).toBeLessThan(3500);
    await until(() => !server.tcp.clients.has(side), "the server to drop the client");
    expect(publishedTo("stall-deadline")).toBe(0);
    await expectHealthy();
  });
});

describe("connection churn", () => {
  test("200 connections opened and dropped abruptly in parallel while a producer and consumer keep working", async () => {
    const consumer = await connect();
    await consumer.subscribe("churn", "c", 50);
    const producer = await connect();
    const before = new Set(server.tcp.clients);
    const total = 300;
    const received = new Set<string>();

    const consume = (async () => {
      while (received.size < total) {
        const m = await consumer.message(5000);
        received.add(text(m.body));
        consumer.fin(m.id);
      }
    })();

    const produce = (async () => {
      for (let i = 0; i < total; i++) {
        await producer.publish("churn", `m${i}`);
        if (i % 20 === 0) await Bun.sleep(1);
      }
    })();

    const rand = mulberry32(2024);
    const payloads: Uint8Array[] = [
      new Uint8Array(0),
      bytes("  V2"),
      bytes("  V2PUB churn\n"),
      concatBytes("  V2PUB churn\n", sizePrefix(1000), "partial"),
      concatBytes("  V2MPUB churn\n", sizePrefix(100), mpubBody(["a"])),
      concatBytes("  V2SUB churn c\nRDY 5\n"),
      concatBytes("  V2IDENTIFY\n", sizePrefixed('{"client_id":"churn"}'), "SUB churn c\nRDY 100\n"),
      bytes("GARBAGE"),
      concatBytes("  V2", Uint8Array.from({ length: 3000 }, () => Math.floor(rand() * 256))),
    ];
    const abuse = Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const socket = await Bun.connect({
          hostname: "127.0.0.1",
          port: server.tcpPort,
          socket: { data: () => {}, error: () => {} },
        });
        const payload = payloads[i % payloads.length];
        if (payload.length > 0) socket.write(payload);
        if (rand() < 0.5) await Bun.sleep(Math.floor(rand() * 5));
        if (i % 3 === 0) socket.end();
        else socket.terminate();
      }),
    );

    await Promise.all([abuse, produce, consume]);
    expect(received.size).toBe(total);
    for (let i = 0; i < total; i++) expect(received.has(`m${i}`)).toBe(true);
    // every abusive connection is gone from the server, and no churn consumer kept a message
    await until(() => [...server.tcp.clients].every((c) => before.has(c)), "the abusive connections to be dropped", 5000);
    const channel = server.nsqd.getExistingTopic("churn")!.getExistingChannel("c")!;
    await until(() => channel.inFlightCount === 0, "no message in flight");
    expect(channel.consumers.length).toBe(1);
    expect(channel.depth).toBe(0);
    expect(publishedTo("churn")).toBe(total);
    await expectHealthy();
  });
});

describe("the veteran consumer", () => {
  test("received every health check message and is still connected", async () => {
    await expectHealthy();
    expect(veteranReceived).toBe(healthChecks);
    expect(veteran.closed).toBe(false);
    expect(await veteran.quiet(20)).toBe(true);
    expect(server.tcp.clients.size).toBeGreaterThanOrEqual(1);
  });
});
