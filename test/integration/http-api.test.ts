/**
 * nsqd's HTTP API over real HTTP against an in-process nsqd: every route, every
 * error nsqd gives, and messages crossing between HTTP and TCP.
 */
import { describe, expect, test } from "bun:test";
import { request } from "../helpers/http.ts";
import { perTestServers, startTestNsqd, until } from "../helpers/nsqd.ts";
import { mpubBody } from "../helpers/raw-client.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const { start, connect } = perTestServers();

/** A request body that arrives in chunks with no Content-Length. */
function chunked(parts: number, size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent++ === parts) controller.close();
      else controller.enqueue(new Uint8Array(size).fill(0x61));
    },
  });
}

describe("basics", () => {
  test("GET /ping answers OK as text with nsqd's header", async () => {
    const s = start();
    const r = await request(s, "GET", "/ping");
    expect(r.status).toBe(200);
    expect(r.text).toBe("OK");
    expect(r.headers.get("x-nsq-content-type")).toBe("nsq; version=1.0");
  });

  test("GET /info reports version, addresses, bound ports and limits", async () => {
    const s = start({ broadcastAddress: "nsqd.example" });
    const r = await request(s, "GET", "/info");
    expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const info = r.json<Record<string, unknown>>();
    expect(Object.keys(info)).toEqual([
      "version",
      "broadcast_address",
      "hostname",
      "http_port",
      "tcp_port",
      "start_time",
      "max_heartbeat_interval",
      "max_output_buffer_size",
      "max_output_buffer_timeout",
      "max_deflate_level",
    ]);
    expect(info.version).toBe("1.3.0+bunsq");
    expect(info.broadcast_address).toBe("nsqd.example");
    expect(info.http_port).toBe(s.httpPort);
    expect(info.tcp_port).toBe(s.tcpPort);
    expect(info.start_time).toBe(Math.floor(s.nsqd.startTime / 1000));
    expect(info.max_heartbeat_interval).toBe(60_000_000_000);
  });
});

/** Objects nothing references, made in a frame of their own; only weak references to them come back. */
function unreferenced(count: number): WeakRef<number[]>[] {
  return Array.from({ length: count }, () => new WeakRef(new Array<number>(1000).fill(1.5)));
}

describe("/debug/freememory", () => {
  test("POST collects the garbage now and answers as nsqd 1.3 (200, empty, nsqd's header)", async () => {
    const s = start();
    const refs = unreferenced(2000); // the in-process nsqd shares this process's heap
    const r = await request(s, "POST", "/debug/freememory");
    expect(r.status).toBe(200);
    expect(r.text).toBe("");
    expect(r.headers.get("x-nsq-content-type")).toBe("nsq; version=1.0");
    // a full collection frees them (a few may be kept by the collector's conservative stack scan)
    expect(refs.filter((w) => w.deref() !== undefined).length).toBeLessThan(100);
    expect((await request(s, "GET", "/debug/freememory")).status).toBe(405);
  });
});

