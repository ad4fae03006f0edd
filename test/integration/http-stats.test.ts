/**
 * /stats (nsqd's JSON and text reports, plus message rates) and /metrics
 * (Prometheus) against a running nsqd with real TCP clients.
 */
import { describe, expect, test } from "bun:test";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { request } from "../helpers/http.ts";
import { perTestServers, until } from "../helpers/nsqd.ts";
import { RawClient } from "../helpers/raw-client.ts";

const { start, connect } = perTestServers();

// deliberately loose: the shape is checked key by key below
type Json = Record<string, any>;

async function stats(s: NsqdDaemon, query = ""): Promise<Json> {
  const r = await request(s, "GET", `/stats?format=json${query}`);
  expect(r.status).toBe(200);
  return r.json<Json>();
}

/** A producer (published twice to "orders") and a subscribed consumer holding one message. */
async function traffic(s: NsqdDaemon): Promise<{ producer: RawClient; consumer: RawClient }> {
  const producer = await connect(s);
  producer.identify({ client_id: "prod", hostname: "prod-host", user_agent: "test-producer/1.0" });
  await producer.response();
  await producer.publish("orders", "one");
  await producer.publish("orders", "two");
  const consumer = await connect(s);
  consumer.identify({ client_id: "cons", hostname: "cons-host", user_agent: "test-consumer/1.0" });
  await consumer.response();
  await consumer.subscribe("orders", "billing", 1);
  await consumer.message();
  await request(s, "POST", "/topic/create?topic=audit");
  return { producer, consumer };
}

describe("GET /stats?format=json", () => {
  test("has nsqd's fields, in nsqd's order, for topics, channels, clients and producers", async () => {
    const s = start();
    await traffic(s);
    const st = await stats(s);
    expect(Object.keys(st)).toEqual(["version", "health", "start_time", "topics", "memory", "producers"]);
    expect([st.version, st.health, st.start_time]).toEqual(["1.3.0+bunsq", "OK", Math.floor(s.nsqd.startTime / 1000)]);
    expect(st.topics.map((t: Json) => t.topic_name)).toEqual(["audit", "orders"]);
    const orders = st.topics[1];
    expect(Object.keys(orders)).toEqual([
      "topic_name",
      "channels",
      "depth",
      "backend_depth",
      "message_count",
      "message_bytes",
      "paused",
      "e2e_processing_latency",
      "message_rate_1m",
    ]);
    expect(orders).toMatchObject({ depth: 0, backend_depth: 0, message_count: 2, message_bytes: 6, paused: false });
    expect(orders.e2e_processing_latency).toEqual({ count: 0, percentiles: null });
    const billing = orders.channels[0];
    expect(Object.keys(billing)).toEqual([
      "channel_name",
      "depth",
      "backend_depth",
      "in_flight_count",
      "deferred_count",
      "message_count",
      "requeue_count",
      "timeout_count",
      "client_count",
      "clients",
      "paused",
      "e2e_processing_latency",
      "message_rate_1m",
      "consume_rate_1m",
    ]);
    expect(billing).toMatchObject({
      channel_name: "billing",
      depth: 1,
      in_flight_count: 1,
      deferred_count: 0,
      message_count: 2,
      client_count: 1,
      paused: false,
    });
    const consumer = billing.clients[0];
    expect(Object.keys(consumer)).toEqual([
      "client_id",
      "hostname",
      "version",
      "remote_address",
      "state",
      "ready_count",
      "in_flight_count",
      "message_count",
      "finish_count",
      "requeue_count",
      "connect_ts",
      "sample_rate",
      "deflate",
      "snappy",
      "user_agent",
      "tls",
      "tls_cipher_suite",
      "tls_version",
      "tls_negotiated_protocol",
      "tls_negotiated_protocol_is_mutual",
    ]);
    expect(consumer).toMatchObject({
      client_id: "cons",
      hostname: "cons-host",
      version: "V2",
      state: 3,
      ready_count: 1,
      in_flight_count: 1,
      message_count: 1,
      user_agent: "test-consumer/1.0",
    });
    expect(consumer.remote_address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(st.producers.length).toBe(1);
    expect(st.producers[0]).toMatchObject({ client_id: "prod", pub_counts: [{ topic: "orders", count: 2 }] });
    expect(Object.keys(st.producers[0]).indexOf("pub_counts")).toBe(15);
    expect(Object.keys(st.memory)).toContain("heap_in_use_bytes");
  });

  test("topic=, channel=, include_clients= and include_mem= filter as in nsqd", async () => {
    const s = start();
    await traffic(s);
    const one = await stats(s, "&topic=orders&include_mem=false");
    expect(one.topics.map((t: Json) => t.topic_name)).toEqual(["orders"]);
    expect(one.memory).toBeUndefined();
    expect((await stats(s, "&topic=nope")).topics).toBeNull();
    expect((await stats(s, "&topic=audit&channel=billing")).topics).toEqual([]);
    const chan = await stats(s, "&channel=billing");
    expect(chan.topics.map((t: Json) => t.topic_name)).toEqual(["orders"]);
    const noClients = await stats(s, "&include_clients=false");
    expect(noClients.producers).toBeNull();
    expect(noClients.topics[1].channels[0].clients).toBeNull();
    expect(noClients.topics[1].channels[0].client_count).toBe(1);
  });

  test("message rates over the last minute follow publishing and consuming", async () => {
    const s = start();
    const c = await connect(s);
    await c.subscribe("rated", "ch", 100);
    await request(s, "POST", "/mpub?topic=rated", Array.from({ length: 50 }, (_, i) => `m${i}`).join("\n"));
    for (let i = 0; i < 50; i++) c.fin((await c.message()).id);
    let topic: Json = {};
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      topic = (await stats(s, "&topic=rated")).topics[0];
      if (topic.message_rate_1m > 0 && topic.channels[0].consume_rate_1m > 0) break;
      await Bun.sleep(100);
    }
    expect(topic.message_rate_1m).toBeGreaterThan(0);
    expect(topic.channels[0].message_rate_1m).toBeGreaterThan(0);
    expect(topic.channels[0].consume_rate_1m).toBeGreaterThan(0);
  });
});

