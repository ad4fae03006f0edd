/**
 * GET /stats/history: nsqd's own per-interval samples of each topic and channel,
 * against a running nsqd with real TCP consumers (the sampler runs at 100-200 ms
 * instead of 10 s so a test sees several samples).
 */
import { describe, expect, test } from "bun:test";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { HistorySampler } from "../../src/core/history.ts";
import { request } from "../helpers/http.ts";
import { perTestServers, until } from "../helpers/nsqd.ts";

const { start, connect } = perTestServers();

type Json = Record<string, any>;

async function history(s: NsqdDaemon, query = ""): Promise<Json> {
  const r = await request(s, "GET", `/stats/history${query}`);
  expect(r.status).toBe(200);
  return r.json<Json>();
}

const total = (values: number[]) => values.reduce((a, b) => a + b, 0);
const last = (values: number[]) => values[values.length - 1];

/** Polls the history until check() holds on it; returns that answer. */
async function historyWhen(s: NsqdDaemon, query: string, check: (h: Json) => boolean, what: string): Promise<Json> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const h = await history(s, query);
    if (check(h)) return h;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(h)}`);
    await Bun.sleep(50);
  }
}

describe("GET /stats/history", () => {
  test("counts per interval what came in, went out, was requeued and timed out, and the depths", async () => {
    const s = start();
    s.nsqd.history.start(200);
    await request(s, "POST", "/topic/create?topic=orders");
    await request(s, "POST", "/channel/create?topic=orders&channel=billing");
    await request(s, "POST", "/topic/create?topic=audit");
    await request(s, "POST", "/channel/create?topic=audit&channel=idle");
    const mpub = await request(s, "POST", "/mpub?topic=orders", "a\nb\nc\nd\ne");
    expect(mpub.status).toBe(200);

    const consumer = await connect(s);
    consumer.identify({ msg_timeout: 1000 });
    await consumer.response();
    await consumer.subscribe("orders", "billing", 1);
    const first = await consumer.message();
    consumer.fin(first.id);
    const second = await consumer.message();
    consumer.req(second.id, 0);
    await consumer.message(); // the requeued one again, left to time out
    const timedOut = await consumer.message(3000); // after the timeout it comes back

    const h = await historyWhen(
      s,
      "",
      (h) => {
        const billing = h.topics.find((t: Json) => t.topic_name === "orders")?.channels[0];
        return billing !== undefined && total(billing.timed_out) === 1 && last(billing.in_flight) === 1;
      },
      "the timeout to be sampled",
    );
    expect(h.interval_ms).toBe(200);
    expect(h.capacity).toBe(360);
    expect(h.end % 200).toBe(0);
    expect(Math.abs(h.end - Date.now())).toBeLessThan(1000);
    expect(h.topics.map((t: Json) => t.topic_name)).toEqual(["audit", "orders"]);

    const [audit, orders] = h.topics;
    // idle since created: nothing kept
    expect(audit).toEqual({
      topic_name: "audit",
      messages_in: [],
      memory_depth: [],
      backend_depth: [],
      channels: [
        {
          channel_name: "idle",
          messages_in: [],
          messages_out: [],
          requeued: [],
          timed_out: [],
          memory_depth: [],
          backend_depth: [],
          in_flight: [],
        },
      ],
    });
    expect(total(orders.messages_in)).toBe(5);
    const billing = orders.channels[0];
    expect(billing.channel_name).toBe("billing");
    for (const series of Object.values(billing).filter(Array.isArray)) expect(series.length).toBe(billing.messages_in.length);
    expect(orders.memory_depth.length).toBe(orders.messages_in.length);
    expect(total(billing.messages_in)).toBe(5);
    expect(total(billing.messages_out)).toBe(1);
    expect(total(billing.requeued)).toBe(1);
    expect(total(billing.timed_out)).toBe(1);
    expect([last(billing.memory_depth), last(billing.backend_depth), last(billing.in_flight)]).toEqual([3, 0, 1]);
    // every topic and channel with something to show holds one ring: 3 fields for a topic, 7 for a channel
    expect(h.bytes).toBe((3 + 7) * 360 * 4);

    consumer.fin(timedOut.id);
    await historyWhen(s, "", (h) => total(h.topics[1].channels[0].messages_out) === 2, "the FIN to be sampled");
  }, 15_000);

  test("filters by topic and channel like /stats", async () => {
    const s = start();
    s.nsqd.history.start(100);
    for (const topic of ["orders", "other"]) await request(s, "POST", `/topic/create?topic=${topic}`);
    await request(s, "POST", "/channel/create?topic=orders&channel=billing");
    await request(s, "POST", "/channel/create?topic=orders&channel=audit");
    await request(s, "POST", "/channel/create?topic=other&channel=x");
    await request(s, "POST", "/pub?topic=orders", "one");
    const h = await historyWhen(s, "?topic=orders&channel=billing", (h) => h.topics[0]?.messages_in.length > 0, "a sample");
    expect(h.topics.map((t: Json) => [t.topic_name, t.channels.map((c: Json) => c.channel_name)])).toEqual([
      ["orders", ["billing"]],
    ]);
    expect(total(h.topics[0].channels[0].messages_in)).toBe(1);
    expect((await history(s, "?topic=orders")).topics[0].channels.map((c: Json) => c.channel_name)).toEqual([
      "audit",
      "billing",
    ]);
    expect((await history(s, "?topic=nope")).topics).toEqual([]);
    expect((await history(s, "?channel=x")).topics.map((t: Json) => t.topic_name)).toEqual(["other"]);
  });

  test("is in the OpenAPI document with its schema", async () => {
    const s = start();
    const doc = (await request(s, "GET", "/openapi/json")).json<Json>();
    const op = doc.paths["/stats/history"].get;
    expect(op.tags).toEqual(["nsqd"]);
    expect(op.parameters.map((p: Json) => p.name).sort()).toEqual(["channel", "topic"]);
    const schema = op.responses["200"].content["application/json"].schema;
    expect(Object.keys(schema.properties)).toEqual(["interval_ms", "capacity", "end", "bytes", "topics"]);
  });
});

describe("HistorySampler", () => {
  test("allocates a ring at the first message and gives it back after a window of zeros", async () => {
    const s = start();
    const sampler = new HistorySampler(s.nsqd, 3);
    sampler.start(20);
    try {
      await request(s, "POST", "/topic/create?topic=quiet");
      await Bun.sleep(100);
      expect(sampler.bytesHeld()).toBe(0);
      await request(s, "POST", "/pub?topic=quiet", "x");
      await until(() => sampler.bytesHeld() === 3 * 3 * 4, "the topic's ring");
      const topic = s.nsqd.getExistingTopic("quiet")!;
      expect(total(sampler.topicSeries(topic).messages_in)).toBe(1);
      await request(s, "POST", "/topic/empty?topic=quiet");
      await until(() => sampler.bytesHeld() === 0, "the ring to be given back");
      expect(sampler.topicSeries(topic).messages_in).toEqual([]);
    } finally {
      sampler.stop();
    }
  });
});