describe("publishing", () => {
  test("a message published over HTTP is consumed over TCP", async () => {
    const s = start();
    const c = await connect(s);
    await c.subscribe("cross", "ch", 10);
    const r = await request(s, "POST", "/pub?topic=cross", "from http");
    expect(r.status).toBe(200);
    expect(r.text).toBe("OK");
    const m = await c.message();
    expect(text(m.body)).toBe("from http");
    expect(m.attempts).toBe(1);
  });

  test("binary bodies arrive byte for byte, and each message keeps its own bytes", async () => {
    const s = start();
    const bodies = [new Uint8Array([0, 1, 2, 255, 10, 13]), new Uint8Array([9, 8, 7])];
    for (const b of bodies) expect((await request(s, "POST", "/pub?topic=bin", b)).status).toBe(200);
    const c = await connect(s);
    await c.subscribe("bin", "ch", 10);
    expect([...(await c.message()).body]).toEqual([...bodies[0]]);
    expect([...(await c.message()).body]).toEqual([...bodies[1]]);
  });

  test("defer= holds the message back, then delivers it", async () => {
    const s = start();
    const c = await connect(s);
    await c.subscribe("later", "ch", 10);
    const sent = Date.now();
    expect((await request(s, "POST", "/pub?topic=later&defer=300", "x")).status).toBe(200);
    expect(s.nsqd.getExistingTopic("later")!.getExistingChannel("ch")!.deferredCount).toBe(1);
    await c.message();
    expect(Date.now() - sent).toBeGreaterThanOrEqual(250);
  });

  test("POST /mpub: one message per line, empty lines skipped", async () => {
    const s = start();
    const c = await connect(s);
    await c.subscribe("lines", "ch", 10);
    expect((await request(s, "POST", "/mpub?topic=lines", "one\n\ntwo\nthree\n")).text).toBe("OK");
    const got = [await c.message(), await c.message(), await c.message()].map((m) => text(m.body));
    expect(got).toEqual(["one", "two", "three"]);
  });

  test("POST /mpub?binary=true takes the size-prefixed format (and nsqd's deprecated values)", async () => {
    const s = start();
    for (const flag of ["true", "1", "yes"]) {
      const r = await request(s, "POST", `/mpub?topic=binmp&binary=${flag}`, mpubBody(["a", "b\nc"]));
      expect(r.status).toBe(200);
    }
    expect(s.nsqd.getExistingTopic("binmp")!.messageCount).toBe(6);
  });

  test("publishing to an ephemeral topic is OK", async () => {
    const s = start();
    expect((await request(s, "POST", "/pub?topic=eph%23ephemeral", "x")).status).toBe(200);
  });

  test("errors: missing and invalid topic, bad query, bad defer, empty body", async () => {
    const s = start({ maxReqTimeout: 1000 });
    const cases: [string, string, number, string][] = [
      ["/pub", "x", 400, "MISSING_ARG_TOPIC"],
      ["/pub?topic=no/slash", "x", 400, "INVALID_TOPIC"],
      ["/pub?topic=", "x", 400, "INVALID_TOPIC"],
      ["/pub?topic=%zz", "x", 400, "INVALID_REQUEST"],
      ["/pub?topic=t&defer=abc", "x", 400, "INVALID_DEFER"],
      ["/pub?topic=t&defer=-1", "x", 400, "INVALID_DEFER"],
      ["/pub?topic=t&defer=1001", "x", 400, "INVALID_DEFER"],
      ["/pub?topic=t", "", 400, "MSG_EMPTY"],
      ["/mpub", "x", 400, "MISSING_ARG_TOPIC"],
      ["/mpub?topic=a*b", "x", 400, "INVALID_TOPIC"],
    ];
    for (const [path, body, status, message] of cases) {
      const r = await request(s, "POST", path, body);
      expect([path, r.status, r.json()]).toEqual([path, status, { message }]);
      expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
    }
  });

  test("MSG_TOO_BIG and BODY_TOO_BIG, by declared length and for chunked bodies", async () => {
    const s = start({ maxMsgSize: 100, maxBodySize: 1000 });
    const big = (n: number) => "x".repeat(n);
    expect((await request(s, "POST", "/pub?topic=t", big(100))).status).toBe(200);
    const cases: [string, RequestInit["body"], string][] = [
      ["/pub?topic=t", big(101), "MSG_TOO_BIG"],
      ["/pub?topic=t", chunked(20, 10), "MSG_TOO_BIG"],
      ["/mpub?topic=t", big(1001), "BODY_TOO_BIG"],
      ["/mpub?topic=t", chunked(200, 10), "BODY_TOO_BIG"],
      ["/mpub?topic=t", `ok\n${big(101)}\n`, "MSG_TOO_BIG"],
      ["/mpub?topic=t&binary=true", new Uint8Array([0, 0, 0, 0]), "BAD_BODY"],
      ["/mpub?topic=t&binary=true", mpubBody([big(101)]), "BAD_MESSAGE"],
    ];
    for (const [path, body, message] of cases) {
      const r = await request(s, "POST", path, body);
      expect([path, r.status, r.json()]).toEqual([path, 413, { message }]);
    }
    expect(s.nsqd.getExistingTopic("t")!.messageCount).toBe(1);
  });

  test("a body far over the limit is refused without being read", async () => {
    const s = start({ maxMsgSize: 1024 });
    const before = process.memoryUsage().rss;
    const r = await request(s, "POST", "/pub?topic=t", chunked(100_000, 4096)); // 400 MB if read whole
    expect(r.json()).toEqual({ message: "MSG_TOO_BIG" });
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
  });
});

