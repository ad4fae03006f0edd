/**
 * statsd: a UDP listener in the test receives nsqd's metric lines from a running
 * bunsq; end-to-end processing latency percentiles in /stats and statsd.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { udp } from "bun";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { LatencyHistogram } from "../../src/core/latency-histogram.ts";
import { hostKey, statsdPrefix } from "../../src/statsd/packets.ts";
import { startTestNsqd, until } from "../helpers/nsqd.ts";
import { RawClient } from "../helpers/raw-client.ts";

let server: NsqdDaemon | null = null;
let listener: udp.Socket<"buffer"> | null = null;
const clients: RawClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  server?.stop();
  server = null;
  listener?.close();
  listener = null;
});

/** A statsd stand-in: every datagram, as received. */
async function statsdListener(): Promise<{ port: number; packets: string[] }> {
  const packets: string[] = [];
  listener = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data: (_s, data) => {
        packets.push(data.toString());
      },
    },
  });
  return { port: listener.port, packets };
}

/** Sum of a counter's increments, and the last gauge values, over all lines received. */
function metrics(packets: string[]): { counters: Map<string, number>; gauges: Map<string, number> } {
  const counters = new Map<string, number>();
  const gauges = new Map<string, number>();
  for (const line of packets.join("").split("\n")) {
    const m = /^(.+):(-?\d+)\|(c|g)$/.exec(line);
    if (m === null) continue;
    if (m[3] === "c") counters.set(m[1], (counters.get(m[1]) ?? 0) + Number(m[2]));
    else gauges.set(m[1], Number(m[2]));
  }
  return { counters, gauges };
}

async function consumeAll(s: NsqdDaemon, topic: string, channel: string, count: number): Promise<void> {
  const c = await RawClient.connect(s.tcpPort);
  clients.push(c);
  await c.subscribe(topic, channel, count);
  for (let i = 0; i < count; i++) c.fin((await c.message()).id);
  await until(() => s.nsqd.getExistingTopic(topic)?.getExistingChannel(channel)?.inFlightCount === 0, "the FINs");
}

describe("statsd", () => {
  test("nsqd's metric names with the %s host prefix, counters as increments, packets within the size", async () => {
    const udp = await statsdListener();
    const s = (server = startTestNsqd({
      statsdAddress: `127.0.0.1:${udp.port}`,
      statsdInterval: 100,
      statsdPrefix: "nsq.%s",
      statsdMemStats: true,
      statsdUdpPacketSize: 200,
      broadcastAddress: "test.host",
      e2eProcessingLatencyPercentiles: [0.5, 0.99],
    }));
    const p = `nsq.${hostKey(`test.host:${s.httpPort}`)}.`;
    const pub = await RawClient.connect(s.tcpPort);
    clients.push(pub);
    pub.identify({});
    await pub.response();
    for (let i = 0; i < 5; i++) await pub.publish("stats_topic", `m${i}`);
    await consumeAll(s, "stats_topic", "ch", 5);
    await until(() => metrics(udp.packets).counters.get(`${p}topic.stats_topic.channel.ch.message_count`) === 5, "the channel count", 3000);
    // a later push only adds the increment
    await pub.publish("stats_topic", "m5");
    await until(() => metrics(udp.packets).counters.get(`${p}topic.stats_topic.message_count`) === 6, "the sixth message", 3000);
    const { counters, gauges } = metrics(udp.packets);
    expect(counters.get(`${p}topic.stats_topic.message_bytes`)).toBe(12);
    for (const name of ["depth", "backend_depth", "in_flight_count", "deferred_count", "clients"]) {
      expect(gauges.has(`${p}topic.stats_topic.channel.ch.${name}`)).toBe(true);
    }
    expect(counters.has(`${p}topic.stats_topic.channel.ch.requeue_count`)).toBe(true);
    expect(counters.has(`${p}topic.stats_topic.channel.ch.timeout_count`)).toBe(true);
    expect(gauges.get(`${p}topic.stats_topic.channel.ch.clients`)).toBe(1);
    expect(gauges.has(`${p}topic.stats_topic.e2e_processing_latency_99`)).toBe(true);
    expect(gauges.get(`${p}topic.stats_topic.channel.ch.e2e_processing_latency_50`)).toBeGreaterThan(0);
    expect(gauges.get(`${p}mem.heap_in_use_bytes`)).toBeGreaterThan(0);
    expect(counters.has(`${p}mem.gc_runs`)).toBe(true);
    for (const packet of udp.packets) {
      expect(packet.length).toBeLessThanOrEqual(200);
      expect(packet.endsWith("\n")).toBe(true);
    }
  });

  test("--statsd-exclude-ephemeral leaves ephemeral topics and channels out", async () => {
    const udp = await statsdListener();
    const s = (server = startTestNsqd({
      statsdAddress: `127.0.0.1:${udp.port}`,
      statsdInterval: 100,
      statsdPrefix: "",
      statsdExcludeEphemeral: true,
    }));
    const c = await RawClient.connect(s.tcpPort);
    clients.push(c);
    await c.publish("kept", "x");
    await c.publish("gone#ephemeral", "x");
    s.nsqd.getChannel("kept", "eph#ephemeral");
    s.nsqd.getChannel("kept", "durable");
    await until(() => metrics(udp.packets).gauges.has("topic.kept.channel.durable.depth"), "a push", 3000);
    const text = udp.packets.join("");
    expect(text).toContain("topic.kept.message_count:1|c");
    expect(text).not.toContain("ephemeral");
  });

  test("prefix: %s becomes the host key and a dot is added", () => {
    expect(statsdPrefix("nsq.%s", "a.b.c", 4151)).toBe("nsq.a_b_c_4151.");
    expect(statsdPrefix("custom.", "h", 1)).toBe("custom.");
    expect(statsdPrefix("", "h", 1)).toBe("");
  });
});