describe("GET /stats (text)", () => {
  test("prints nsqd's report", async () => {
    const s = start();
    await traffic(s);
    await request(s, "POST", "/channel/pause?topic=orders&channel=billing");
    const r = await request(s, "GET", "/stats");
    expect(r.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    const lines = r.text.split("\n");
    expect(lines[0]).toStartWith("nsqd v1.3.0+bunsq");
    expect(lines[1]).toMatch(/^start_time \d{4}-\d\d-\d\dT/);
    expect(lines[2]).toStartWith("uptime ");
    expect(r.text).toContain("\nHealth: OK\n");
    expect(r.text).toContain("\nMemory:\n");
    expect(r.text).toContain("\nTopics:\n   [audit          ] depth: 0     be-depth: 0     msgs: 0        e2e%: \n");
    expect(r.text).toContain(
      "   *P [billing                  ] depth: 1     be-depth: 0     inflt: 1    def: 0    re-q: 0     timeout: 0     msgs: 2        e2e%: \n",
    );
    expect(r.text).toMatch(/\n {8}\[V2 cons-host:\d+ test-consumer\/1\.0\s*\] state: 3 inflt: 1    rdy: 1    fin: 0 /);
    expect(r.text).toMatch(/\nProducers:\n {3}\[V2 prod-host:\d+ test-producer\/1\.0\s*\] msgs: 2 +topics: orders=2 connected: \d+s\n$/);
    const empty = await request(start(), "GET", "/stats?include_mem=0");
    expect(empty.text).toContain("\nTopics: None\n\nProducers: None\n");
    expect(empty.text).not.toContain("Memory");
  });
});

describe("GET /metrics", () => {
  test("Prometheus text with per-topic and per-channel gauges, counters and rates", async () => {
    const s = start();
    await traffic(s);
    const r = await request(s, "GET", "/metrics");
    expect(r.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const lines = r.text.split("\n");
    const value = (series: string) => {
      const line = lines.find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    const ch = '{topic="orders",channel="billing"}';
    expect(value('nsq_topic_messages_total{topic="orders"}')).toBe(2);
    expect(value('nsq_topic_depth{topic="audit"}')).toBe(0);
    expect(value('nsq_topic_backend_depth{topic="orders"}')).toBe(0);
    expect(value(`nsq_channel_depth${ch}`)).toBe(1);
    expect(value(`nsq_channel_in_flight${ch}`)).toBe(1);
    expect(value(`nsq_channel_deferred${ch}`)).toBe(0);
    expect(value(`nsq_channel_messages_total${ch}`)).toBe(2);
    expect(value(`nsq_channel_requeues_total${ch}`)).toBe(0);
    expect(value(`nsq_channel_timeouts_total${ch}`)).toBe(0);
    expect(value(`nsq_channel_clients${ch}`)).toBe(1);
    expect(value(`nsq_channel_consume_rate${ch}`)).toBeGreaterThanOrEqual(0);
    expect(value('nsq_topic_publish_rate{topic="orders"}')).toBeGreaterThanOrEqual(0);
    expect(value("nsq_clients")).toBe(2);
    expect(value("nsq_producers")).toBe(1);
    // each family once, with HELP and TYPE before its samples
    const types = lines.filter((l) => l.startsWith("# TYPE "));
    expect(new Set(types).size).toBe(types.length);
    expect(r.text).toContain("# TYPE nsq_channel_requeues_total counter\n");
    for (const line of lines) if (line !== "" && !line.startsWith("#")) expect(line).toMatch(/^nsq_[a-z_0-9]+(\{.*\})? [\d.e+-]+$/);
  });

  test("a message published over TCP shows up over HTTP", async () => {
    const s = start();
    const p = await connect(s);
    await p.publish("tcp-in", "hello");
    await until(() => s.nsqd.getExistingTopic("tcp-in") !== undefined, "topic");
    const st = await stats(s, "&topic=tcp-in");
    expect(st.topics[0]).toMatchObject({ depth: 1, message_count: 1, message_bytes: 5 });
    expect((await request(s, "GET", "/metrics")).text).toContain('nsq_topic_depth{topic="tcp-in"} 1\n');
  });
});