describe("topics and channels", () => {
  test("create, pause, unpause, empty and delete a topic", async () => {
    const s = start();
    expect((await request(s, "POST", "/topic/create?topic=adm")).status).toBe(200);
    const topic = s.nsqd.getExistingTopic("adm")!;
    await request(s, "POST", "/mpub?topic=adm", "a\nb");
    expect(topic.depth).toBe(2);
    expect((await request(s, "POST", "/topic/pause?topic=adm")).text).toBe("");
    expect(topic.paused).toBe(true);
    await request(s, "POST", "/topic/unpause?topic=adm");
    expect(topic.paused).toBe(false);
    await request(s, "POST", "/topic/empty?topic=adm");
    expect(topic.depth).toBe(0);
    await request(s, "POST", "/topic/delete?topic=adm");
    expect(s.nsqd.getExistingTopic("adm")).toBeUndefined();
  });

  test("a paused channel delivers nothing until unpaused; empty and delete work", async () => {
    const s = start();
    await request(s, "POST", "/topic/create?topic=pc");
    expect((await request(s, "POST", "/channel/create?topic=pc&channel=c")).status).toBe(200);
    await request(s, "POST", "/channel/pause?topic=pc&channel=c");
    const c = await connect(s);
    await c.subscribe("pc", "c", 10);
    await request(s, "POST", "/pub?topic=pc", "held");
    expect(await c.quiet(100)).toBe(true);
    await request(s, "POST", "/channel/unpause?topic=pc&channel=c");
    const m = await c.message();
    expect(text(m.body)).toBe("held");
    await request(s, "POST", "/pub?topic=pc", "dropped");
    await request(s, "POST", "/channel/pause?topic=pc&channel=c");
    await request(s, "POST", "/channel/empty?topic=pc&channel=c");
    const channel = s.nsqd.getExistingTopic("pc")!.getExistingChannel("c")!;
    expect(channel.depth + channel.inFlightCount).toBe(0);
    await request(s, "POST", "/channel/delete?topic=pc&channel=c");
    expect(s.nsqd.getExistingTopic("pc")!.getExistingChannel("c")).toBeUndefined();
    await c.waitClosed();
  });

  test("errors of the topic and channel routes", async () => {
    const s = start();
    await request(s, "POST", "/topic/create?topic=exists");
    const cases: [string, number, string][] = [
      ["/topic/create", 400, "MISSING_ARG_TOPIC"],
      ["/topic/create?topic=bad!", 400, "INVALID_TOPIC"],
      ["/topic/delete", 400, "MISSING_ARG_TOPIC"],
      ["/topic/delete?topic=nope", 404, "TOPIC_NOT_FOUND"],
      ["/topic/empty?topic=bad!", 400, "INVALID_TOPIC"],
      ["/topic/empty?topic=nope", 404, "TOPIC_NOT_FOUND"],
      ["/topic/pause?topic=nope", 404, "TOPIC_NOT_FOUND"],
      ["/topic/unpause", 400, "MISSING_ARG_TOPIC"],
      ["/channel/create?channel=c", 400, "MISSING_ARG_TOPIC"],
      ["/channel/create?topic=bad!&channel=c", 400, "INVALID_ARG_TOPIC"],
      ["/channel/create?topic=exists", 400, "MISSING_ARG_CHANNEL"],
      ["/channel/create?topic=exists&channel=bad!", 400, "INVALID_ARG_CHANNEL"],
      ["/channel/create?topic=nope&channel=c", 404, "TOPIC_NOT_FOUND"],
      ["/channel/delete?topic=exists&channel=nope", 404, "CHANNEL_NOT_FOUND"],
      ["/channel/empty?topic=exists&channel=nope", 404, "CHANNEL_NOT_FOUND"],
      ["/channel/pause?topic=exists&channel=nope", 404, "CHANNEL_NOT_FOUND"],
      ["/channel/unpause?topic=nope&channel=c", 404, "TOPIC_NOT_FOUND"],
      ["/topic/create?topic=a;b", 400, "INVALID_REQUEST"],
    ];
    for (const [path, status, message] of cases) {
      const r = await request(s, "POST", path);
      expect([path, r.status, r.json()]).toEqual([path, status, { message }]);
    }
    expect(s.nsqd.getExistingTopic("nope")).toBeUndefined();
  });
});

