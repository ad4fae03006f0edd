/**
 * Every V2 command and its error paths against a real server on loopback, with the
 * error texts and the fatal / non-fatal split of nsqd 1.3.
 *
 * With BUNSQ_TEST_WORKERS=N (N > 1) the server is a spawned `nsqd --workers=N`
 * (supervisor and worker processes, see startTestServer in test/helpers/workers.ts)
 * and every client connects to its shared address; what the server holds is read
 * from its /stats, in both modes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestNsqd, until } from "../helpers/nsqd.ts";
import { RawClient, concatBytes, sizePrefixed } from "../helpers/raw-client.ts";
import { TEST_WORKERS, channelOf, startTestServer, type TestServer } from "../helpers/workers.ts";

let server: TestServer | null = null;
/** The port every client connects to: the nsqd's, or the workers' shared one. */
let port = 0;
const clients: RawClient[] = [];

/** A channel's depth over the whole nsqd, from its /stats. */
async function channelDepth(topic: string, channel: string): Promise<number | undefined> {
  return channelOf(await server!.stats(topic), topic, channel)?.depth;
}

async function connect(): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

let topicSeq = 0;
const freshTopic = () => `t${++topicSeq}_${Date.now()}`;

beforeAll(async () => {
  server = await startTestServer({ maxRdyCount: 100, maxMsgSize: 1024, maxBodySize: 4096, maxChannelConsumers: 2 });
  port = server.tcpPort;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server?.stop();
});

async function expectFatal(c: RawClient, text: string): Promise<void> {
  expect(await c.error()).toBe(text);
  await c.waitClosed();
}

describe("magic", () => {
  test("a wrong magic gets E_BAD_PROTOCOL and a close", async () => {
    const c = await RawClient.connect(port, "  V9");
    clients.push(c);
    await expectFatal(c, "E_BAD_PROTOCOL");
  });
});

