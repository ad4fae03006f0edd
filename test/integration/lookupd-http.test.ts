/** nsqlookupd's HTTP API over real sockets: NSQ 1.3's routes, JSON shapes and errors. */
import { afterEach, describe, expect, test } from "bun:test";
import type { NSQLookupd } from "../../src/lookupd/nsqlookupd.ts";
import { V1Client, eventually, http, peerBody, startTestLookupd } from "../helpers/lookupd.ts";

let servers: NSQLookupd[] = [];
let clients: V1Client[] = [];
afterEach(() => {
  for (const c of clients) c.close();
  for (const s of servers) s.stop();
  clients = [];
  servers = [];
});

function start(overrides: Record<string, unknown> = {}): NSQLookupd {
  const l = startTestLookupd(overrides);
  servers.push(l);
  return l;
}

/** A fake nsqd: identified, with the given registrations. */
async function producer(l: NSQLookupd, tcpPort: number, ...lines: string[]): Promise<V1Client> {
  const c = await V1Client.connect(l.tcpPort);
  clients.push(c);
  c.identify(peerBody(tcpPort, tcpPort + 1));
  await c.response();
  for (const line of lines) expect(await c.command(line)).toBe("OK");
  return c;
}

describe("nsqlookupd HTTP API", () => {
  test("/ping, /info and NSQ's response headers", async () => {
    const l = start();
    const ping = await http(l.httpPort, "/ping");
    expect([ping.status, ping.text]).toEqual([200, "OK"]);
    expect(ping.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    const info = await http(l.httpPort, "/info");
    expect(info.json).toEqual({ version: expect.stringMatching(/^1\.3\.0/) });
    expect(info.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(info.headers.get("x-nsq-content-type")).toBe("nsq; version=1.0");
  });

  test("/lookup, /topics, /channels and /nodes have NSQ's shapes", async () => {
    const l = start();
    await producer(l, 4000, "REGISTER orders archive", "REGISTER orders audit", "REGISTER clicks");
    await producer(l, 5000, "REGISTER orders");
    const lookup = await http(l.httpPort, "/lookup?topic=orders");
    expect(lookup.status).toBe(200);
    expect(lookup.json.channels).toEqual(["archive", "audit"]);
    expect(lookup.json.producers).toHaveLength(2);
    expect(lookup.json.producers[0]).toEqual({
      remote_address: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      hostname: "test-host",
      broadcast_address: "127.0.0.1",
      tcp_port: 4000,
      http_port: 4001,
      version: "1.3.0",
    });
    expect((await http(l.httpPort, "/topics")).json).toEqual({ topics: ["orders", "clicks"] });
    expect((await http(l.httpPort, "/channels?topic=orders")).json).toEqual({ channels: ["archive", "audit"] });
    expect((await http(l.httpPort, "/channels?topic=unknown")).json).toEqual({ channels: [] });
    const nodes = (await http(l.httpPort, "/nodes")).json.producers;
    expect(nodes.map((n: { tcp_port: number }) => n.tcp_port)).toEqual([4000, 5000]);
    expect(nodes[0]).toMatchObject({ topics: ["orders", "clicks"], tombstones: [false, false], http_port: 4001 });
  });

  test("argument errors: MISSING_ARG_TOPIC, TOPIC_NOT_FOUND, INVALID_REQUEST", async () => {
    const l = start();
    const cases: [string, number, string][] = [
      ["/lookup", 400, "MISSING_ARG_TOPIC"],
      ["/lookup?topic=nope", 404, "TOPIC_NOT_FOUND"],
      ["/lookup?topic=", 404, "TOPIC_NOT_FOUND"],
      ["/channels", 400, "MISSING_ARG_TOPIC"],
      ["/lookup?topic=%zz", 400, "INVALID_REQUEST"],
      ["/lookup?topic=a;b", 400, "INVALID_REQUEST"],
      ["/no/such/route", 404, "NOT_FOUND"],
      ["/topic/create?topic=x", 405, "METHOD_NOT_ALLOWED"],
    ];
    for (const [path, status, message] of cases) {
      const r = await http(l.httpPort, path);
      expect([path, r.status, r.json]).toEqual([path, status, { message }]);
      expect(r.headers.get("x-nsq-content-type")).toBe("nsq; version=1.0");
    }
  });

  test("topic and channel administration", async () => {
    const l = start();
    const post = (path: string) => http(l.httpPort, path, "POST");
    const errors: [string, number, string][] = [
      ["/topic/create", 400, "MISSING_ARG_TOPIC"],
      ["/topic/create?topic=bad/name", 400, "INVALID_ARG_TOPIC"],
      ["/topic/delete", 400, "MISSING_ARG_TOPIC"],
      ["/channel/create?topic=t", 400, "MISSING_ARG_CHANNEL"],
      ["/channel/create?topic=t&channel=a*b", 400, "INVALID_ARG_CHANNEL"],
      ["/channel/delete?topic=t&channel=none", 404, "CHANNEL_NOT_FOUND"],
      ["/topic/tombstone?topic=t", 400, "MISSING_ARG_NODE"],
    ];
    for (const [path, status, message] of errors) {
      const r = await post(path);
      expect([path, r.status, r.json]).toEqual([path, status, { message }]);
    }
    const created = await post("/topic/create?topic=t1");
    expect([created.status, created.text]).toEqual([200, ""]);
    expect((await post("/channel/create?topic=t2&channel=c")).status).toBe(200);
    expect((await http(l.httpPort, "/topics")).json.topics).toEqual(["t1", "t2"]);
    expect((await http(l.httpPort, "/lookup?topic=t2")).json).toEqual({ channels: ["c"], producers: [] });
    expect((await post("/channel/delete?topic=t2&channel=c")).status).toBe(200);
    expect((await http(l.httpPort, "/channels?topic=t2")).json.channels).toEqual([]);

    await producer(l, 4000, "REGISTER t3 c1", "REGISTER t3 c2");
    expect((await post("/topic/delete?topic=t3")).status).toBe(200);
    expect((await http(l.httpPort, "/topics")).json.topics).toEqual(["t1", "t2"]);
    expect((await http(l.httpPort, "/channels?topic=t3")).json.channels).toEqual([]);
    expect((await http(l.httpPort, "/lookup?topic=t3")).status).toBe(404);
    expect((await http(l.httpPort, "/nodes")).json.producers[0].topics).toEqual([]);
  });

  test("a producer that stops pinging leaves /lookup and /nodes after --inactive-producer-timeout", async () => {
    const l = start({ inactiveProducerTimeout: 300 });
    const quiet = await producer(l, 4000, "REGISTER t");
    const pinging = await producer(l, 5000, "REGISTER t");
    const timer = setInterval(() => pinging.write("PING\n"), 50);
    try {
      const ports = async () =>
        ((await http(l.httpPort, "/lookup?topic=t")).json.producers as { tcp_port: number }[]).map((p) => p.tcp_port);
      expect(await ports()).toEqual([4000, 5000]);
      await eventually(async () => (await ports()).length === 1, "the quiet producer to go inactive");
      expect(await ports()).toEqual([5000]);
      expect((await http(l.httpPort, "/nodes")).json.producers.map((p: { tcp_port: number }) => p.tcp_port)).toEqual([
        5000,
      ]);
      quiet.write("PING\n");
      await eventually(async () => (await ports()).length === 2, "the producer to come back after a PING");
    } finally {
      clearInterval(timer);
    }
  });

  test("a tombstoned producer is out of /lookup for --tombstone-lifetime, flagged in /nodes", async () => {
    const l = start({ tombstoneLifetime: 500 });
    await producer(l, 4000, "REGISTER t", "REGISTER u");
    await producer(l, 5000, "REGISTER t");
    const ports = async () =>
      ((await http(l.httpPort, "/lookup?topic=t")).json.producers as { tcp_port: number }[]).map((p) => p.tcp_port);
    expect((await http(l.httpPort, "/topic/tombstone?topic=t&node=127.0.0.1:9999", "POST")).status).toBe(200);
    expect(await ports()).toEqual([4000, 5000]);
    const before = Date.now();
    expect((await http(l.httpPort, "/topic/tombstone?topic=t&node=127.0.0.1:4001", "POST")).status).toBe(200);
    expect(await ports()).toEqual([5000]);
    const node = (await http(l.httpPort, "/nodes")).json.producers.find((p: { tcp_port: number }) => p.tcp_port === 4000);
    expect(node).toMatchObject({ topics: ["t", "u"], tombstones: [true, false] });
    // only that topic: the node still produces u
    expect((await http(l.httpPort, "/lookup?topic=u")).json.producers).toHaveLength(1);
    await eventually(async () => (await ports()).length === 2, "the tombstone to expire");
    expect(Date.now() - before).toBeGreaterThanOrEqual(450);
  });

  test("OpenAPI document and the Swagger UI are served locally", async () => {
    const l = start();
    const spec = await http(l.httpPort, "/openapi/json");
    expect(spec.status).toBe(200);
    for (const path of ["/lookup", "/topics", "/channels", "/nodes", "/topic/create", "/topic/tombstone", "/channel/delete"]) {
      expect(Object.keys(spec.json.paths)).toContain(path);
    }
    expect(spec.json.paths["/lookup"].get.responses["200"]).toBeDefined();
    const page = await http(l.httpPort, "/openapi");
    expect(page.status).toBe(200);
    expect(page.text).toContain("swagger-ui");
    expect(page.text).not.toMatch(/https?:\/\//);
    const bundle = await fetch(`http://127.0.0.1:${l.httpPort}/openapi/assets/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });

  test("malformed HTTP input gets NSQ's errors and nsqlookupd keeps serving", async () => {
    const l = start();
    const long = "x".repeat(4_000);
    expect((await http(l.httpPort, `/lookup?topic=${long}`)).status).toBe(404);
    expect((await http(l.httpPort, "/lookup?topic=%")).status).toBe(400);
    expect((await http(l.httpPort, "/topic/create?topic=%E0%A4%A", "POST")).status).toBe(400);
    expect((await http(l.httpPort, "/lookup?topic=a&topic=b")).status).toBe(404);
    expect((await http(l.httpPort, "/ping", "DELETE")).status).toBe(405);
    const withBody = await fetch(`http://127.0.0.1:${l.httpPort}/topic/create?topic=x`, {
      method: "POST",
      body: "\u0000garbage",
      headers: { "content-type": "application/json" },
    });
    expect(withBody.status).toBe(200);
    // raw bytes that are not HTTP at all
    const sock = await Bun.connect({ hostname: "127.0.0.1", port: l.httpPort, socket: { data() {} } });
    sock.write("\x16\x03\x01garbage\r\n\r\n");
    sock.end();
    expect((await http(l.httpPort, "/ping")).text).toBe("OK");
  });
});