describe("config", () => {
  test("GET any option by its config name, as nsqd encodes it", async () => {
    const s = start({ memQueueSize: 123 });
    expect((await request(s, "GET", "/config/mem_queue_size")).text).toBe("123");
    expect((await request(s, "GET", "/config/msg_timeout")).text).toBe("60000000000");
    expect((await request(s, "GET", "/config/tcp_address")).text).toBe("127.0.0.1:0");
    expect((await request(s, "GET", "/config/nsqlookupd_tcp_addresses")).json()).toEqual([]);
    expect((await request(s, "GET", "/config/log_level")).json()).toBe(5); // the tests' logger level: fatal
    const r = await request(s, "GET", "/config/nope");
    expect([r.status, r.json()]).toEqual([400, { message: "INVALID_OPTION" }]);
  });

  test("PUT log_level changes the logger at once", async () => {
    const s = start();
    const before = s.nsqd.logger.level;
    try {
      const r = await request(s, "PUT", "/config/log_level", "ERROR");
      expect([r.status, r.json()]).toEqual([200, 4]);
      expect(s.nsqd.logger.level).toBe("error");
      const bad = await request(s, "PUT", "/config/log_level", "loud");
      expect([bad.status, bad.json()]).toEqual([400, { message: "INVALID_VALUE" }]);
    } finally {
      s.nsqd.logger.setLevel(before);
    }
  });

  test("PUT nsqlookupd_tcp_addresses validates, stores and tells the hook", async () => {
    const s = start();
    const seen: (readonly string[])[] = [];
    s.http.onLookupdAddressesChanged = (a) => seen.push(a);
    const put = (body: string) => request(s, "PUT", "/config/nsqlookupd_tcp_addresses", body);
    const ok = await put('["127.0.0.1:4160","[::1]:4161"]');
    expect([ok.status, ok.json()]).toEqual([200, ["127.0.0.1:4160", "[::1]:4161"]]);
    expect(seen).toEqual([["127.0.0.1:4160", "[::1]:4161"]]);
    expect((await request(s, "GET", "/config/nsqlookupd_tcp_addresses")).json()).toEqual(seen[0]);
    for (const body of ["not json", '"127.0.0.1:4160"', "[1]", '["no-port"]']) {
      const bad = await put(body);
      expect([body, bad.status, bad.json()]).toEqual([body, 400, { message: "INVALID_VALUE" }]);
    }
    const empty = await put("");
    expect([empty.status, empty.json()]).toEqual([413, { message: "INVALID_VALUE" }]);
    expect(seen.length).toBe(1);
    const other = await request(s, "PUT", "/config/mem_queue_size", "5");
    expect([other.status, other.json()]).toEqual([400, { message: "INVALID_OPTION" }]);
  });
});

