/** nsqadmin's HTTP API against a real cluster on loopback: one nsqlookupd, two nsqds. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../helpers/lookupd.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { api, nsqdTopic, publish, startCluster, type Notification, type TestCluster } from "./cluster.ts";

let c: TestCluster;
let consumer: RawClient;

beforeAll(async () => {
  c = await startCluster();
  for (const n of c.nsqds) {
    await fetch(`http://127.0.0.1:${n.httpPort}/topic/create?topic=orders`, { method: "POST" });
    await fetch(`http://127.0.0.1:${n.httpPort}/channel/create?topic=orders&channel=archive`, { method: "POST" });
  }
  await publish(c.nsqds[0]!, "orders", 3);
  await publish(c.nsqds[1]!, "orders", 5);
  consumer = await RawClient.connect(c.nsqds[0]!.tcpPort);
  consumer.identify({ user_agent: "api-test/1.0", client_id: "reader" });
  await consumer.response();
  await consumer.subscribe("orders", "archive", 1);
  await consumer.message();
});

afterAll(() => {
  consumer?.close();
  c?.stop();
});

const node = (i: number) => `127.0.0.1:${c.nsqds[i]!.httpPort}`;

describe("reads", () => {
  test("GET /api/topics lists the cluster's topics", async () => {
    const r = await api(c.origin, "/api/topics");
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ topics: ["orders"], message: "" });
  });

  test("GET /api/topics/:topic sums the nodes and keeps each node", async () => {
    const r = await api(c.origin, "/api/topics/orders");
    expect(r.status).toBe(200);
    const t = r.json;
    expect(t.node).toBe("*");
    expect(t.message_count).toBe(8);
    expect(t.depth).toBe(0); // every message moved on to the channel
    expect(t.nodes.map((n: any) => [n.node, n.message_count]).sort()).toEqual([
      [node(0), 3],
      [node(1), 5],
    ].sort());
    expect(t.channels).toHaveLength(1);
    const ch = t.channels[0];
    expect(ch.channel_name).toBe("archive");
    expect(ch.depth).toBe(7);
    expect(ch.in_flight_count).toBe(1);
    expect(ch.message_count).toBe(8);
    expect(ch.nodes).toHaveLength(2);
    expect(typeof t.message_rate_1m).toBe("number");
    expect(t.message).toBe("");
  });

  test("GET /api/topics/:topic/:channel has the clients", async () => {
    const r = await api(c.origin, "/api/topics/orders/archive");
    expect(r.status).toBe(200);
    expect(r.json.client_count).toBe(1);
    expect(r.json.clients).toHaveLength(1);
    const client = r.json.clients[0];
    expect(client.node).toBe(node(0));
    expect(client.user_agent).toBe("api-test/1.0");
    expect(client.in_flight_count).toBe(1);
    expect(client.ready_count).toBe(1);
    expect(client.tls).toBe(false);
    expect(client.connected).toBeGreaterThanOrEqual(0);
    expect((await api(c.origin, "/api/topics/orders/nothing")).json).toEqual({ message: "" });
  });

  test("GET /api/nodes and /api/nodes/:node", async () => {
    const r = await api(c.origin, "/api/nodes");
    expect(r.status).toBe(200);
    expect(r.json.nodes.map((n: any) => `${n.broadcast_address}:${n.http_port}`).sort()).toEqual([node(0), node(1)].sort());
    expect(r.json.nodes[0].topics).toEqual([{ topic: "orders", tombstoned: false }]);
    expect(r.json.nodes[0].remote_addresses).toHaveLength(1);

    const one = await api(c.origin, `/api/nodes/${node(1)}`);
    expect(one.status).toBe(200);
    expect(one.json.node).toBe(node(1));
    expect(one.json.total_messages).toBe(5);
    expect(one.json.topics[0].channels[0].depth).toBe(5);
    expect((await api(c.origin, "/api/nodes/127.0.0.1:1")).json).toEqual({ message: "NODE_NOT_FOUND" });
  });

  test("GET /api/counter counts per topic, channel and node", async () => {
    const r = await api(c.origin, "/api/counter");
    expect(r.status).toBe(200);
    const counts = Object.values(r.json.stats as Record<string, any>).map((s) => [s.node, s.channel_name, s.message_count]);
    expect(counts.sort()).toEqual([[node(0), "archive", 3], [node(1), "archive", 5]].sort());
  });

  test("/config/:opt reads and changes options from the allowed range", async () => {
    expect((await api(c.origin, "/config/http_client_request_timeout")).json).toBe(5_000_000_000);
    expect((await api(c.origin, "/config/nope")).json).toEqual({ message: "INVALID_OPTION" });
    const put = await fetch(`${c.origin}/config/log_level`, { method: "PUT", body: "error" });
    expect(await put.json()).toBe("error");
    await fetch(`${c.origin}/config/log_level`, { method: "PUT", body: "fatal" });
    const denied = c.startAdmin({ nsqdHttpAddresses: [node(0)], allowConfigFromCidr: "10.0.0.0/8" });
    expect((await api(`http://127.0.0.1:${denied.httpPort}`, "/config/log_level")).status).toBe(403);
  });

  test("OpenAPI document and Swagger UI are served", async () => {
    const doc = await api(c.origin, "/openapi/json");
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining(["/api/topics", "/api/topics/{topic}", "/api/nodes/{node}", "/api/counter", "/config/{opt}"]),
    );
    expect((await api(c.origin, "/openapi")).status).toBe(200);
  });
});

describe("nodes that are down", () => {
  test("a dead nsqd is a warning and the rest still answers; all dead is 502", async () => {
    const admin = c.startAdmin({ nsqdHttpAddresses: [node(0), "127.0.0.1:1"] });
    const origin = `http://127.0.0.1:${admin.httpPort}`;
    const nodes = await api(origin, "/api/nodes");
    expect(nodes.status).toBe(200);
    expect(nodes.json.nodes).toHaveLength(1);
    expect(nodes.json.message).toStartWith("WARNING: ");
    expect(nodes.json.message).toContain("127.0.0.1:1");
    const topic = await api(origin, "/api/topics/orders");
    expect(topic.json.message_count).toBe(3);

    const dead = c.startAdmin({ nsqdHttpAddresses: ["127.0.0.1:1"] });
    const r = await api(`http://127.0.0.1:${dead.httpPort}`, "/api/topics");
    expect(r.status).toBe(502);
    expect(r.json.message).toStartWith("UPSTREAM_ERROR: ");
  });

  test("a dead nsqlookupd is a warning", async () => {
    const admin = c.startAdmin({ lookupdHttpAddresses: [`127.0.0.1:${c.lookupd.httpPort}`, "127.0.0.1:1"] });
    const r = await api(`http://127.0.0.1:${admin.httpPort}`, "/api/topics");
    expect(r.status).toBe(200);
    expect(r.json.topics).toEqual(["orders"]);
    expect(r.json.message).toContain("127.0.0.1:1");
  });
});

describe("actions", () => {
  const lastNotification = (action: string) =>
    eventually(() => c.notifications.findLast((n) => n.action === action), `a ${action} notification`) as Promise<Notification>;

  test("pause and unpause a channel on every nsqd, with notifications", async () => {
    const r = await api(c.origin, "/api/topics/orders/archive", "POST", { action: "pause" }, { "User-Agent": "ops-test" });
    expect(r.json).toEqual({ message: "" });
    for (const n of c.nsqds) expect((await nsqdTopic(n, "orders")).channels[0].paused).toBe(true);
    const note = await lastNotification("pause_channel");
    expect(note).toMatchObject({ topic: "orders", channel: "archive", user_agent: "ops-test" });
    expect(note.url).toBe(`${c.origin}/api/topics/orders/archive`);
    expect(note.remote_ip).toStartWith("127.0.0.1:");
    expect(note.timestamp).toBeGreaterThan(0);
    expect(typeof note.via).toBe("string");

    await api(c.origin, "/api/topics/orders/archive", "POST", { action: "unpause" });
    for (const n of c.nsqds) expect((await nsqdTopic(n, "orders")).channels[0].paused).toBe(false);
    await lastNotification("unpause_channel");
  });

  test("bad actions and bodies are refused", async () => {
    expect((await api(c.origin, "/api/topics/orders", "POST", { action: "explode" })).json).toEqual({
      message: "INVALID_ACTION",
    });
    const bad = await fetch(`${c.origin}/api/topics/orders`, { method: "POST", body: "{" });
    expect(bad.status).toBe(400);
    expect((await api(c.origin, "/api/topics", "POST", { topic: "bad topic!" })).json).toEqual({ message: "INVALID_TOPIC" });
  });

  test("--admin-user: only the named users act", async () => {
    const admin = c.startAdmin({ nsqdHttpAddresses: [node(0)], adminUsers: ["alice"] });
    const origin = `http://127.0.0.1:${admin.httpPort}`;
    const denied = await api(origin, "/api/topics/orders", "POST", { action: "pause" }, { "X-Forwarded-User": "bob" });
    expect(denied.status).toBe(403);
    expect(denied.json).toEqual({ message: "FORBIDDEN" });
    const allowed = await api(origin, "/api/topics/orders", "POST", { action: "unpause" }, { "X-Forwarded-User": "alice" });
    expect(allowed.status).toBe(200);
  });

  test("pause, empty a topic and empty a channel", async () => {
    await api(c.origin, "/api/topics/orders", "POST", { action: "pause" });
    for (const n of c.nsqds) expect((await nsqdTopic(n, "orders")).paused).toBe(true);
    await lastNotification("pause_topic");
    await api(c.origin, "/api/topics/orders", "POST", { action: "unpause" });
    await api(c.origin, "/api/topics/orders", "POST", { action: "empty" });
    await lastNotification("empty_topic");
    await api(c.origin, "/api/topics/orders/archive", "POST", { action: "empty" });
    for (const n of c.nsqds) expect((await nsqdTopic(n, "orders")).channels[0].depth).toBe(0);
    await lastNotification("empty_channel");
  });

  test("create through the lookupds, then delete channel and topic everywhere", async () => {
    const created = await api(c.origin, "/api/topics", "POST", { topic: "fresh", channel: "first" });
    expect(created.json).toEqual({ message: "" });
    const lookup = await fetch(`http://127.0.0.1:${c.lookupd.httpPort}/channels?topic=fresh`);
    expect(await lookup.json()).toEqual({ channels: ["first"] });
    await lastNotification("create_topic");
    expect(await lastNotification("create_channel")).toMatchObject({ topic: "fresh", channel: "first" });
    const inactive = await api(c.origin, "/api/topics?inactive=true");
    expect(inactive.json.topics).toEqual({ fresh: ["first"] });

    await api(c.origin, "/api/topics/orders/archive", "DELETE");
    for (const n of c.nsqds) expect((await nsqdTopic(n, "orders")).channels).toEqual([]);
    await lastNotification("delete_channel");

    await api(c.origin, "/api/topics/orders", "DELETE");
    for (const n of c.nsqds) expect(await nsqdTopic(n, "orders")).toBeUndefined();
    expect(await lastNotification("delete_topic")).toMatchObject({ topic: "orders" });
  });

  test("tombstone a topic on one node", async () => {
    await publish(c.nsqds[0]!, "tomb", 1);
    await publish(c.nsqds[1]!, "tomb", 1);
    await eventually(async () => (await api(c.origin, "/api/topics/tomb")).json.nodes?.length === 2, "tomb on both");
    const r = await api(c.origin, `/api/nodes/${node(1)}`, "DELETE", { topic: "tomb" });
    expect(r.json).toEqual({ message: "" });
    expect(await nsqdTopic(c.nsqds[1]!, "tomb")).toBeUndefined();
    expect((await nsqdTopic(c.nsqds[0]!, "tomb")).message_count).toBe(1);
    expect(await lastNotification("tombstone_topic_producer")).toMatchObject({ topic: "tomb", node: node(1) });
  });
});

test("live tail streams a topic's messages as Server-Sent Events", async () => {
  await publish(c.nsqds[0]!, "tailed", 1);
  const abort = new AbortController();
  const res = await fetch(`${c.origin}/api/topics/tailed/tail`, { signal: abort.signal });
  expect(res.headers.get("Content-Type")).toBe("text/event-stream");
  const reader = res.body!.getReader();
  let text = "";
  const read = async (until: string) => {
    while (!text.includes(until)) {
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended");
      text += new TextDecoder().decode(value);
    }
  };
  await read("event: ready");
  await eventually(async () => {
    const t = await nsqdTopic(c.nsqds[0]!, "tailed");
    return t.channels.some((ch: any) => ch.channel_name.startsWith("nsqadmin_tail_") && ch.client_count === 1);
  }, "the tail subscription");
  await publish(c.nsqds[0]!, "tailed", 1);
  await read('"body":"message 0"');
  abort.abort();
  await eventually(async () => (await nsqdTopic(c.nsqds[0]!, "tailed")).channels.length === 0, "the ephemeral channel to go");
});