describe("e2e processing latency", () => {
  test("percentiles per topic and channel in /stats", async () => {
    const s = (server = startTestNsqd({ e2eProcessingLatencyPercentiles: [0.5, 0.95], e2eProcessingLatencyWindowTime: 60_000 }));
    const pub = await RawClient.connect(s.tcpPort);
    clients.push(pub);
    const started = Date.now();
    for (let i = 0; i < 20; i++) await pub.publish("lat", `m${i}`);
    await consumeAll(s, "lat", "a", 20);
    const elapsedNs = (Date.now() - started + 1) * 1e6;
    const stats = (await (await fetch(`http://127.0.0.1:${s.httpPort}/stats?format=json`)).json()) as {
      topics: { e2e_processing_latency: { count: number; percentiles: { quantile: number; value: number }[] }; channels: { e2e_processing_latency: unknown }[] }[];
    };
    const topic = stats.topics[0];
    expect(topic.e2e_processing_latency.count).toBe(20);
    expect(topic.e2e_processing_latency.percentiles.map((p) => p.quantile)).toEqual([0.5, 0.95]);
    for (const p of topic.e2e_processing_latency.percentiles) {
      expect(p.value).toBeGreaterThan(0);
      expect(p.value).toBeLessThan(elapsedNs * 1.02);
    }
    expect(topic.channels[0].e2e_processing_latency).toEqual(topic.e2e_processing_latency);
    const text = await (await fetch(`http://127.0.0.1:${s.httpPort}/stats`)).text();
    expect(text).toMatch(/e2e%: \d+\.\d(ns|us|ms), \d+\.\d(ns|us|ms)/);
  });

  test("without percentiles configured the fields stay empty, as in nsqd", async () => {
    const s = (server = startTestNsqd());
    const pub = await RawClient.connect(s.tcpPort);
    clients.push(pub);
    await pub.publish("quiet", "x");
    await consumeAll(s, "quiet", "c", 1);
    const stats = (await (await fetch(`http://127.0.0.1:${s.httpPort}/stats?format=json`)).json()) as {
      topics: { e2e_processing_latency: unknown }[];
    };
    expect(stats.topics[0].e2e_processing_latency).toEqual({ count: 0, percentiles: null });
  });

  test("the histogram stays within 1.6 % of the exact percentile", () => {
    const h = new LatencyHistogram();
    const values = Array.from({ length: 10_000 }, (_, i) => 1000 + i * 997);
    for (const v of values) h.insert(v);
    for (const q of [0.5, 0.9, 0.99]) {
      const exact = values[Math.ceil(q * values.length) - 1];
      expect(Math.abs(h.query(q) - exact) / exact).toBeLessThan(0.016);
    }
  });
});
