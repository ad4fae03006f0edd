/** nsqlookupd's TCP protocol V1 over real sockets: commands, registrations, errors. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { NSQLookupd } from "../../src/lookupd/nsqlookupd.ts";
import { V1Client, eventually, http, peerBody, startTestLookupd } from "../helpers/lookupd.ts";

let lookupd: NSQLookupd;
let clients: V1Client[] = [];

beforeEach(() => {
  lookupd = startTestLookupd();
});
afterEach(() => {
  for (const c of clients) c.close();
  clients = [];
  lookupd.stop();
});

async function connect(magic?: string | null): Promise<V1Client> {
  const c = await V1Client.connect(lookupd.tcpPort, magic);
  clients.push(c);
  return c;
}

async function identified(tcpPort = 4150): Promise<V1Client> {
  const c = await connect();
  c.identify(peerBody(tcpPort, tcpPort + 1));
  await c.response();
  return c;
}

const topics = async () => (await http(lookupd.httpPort, "/topics")).json.topics as string[];
const channels = async (t: string) => (await http(lookupd.httpPort, `/channels?topic=${t}`)).json.channels as string[];

describe("lookup protocol V1", () => {
  test("IDENTIFY answers with nsqlookupd's own ports, address and version", async () => {
    const c = await connect();
    c.identify(peerBody());
    const info = JSON.parse(await c.response());
    expect(info).toEqual({
      broadcast_address: "127.0.0.1",
      hostname: lookupd.hostname,
      http_port: lookupd.httpPort,
      tcp_port: lookupd.tcpPort,
      version: expect.stringMatching(/^1\.3\.0/),
    });
    expect(await c.command("PING")).toBe("OK");
  });

  test("REGISTER and UNREGISTER of topics and channels show in the HTTP API", async () => {
    const c = await identified();
    expect(await c.command("REGISTER orders")).toBe("OK");
    expect(await c.command("REGISTER orders archive")).toBe("OK");
    expect(await c.command("REGISTER clicks stats#ephemeral")).toBe("OK");
    expect((await topics()).sort()).toEqual(["clicks", "orders"]);
    expect(await channels("orders")).toEqual(["archive"]);

    // a non-ephemeral channel keeps its registration without producers, as in NSQ
    expect(await c.command("UNREGISTER orders archive")).toBe("OK");
    expect(await channels("orders")).toEqual(["archive"]);
    // an ephemeral channel goes with its last producer
    expect(await c.command("UNREGISTER clicks stats#ephemeral")).toBe("OK");
    expect(await channels("clicks")).toEqual([]);

    const lookup = await http(lookupd.httpPort, "/lookup?topic=orders");
    expect(lookup.json.producers).toHaveLength(1);
    expect(await c.command("UNREGISTER orders")).toBe("OK");
    expect((await http(lookupd.httpPort, "/lookup?topic=orders")).json.producers).toEqual([]);
  });

  test("UNREGISTER of a topic also drops the peer from the topic's channels; ephemeral topics go", async () => {
    const c = await identified();
    await c.command("REGISTER t#ephemeral c1");
    await c.command("REGISTER t#ephemeral c2#ephemeral");
    expect(await c.command("UNREGISTER t#ephemeral")).toBe("OK");
    expect(await topics()).toEqual([]);
    const debug = (await http(lookupd.httpPort, "/debug")).json;
    expect(debug["channel:t#ephemeral:c1"]).toEqual([]);
  });

  test("a closed connection takes all of its peer's registrations, others stay", async () => {
    const a = await identified(5000);
    const b = await identified(6000);
    await a.command("REGISTER shared ch");
    await b.command("REGISTER shared ch");
    await a.command("REGISTER only-a");
    expect((await http(lookupd.httpPort, "/nodes")).json.producers).toHaveLength(2);
    a.close();
    await eventually(
      async () => (await http(lookupd.httpPort, "/nodes")).json.producers.length === 1,
      "the closed peer to leave /nodes",
    );
    const shared = (await http(lookupd.httpPort, "/lookup?topic=shared")).json;
    expect(shared.producers.map((p: { tcp_port: number }) => p.tcp_port)).toEqual([6000]);
    expect((await http(lookupd.httpPort, "/lookup?topic=only-a")).json.producers).toEqual([]);
  });

  test("PING before IDENTIFY is answered OK", async () => {
    const c = await connect();
    expect(await c.command("PING")).toBe("OK");
  });
});

describe("lookup protocol V1 errors (all fatal, as in NSQ)", () => {
  const cases: [string, (c: V1Client) => void, string, boolean][] = [
    ["an unknown command", (c) => c.write("FOO bar\n"), "E_INVALID invalid command FOO", false],
    ["an empty line", (c) => c.write("\n"), "E_INVALID invalid command ", false],
    ["REGISTER before IDENTIFY", (c) => c.write("REGISTER t\n"), "E_INVALID client must IDENTIFY", false],
    ["REGISTER without params", (c) => c.write("REGISTER\n"), "E_INVALID REGISTER insufficient number of params", true],
    ["a bad topic name", (c) => c.write("REGISTER bad/topic\n"), "E_BAD_TOPIC REGISTER topic name 'bad/topic' is not valid", true],
    [
      "a bad channel name",
      (c) => c.write("UNREGISTER t bad*channel\n"),
      "E_BAD_CHANNEL UNREGISTER channel name 'bad*channel' is not valid",
      true,
    ],
    ["IDENTIFY twice", (c) => c.identify(peerBody()), "E_INVALID cannot IDENTIFY again", true],
  ];
  for (const [what, send, expected, identify] of cases) {
    test(`${what} gets ${expected.split(" ")[0]} and the connection is closed`, async () => {
      const c = identify ? await identified() : await connect();
      send(c);
      expect(await c.response()).toBe(expected);
      await c.waitClosed();
    });
  }

  const bodies: [string, string, string][] = [
    ["invalid JSON", "{nope", "E_BAD_BODY IDENTIFY failed to decode JSON body"],
    ["a wrongly typed field", JSON.stringify({ ...peerBody(), tcp_port: "4150" }), "E_BAD_BODY IDENTIFY failed to decode JSON body"],
    ["an empty body", "", "E_BAD_BODY IDENTIFY failed to decode JSON body"],
    ["missing fields", JSON.stringify({ broadcast_address: "h", tcp_port: 1 }), "E_BAD_BODY IDENTIFY missing fields"],
  ];
  for (const [what, body, expected] of bodies) {
    test(`IDENTIFY with ${what}: ${expected}`, async () => {
      const c = await connect();
      c.identify(body);
      expect(await c.response()).toBe(expected);
      await c.waitClosed();
    });
  }

  test("a negative or huge IDENTIFY body size: E_BAD_BODY", async () => {
    for (const size of [[0xff, 0xff, 0xff, 0xff], [0x7f, 0, 0, 0]]) {
      const c = await connect();
      c.write("IDENTIFY\n");
      c.write(new Uint8Array(size));
      expect(await c.response()).toBe("E_BAD_BODY IDENTIFY failed to read body size");
      await c.waitClosed();
    }
  });

  test("a wrong magic gets E_BAD_PROTOCOL", async () => {
    const c = await connect("  V2");
    expect(await c.response()).toBe("E_BAD_PROTOCOL");
    await c.waitClosed();
  });

  test("garbage, split frames and abrupt closes never take nsqlookupd down", async () => {
    const junk = new Uint8Array(70_000).map((_, i) => (i * 7919) % 256);
    const a = await connect(null);
    a.write(junk);
    const b = await connect();
    b.write("IDENTIFY\n\x00\x00");
    b.close();
    const c = await connect();
    c.write("REGISTER");
    c.close();
    // byte by byte: the parser keeps partial lines and sizes across chunks
    const d = await connect(null);
    const bytes = new TextEncoder().encode(`  V1IDENTIFY\n`);
    for (const byte of bytes) d.write(new Uint8Array([byte]));
    const body = JSON.stringify(peerBody(7000, 7001));
    const size = new Uint8Array(4);
    new DataView(size.buffer).setUint32(0, body.length);
    for (const byte of size) d.write(new Uint8Array([byte]));
    d.write(body);
    expect(JSON.parse(await d.response()).tcp_port).toBe(lookupd.tcpPort);
    expect(await d.command("REGISTER after-junk")).toBe("OK");
    expect((await http(lookupd.httpPort, "/ping")).text).toBe("OK");
    expect(await topics()).toEqual(["after-junk"]);
  });
});
