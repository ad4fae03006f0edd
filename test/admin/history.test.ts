/**
 * nsqadmin's /api/history routes against a real cluster (one nsqlookupd, two
 * nsqds sampling every 200 ms): a topic's, a channel's and a node's history
 * summed over the nodes, and a Go nsqd (no history route) listed as unsupported.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { RawClient } from "../helpers/raw-client.ts";
import { api, publish, startCluster, startGoNsqd, type TestCluster } from "./cluster.ts";

const INTERVAL_MS = 200;
let c: TestCluster;
let consumer: RawClient;
let goNsqd: Server<undefined>;

beforeAll(async () => {
  c = await startCluster();
  for (const n of c.nsqds) {
    n.nsqd.history.start(INTERVAL_MS);
    await fetch(`http://127.0.0.1:${n.httpPort}/topic/create?topic=clicks`, { method: "POST" });
    await fetch(`http://127.0.0.1:${n.httpPort}/channel/create?topic=clicks&channel=web`, { method: "POST" });
  }
  await publish(c.nsqds[0]!, "clicks", 4);
  await publish(c.nsqds[1]!, "clicks", 6);
  consumer = await RawClient.connect(c.nsqds[1]!.tcpPort);
  consumer.identify({ user_agent: "history-test/1.0" });
  await consumer.response();
  await consumer.subscribe("clicks", "web", 3);
  const first = await consumer.message();
  await consumer.message();
  await consumer.message();
  consumer.fin(first.id);
  await consumer.message(); // RDY 3: a fourth takes the finished one's place
  goNsqd = startGoNsqd("clicks", "web", 7);
});

afterAll(() => {
  consumer?.close();
  c?.stop();
  void goNsqd?.stop(true);
});

const node = (i: number) => `127.0.0.1:${c.nsqds[i]!.httpPort}`;
const total = (rates: number[]) => Math.round(rates.reduce((a, b) => a + b, 0) * (INTERVAL_MS / 1000));
const last = (values: number[]) => values[values.length - 1];

/** Polls an nsqadmin history route until check() holds on its answer. */
async function historyWhen(origin: string, path: string, check: (h: any) => boolean): Promise<any> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const r = await api(origin, path);
    expect(r.status).toBe(200);
    if (check(r.json)) return r.json;
    if (Date.now() > deadline) throw new Error(`timed out waiting on ${path}: ${r.text}`);
    await Bun.sleep(50);
  }
}

describe("GET /api/history", () => {
  test("a topic: published and consumed per second, depths and in flight, summed over its nodes", async () => {
    const h = await historyWhen(
      c.origin,
      "/api/history/topics/clicks",
      (h) =>
        h.time.length >= 2 &&
        total(h.message_rate) === 10 &&
        total(h.consume_rate) === 1 &&
        last(h.in_flight_count) === 3,
    );
    expect(h.interval_ms).toBe(INTERVAL_MS);
    expect(h.nodes).toEqual([node(0), node(1)].sort());
    expect(h.unsupported).toEqual([]);
    expect(h.message).toBe("");
    for (const key of ["message_rate", "consume_rate", "requeue_rate", "timeout_rate", "memory_depth", "backend_depth"]) {
      expect(h[key]).toHaveLength(h.time.length);
    }
    // one point per interval, in Unix seconds, ending now
    expect(h.time[1] - h.time[0]).toBeCloseTo(INTERVAL_MS / 1000, 6);
    expect(Math.abs(last(h.time) - Date.now() / 1000)).toBeLessThan(1);
    // channel web: 4 waiting on node 0, 6 - 4 delivered on node 1; the topics hold none
    expect([last(h.memory_depth), last(h.backend_depth)]).toEqual([6, 0]);
    expect(total(h.requeue_rate) + total(h.timeout_rate)).toBe(0);
  });

  test("a channel", async () => {
    const h = await historyWhen(
      c.origin,
      "/api/history/topics/clicks/web",
      (h) => total(h.message_rate) === 10 && total(h.consume_rate) === 1,
    );
    expect([last(h.memory_depth), last(h.in_flight_count)]).toEqual([6, 3]);
    const none = await api(c.origin, "/api/history/topics/clicks/nope");
    expect([none.json.time, none.json.nodes.length]).toEqual([[], 2]);
  });

  test("a node: its topics and channels summed", async () => {
    const h = await historyWhen(c.origin, `/api/history/nodes/${node(1)}`, (h) => total(h.message_rate) === 6);
    expect(h.nodes).toEqual([node(1)]);
    expect([last(h.memory_depth), last(h.in_flight_count), total(h.consume_rate)]).toEqual([2, 3, 1]);
    const unknown = await api(c.origin, "/api/history/nodes/127.0.0.1:1");
    expect([unknown.status, unknown.json.message]).toEqual([404, "NODE_NOT_FOUND"]);
  });

  test("Go's nsqd keeps no history: listed as unsupported, not as an error", async () => {
    const goNode = `127.0.0.1:${goNsqd.port}`;
    const mixed = c.startAdmin({ nsqdHttpAddresses: [goNode, node(0)] });
    const mixedOrigin = `http://127.0.0.1:${mixed.httpPort}`;
    const h = await historyWhen(mixedOrigin, "/api/history/topics/clicks", (h) => total(h.message_rate) === 4);
    expect([h.nodes, h.unsupported, h.message]).toEqual([[node(0)], [goNode], ""]);

    const goOnly = c.startAdmin({ nsqdHttpAddresses: [goNode] });
    const origin = `http://127.0.0.1:${goOnly.httpPort}`;
    const paths = ["/api/history/topics/clicks", "/api/history/topics/clicks/web", `/api/history/nodes/${goNode}`];
    for (const path of paths) {
      const r = await api(origin, path);
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ interval_ms: 0, time: [], nodes: [], unsupported: [goNode], message: "" });
    }
    // the rest of nsqadmin still reads the Go node
    expect((await api(origin, "/api/topics/clicks")).json.message_count).toBe(7);
  });

  test("is in the OpenAPI document", async () => {
    const doc = await api(c.origin, "/openapi/json");
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining([
        "/api/history/topics/{topic}",
        "/api/history/topics/{topic}/{channel}",
        "/api/history/nodes/{node}",
      ]),
    );
    const schema = doc.json.paths["/api/history/topics/{topic}"].get.responses["200"].content["application/json"].schema;
    expect(Object.keys(schema.properties)).toContain("in_flight_count");
  });
});