describe("IDENTIFY", () => {
  test("without feature negotiation answers OK", async () => {
    const c = await connect();
    c.identify({ client_id: "a", hostname: "h", user_agent: "test/1" });
    expect(await c.response()).toBe("OK");
  });

  test("with feature negotiation answers nsqd's JSON fields", async () => {
    const c = await connect();
    c.identify({ feature_negotiation: true, msg_timeout: 5000, output_buffer_size: 4096, output_buffer_timeout: 100 });
    const json = JSON.parse(await c.response());
    expect(Object.keys(json).sort()).toEqual(
      [
        "auth_required",
        "deflate",
        "deflate_level",
        "max_deflate_level",
        "max_msg_timeout",
        "max_rdy_count",
        "msg_timeout",
        "output_buffer_size",
        "output_buffer_timeout",
        "sample_rate",
        "snappy",
        "tls_v1",
        "version",
      ].sort(),
    );
    expect(json.max_rdy_count).toBe(100);
    expect(json.msg_timeout).toBe(5000);
    expect(json.max_msg_timeout).toBe(15 * 60 * 1000);
    expect(json.output_buffer_size).toBe(4096);
    expect(json.output_buffer_timeout).toBe(100);
    expect(json.tls_v1).toBe(false);
    expect(json.snappy).toBe(false);
    expect(json.deflate).toBe(false);
    expect(json.auth_required).toBe(false);
    expect(json.version).toStartWith("1.3.0");
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ["heartbeat too small", { heartbeat_interval: 999 }, "E_BAD_BODY IDENTIFY heartbeat interval (999) is invalid"],
    ["heartbeat too large", { heartbeat_interval: 60001 }, "E_BAD_BODY IDENTIFY heartbeat interval (60001) is invalid"],
    ["buffer size", { output_buffer_size: 63 }, "E_BAD_BODY IDENTIFY output buffer size (63) is invalid"],
    ["buffer timeout", { output_buffer_timeout: 24 }, "E_BAD_BODY IDENTIFY output buffer timeout (24) is invalid"],
    ["sample rate", { sample_rate: 100 }, "E_BAD_BODY IDENTIFY sample rate (100) is invalid"],
    ["msg timeout", { msg_timeout: 999 }, "E_BAD_BODY IDENTIFY msg timeout (999) is invalid"],
    ["wrong type", { heartbeat_interval: "1s" }, "E_BAD_BODY IDENTIFY failed to decode JSON body"],
  ];
  for (const [name, data, text] of invalid) {
    test(`rejects ${name} and closes`, async () => {
      const c = await connect();
      c.identify(data);
      await expectFatal(c, text);
    });
  }

  test("bad JSON, empty and oversized bodies are fatal", async () => {
    let c = await connect();
    c.write(concatBytes("IDENTIFY\n", sizePrefixed("{nope")));
    await expectFatal(c, "E_BAD_BODY IDENTIFY failed to decode JSON body");
    c = await connect();
    c.write(concatBytes("IDENTIFY\n", new Uint8Array(4)));
    await expectFatal(c, "E_BAD_BODY IDENTIFY invalid body size 0");
    c = await connect();
    c.write(concatBytes("IDENTIFY\n", sizePrefixed("x".repeat(4097))));
    await expectFatal(c, "E_BAD_BODY IDENTIFY body too big 4097 > 4096");
  });

  test("JSON nested deeper than Go's decoder allows is refused", async () => {
    const roomy = await startTestServer(); // the shared server's 4 KiB body limit would refuse it first
    try {
      const c = await RawClient.connect(roomy.tcpPort);
      clients.push(c);
      c.write(concatBytes("IDENTIFY\n", sizePrefixed(`${'{"a":'.repeat(10001)}1${"}".repeat(10001)}`)));
      await expectFatal(c, "E_BAD_BODY IDENTIFY failed to decode JSON body");
      const ok = await RawClient.connect(roomy.tcpPort);
      clients.push(ok);
      ok.write(concatBytes("IDENTIFY\n", sizePrefixed(`{"x":${"[".repeat(100)}${"]".repeat(100)},"y":"[[[{{"}`)));
      expect(await ok.response()).toBe("OK");
    } finally {
      await roomy.stop();
    }
  });

  test("snappy and deflate together are refused", async () => {
    const c = await connect();
    c.identify({ feature_negotiation: true, snappy: true, deflate: true });
    await expectFatal(c, "E_IDENTIFY_FAILED cannot enable both deflate and snappy compression");
  });

  test("IDENTIFY after SUB is refused", async () => {
    const c = await connect();
    await c.subscribe(freshTopic(), "ch");
    c.identify({});
    await expectFatal(c, "E_INVALID cannot IDENTIFY in current state");
  });
});

describe("PUB / MPUB / DPUB", () => {
  test("PUB answers OK and errors are fatal", async () => {
    const c = await connect();
    await c.publish(freshTopic(), "x");
    const cases: [Uint8Array | string, string][] = [
      ["PUB\n", "E_INVALID PUB insufficient number of parameters"],
      [concatBytes("PUB bad!topic\n", sizePrefixed("x")), 'E_BAD_TOPIC PUB topic name "bad!topic" is not valid'],
      [concatBytes("PUB t\n", new Uint8Array(4)), "E_BAD_MESSAGE PUB invalid message body size 0"],
      [concatBytes("PUB t\n", sizePrefixed("x".repeat(1025))), "E_BAD_MESSAGE PUB message too big 1025 > 1024"],
    ];
    for (const [input, text] of cases) {
      const bad = await connect();
      bad.write(input);
      await expectFatal(bad, text);
    }
  });

  test("MPUB answers OK and validates its body", async () => {
    const c = await connect();
    c.mpub(freshTopic(), ["a", "b", "c"]);
    expect(await c.response()).toBe("OK");
    const cases: [Uint8Array | string, string][] = [
      ["MPUB\n", "E_INVALID MPUB insufficient number of parameters"],
      // nsqd 1.3 repeats the code in this one description
      [concatBytes("MPUB b@d\n", sizePrefixed("x")), 'E_BAD_TOPIC E_BAD_TOPIC MPUB topic name "b@d" is not valid'],
      [concatBytes("MPUB t\n", sizePrefixed("x".repeat(4097))), "E_BAD_BODY MPUB body too big 4097 > 4096"],
      [concatBytes("MPUB t\n", sizePrefixed(new Uint8Array(4))), "E_BAD_BODY MPUB invalid message count 0"],
    ];
    for (const [input, text] of cases) {
      const bad = await connect();
      bad.write(input);
      await expectFatal(bad, text);
    }
  });

  test("DPUB validates its timeout", async () => {
    const c = await connect();
    c.dpub(freshTopic(), 100, "x");
    expect(await c.response()).toBe("OK");
    let bad = await connect();
    bad.write(concatBytes("DPUB t -1\n", sizePrefixed("x")));
    await expectFatal(bad, "E_INVALID DPUB could not parse timeout -1");
    bad = await connect();
    bad.write(concatBytes("DPUB t 3600001\n", sizePrefixed("x")));
    await expectFatal(bad, "E_INVALID DPUB timeout 3600001 out of range 0-3600000");
    bad = await connect();
    bad.write("DPUB t\n");
    await expectFatal(bad, "E_INVALID DPUB insufficient number of parameters");
  });
});

describe("SUB", () => {
  test("validates names and parameters", async () => {
    const cases: [string, string][] = [
      ["SUB t\n", "E_INVALID SUB insufficient number of parameters"],
      ["SUB b@d ch\n", 'E_BAD_TOPIC SUB topic name "b@d" is not valid'],
      ["SUB t b@d\n", 'E_BAD_CHANNEL SUB channel name "b@d" is not valid'],
    ];
    for (const [input, text] of cases) {
      const c = await connect();
      c.write(input);
      await expectFatal(c, text);
    }
  });

  test("SUB twice is refused", async () => {
    const c = await connect();
    await c.subscribe(freshTopic(), "ch");
    c.sub("other", "ch");
    await expectFatal(c, "E_INVALID cannot SUB in current state");
  });

  test("SUB with heartbeats disabled is refused", async () => {
    const c = await connect();
    c.identify({ heartbeat_interval: -1 });
    expect(await c.response()).toBe("OK");
    c.sub(freshTopic(), "ch");
    await expectFatal(c, "E_INVALID cannot SUB with heartbeats disabled");
  });

  // a limit of each worker (a subscriber of the shared address is also a consumer on every sibling)
  test.skipIf(TEST_WORKERS > 1)("--max-channel-consumers is enforced", async () => {
    const topic = freshTopic();
    for (let i = 0; i < 2; i++) await (await connect()).subscribe(topic, "ch");
    const third = await connect();
    third.sub(topic, "ch");
    await expectFatal(third, `E_SUB_FAILED SUB failed consumers for ${topic}:ch exceeds limit of 2`);
  });
});

describe("RDY / FIN / REQ / TOUCH / CLS / NOP / AUTH", () => {
  test("commands that need a subscription are refused before SUB", async () => {
    const cases: [string, string][] = [
      ["RDY 1\n", "E_INVALID cannot RDY in current state"],
      ["FIN 0000000000000000\n", "E_INVALID cannot FIN in current state"],
      ["REQ 0000000000000000 0\n", "E_INVALID cannot REQ in current state"],
      ["TOUCH 0000000000000000\n", "E_INVALID cannot TOUCH in current state"],
      ["CLS\n", "E_INVALID cannot CLS in current state"],
    ];
    for (const [input, text] of cases) {
      const c = await connect();
      c.write(input);
      await expectFatal(c, text);
    }
  });

  test("RDY limits", async () => {
    let c = await connect();
    await c.subscribe(freshTopic(), "ch");
    c.write("RDY 101\n");
    await expectFatal(c, "E_INVALID RDY count 101 out of range 0-100");
    c = await connect();
    await c.subscribe(freshTopic(), "ch");
    c.write("RDY x\n");
    await expectFatal(c, "E_INVALID RDY could not parse count x");
  });

  test("FIN / REQ / TOUCH of an unknown id fail without closing", async () => {
    const c = await connect();
    await c.subscribe(freshTopic(), "ch");
    c.fin("0123456789abcdef");
    expect(await c.error()).toBe("E_FIN_FAILED FIN 0123456789abcdef failed ID not in flight");
    c.req("0123456789abcdef", 0);
    expect(await c.error()).toBe("E_REQ_FAILED REQ 0123456789abcdef failed ID not in flight");
    c.touch("0123456789abcdef");
    expect(await c.error()).toBe("E_TOUCH_FAILED TOUCH 0123456789abcdef failed ID not in flight");
    c.write("NOP\n");
    c.rdy(1);
    expect(await c.quiet(50)).toBe(true);
    expect(c.closed).toBe(false);
  });

  test("an id of the wrong length is fatal", async () => {
    const c = await connect();
    await c.subscribe(freshTopic(), "ch");
    c.fin("abc");
    await expectFatal(c, "E_INVALID Invalid Message ID");
  });

  test("FIN of a message another client holds", async () => {
    const topic = freshTopic();
    const a = await connect();
    const b = await connect();
    await a.subscribe(topic, "ch", 1);
    await b.subscribe(topic, "ch", 0);
    await (await connect()).publish(topic, "m");
    const m = await a.message();
    b.fin(m.id);
    expect(await b.error()).toBe(`E_FIN_FAILED FIN ${m.id} failed client does not own message`);
    a.fin(m.id);
    expect(await a.quiet(50)).toBe(true);
  });

  test("CLS answers CLOSE_WAIT and stops deliveries; FIN still works", async () => {
    const topic = freshTopic();
    const c = await connect();
    await c.subscribe(topic, "ch", 10);
    const p = await connect();
    await p.publish(topic, "one");
    const m = await c.message();
    c.write("CLS\n");
    expect(await c.response()).toBe("CLOSE_WAIT");
    c.rdy(5); // ignored after CLS
    await p.publish(topic, "two");
    c.fin(m.id);
    expect(await c.quiet(100)).toBe(true);
    expect(await channelDepth(topic, "ch")).toBe(1);
  });

  test("AUTH without an auth server is E_AUTH_DISABLED", async () => {
    const c = await connect();
    c.write(concatBytes("AUTH\n", sizePrefixed("secret")));
    await expectFatal(c, "E_AUTH_DISABLED AUTH disabled");
  });

  test("an unknown command is fatal", async () => {
    const c = await connect();
    c.write("HELLO world\n");
    await expectFatal(c, "E_INVALID invalid command HELLO");
  });

  test("commands may end in \\r\\n", async () => {
    const c = await connect();
    const topic = freshTopic();
    c.write(concatBytes(`PUB ${topic}\r\n`, sizePrefixed("crlf")));
    expect(await c.response()).toBe("OK");
    const s = await connect();
    s.write(`SUB ${topic} ch\r\nRDY 1\r\n`);
    expect(await s.response()).toBe("OK");
    expect(new TextDecoder().decode((await s.message()).body)).toBe("crlf");
  });
});

// one process's limit (per worker under --workers): a plain nsqd in this process in both modes
describe("--max-connections", () => {
  test("connections beyond the cap get an error frame and are closed; others keep working", async () => {
    const capped = startTestNsqd({ maxConnections: 2 });
    const open: RawClient[] = [];
    try {
      open.push(await RawClient.connect(capped.tcpPort), await RawClient.connect(capped.tcpPort));
      const refused = await RawClient.connect(capped.tcpPort);
      open.push(refused);
      expect(await refused.error()).toBe("E_INVALID too many connections (max 2)");
      await refused.waitClosed();
      await open[0].publish("capped", "still fine");
      open[1].close();
      await until(() => capped.tcp.clients.size === 1, "the second client to go");
      const again = await RawClient.connect(capped.tcpPort);
      open.push(again);
      await again.publish("capped", "room again");
    } finally {
      for (const c of open) c.close();
      capped.stop();
    }
  });
});