describe("routing", () => {
  test("unknown paths, wrong methods, trailing slashes and OPTIONS as nsqd's router answers them", async () => {
    const s = start();
    const nf = await request(s, "GET", "/nope");
    expect([nf.status, nf.json()]).toEqual([404, { message: "NOT_FOUND" }]);
    const na = await request(s, "GET", "/pub");
    expect([na.status, na.json(), na.headers.get("allow")]).toEqual([405, { message: "METHOD_NOT_ALLOWED" }, "POST, OPTIONS"]);
    expect((await request(s, "DELETE", "/stats")).status).toBe(405);
    const moved = await request(s, "GET", "/stats/?format=json");
    expect([moved.status, moved.json(), moved.headers.get("location")]).toEqual([
      301,
      { message: "MOVED_PERMANENTLY" },
      "/stats?format=json",
    ]);
    const post = await request(s, "POST", "/PUB?topic=x", "m");
    expect([post.status, post.headers.get("location")]).toEqual([307, "/pub?topic=x"]);
    const options = await request(s, "OPTIONS", "/topic/create");
    expect([options.status, options.headers.get("allow")]).toEqual([200, "POST, OPTIONS"]);
  });

  test("garbage requests never take the server down", async () => {
    const s = start();
    const paths = ["/%", "/pub?%%%", "/stats?topic=%E0%A4%A", `/pub?topic=${"x".repeat(20_000)}`, "/config/", "//", "/../etc"];
    for (const path of paths) {
      for (const method of ["GET", "POST", "PUT", "PATCH"]) {
        const r = await request(s, method, path, method === "GET" ? undefined : "{");
        expect(r.status).toBeGreaterThanOrEqual(300);
      }
    }
    expect((await request(s, "POST", "/topic/create?topic=t", "{not json", { "content-type": "application/json" })).status).toBe(
      200,
    );
    expect((await request(s, "GET", "/ping")).text).toBe("OK");
  });
});

describe("OpenAPI", () => {
  test("every nsqd route is documented with its parameters and responses", async () => {
    const s = start();
    const spec = (await request(s, "GET", "/openapi/json")).json<{
      openapi: string;
      paths: Record<string, Record<string, { parameters?: { name: string }[]; responses: Record<string, unknown>; requestBody?: unknown }>>;
    }>();
    expect(spec.openapi).toStartWith("3.");
    const expected: [string, string][] = [
      ["/ping", "get"],
      ["/info", "get"],
      ["/debug/freememory", "post"],
      ["/pub", "post"],
      ["/mpub", "post"],
      ["/stats", "get"],
      ["/metrics", "get"],
      ["/config/{opt}", "get"],
      ["/config/{opt}", "put"],
      ...["create", "delete", "empty", "pause", "unpause"].flatMap((op): [string, string][] => [
        [`/topic/${op}`, "post"],
        [`/channel/${op}`, "post"],
      ]),
    ];
    for (const [path, method] of expected) {
      const op = spec.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(Object.keys(op.responses)).toContain("200");
    }
    expect(spec.paths["/pub"].post.parameters!.map((p) => p.name)).toEqual(["topic", "defer"]);
    expect(spec.paths["/pub"].post.requestBody).toBeDefined();
    expect(Object.keys(spec.paths["/pub"].post.responses)).toEqual(["200", "400", "413", "500", "503"]);
    expect(spec.paths["/openapi"]).toBeUndefined();
  });
});

describe("shutdown", () => {
  test("stop() closes the HTTP port", async () => {
    const s = startTestNsqd();
    const port = s.httpPort;
    expect((await fetch(`http://127.0.0.1:${port}/ping`)).status).toBe(200);
    s.stop();
    await until(() => true, "stop");
    expect(fetch(`http://127.0.0.1:${port}/ping`)).rejects.toThrow();
  });
});
