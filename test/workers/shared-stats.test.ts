/**
 * `nsqd --workers=2` as real processes: the shared HTTP address's
 * /stats/history is both workers' history summed sample by sample, and its
 * /stats end-to-end latency percentiles are read from both workers' histograms
 * merged (not the figures of one worker). Messages are published to and
 * consumed from each worker's own ports, so each worker's share is known.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Consumer } from "../../src/client/index.ts";
import { percentilesOf } from "../../src/core/e2e-latency.ts";
import { CHANNEL_SERIES, TOPIC_SERIES } from "../../src/core/history.ts";
import { LatencyHistogram } from "../../src/core/latency-histogram.ts";
import { nsqdHistorySchema, type NsqdHistory } from "../../src/schemas/nsqd-history.ts";
import { LATENCY_HISTOGRAMS_PATH, type LatencyHistograms } from "../../src/workers/latency-merge.ts";
import { eventually } from "../helpers/lookupd.ts";
import { SpawnedWorkers } from "../helpers/workers.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function workers(args: string[] = []): Promise<SpawnedWorkers> {
  const w = await SpawnedWorkers.start(2, args);
  cleanups.push(() => w.cleanup());
  return w;
}

async function getJson<T = any>(port: number, path: string): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

async function post(port: number, path: string, body?: string): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", body });
  if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
}

/** A consumer of one worker's own TCP port that finishes each message after `delayMs`; counts them. */
async function consumer(tcpPort: number, topic: string, channel: string, delayMs = 0) {
  let handled = 0;
  const c = new Consumer(topic, channel, {
    maxInFlight: 50,
    concurrency: 50,
    handler: async () => {
      if (delayMs > 0) await Bun.sleep(delayMs);
      handled++;
    },
  });
  cleanups.push(() => c.stop(2000));
  await c.connectToNsqd(`127.0.0.1:${tcpPort}`);
  return { handled: () => handled };
}

const total = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** Two series ending at the same instant, summed sample by sample (the shorter one started later). */
function sumAtEnd(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => (a[i - (n - a.length)] ?? 0) + (b[i - (n - b.length)] ?? 0));
}

describe("the shared HTTP address of nsqd --workers=2", () => {
  test("/stats/history is both workers' history summed sample by sample", async () => {
    const w = await workers();
    const [w0, w1] = w.workers();
    const query = "/stats/history?topic=hist";
    await post(w.httpPort, "/topic/create?topic=hist");
    await post(w.httpPort, "/channel/create?topic=hist&channel=c");
    const consumers = [await consumer(w0.tcpPort, "hist", "c"), await consumer(w1.tcpPort, "hist", "c")];
    await post(w0.httpPort, "/mpub?topic=hist", "a\nb\nc\nd\ne\nf");
    await post(w1.httpPort, "/mpub?topic=hist", "g\nh\ni\nj");
    await eventually(() => consumers[0].handled() === 6 && consumers[1].handled() === 4, "10 messages handled");

    // every message in and out shows once the workers have sampled (every 10 s)
    const shared = (await eventually(
      async () => {
        const h = await getJson<NsqdHistory>(w.httpPort, query);
        const c = h.topics[0]?.channels[0];
        return total(h.topics[0]?.messages_in ?? []) === 10 && c !== undefined && total(c.messages_out) === 10 ? h : null;
      },
      "10 messages in and out in the shared history",
      30_000,
    ))!;
    expect(nsqdHistorySchema.parse(shared)).toEqual(shared);
    expect(shared.interval_ms).toBe(10_000);
    expect(shared.capacity).toBe(360);

    // the same instant seen by both workers' own ports and the shared one: a sum sample by sample
    const [own0, own1, merged] = (await eventually(
      async () => {
        const before = await Promise.all([getJson<NsqdHistory>(w0.httpPort, query), getJson<NsqdHistory>(w1.httpPort, query)]);
        const merged = await getJson<NsqdHistory>(w.httpPort, query);
        const after = await Promise.all([getJson<NsqdHistory>(w0.httpPort, query), getJson<NsqdHistory>(w1.httpPort, query)]);
        const still = JSON.stringify(before) === JSON.stringify(after);
        return still && before[0].end === before[1].end && merged.end === before[0].end ? [...before, merged] : null;
      },
      "a sample time every worker has sampled",
      30_000,
    ))!;
    expect(total(own0.topics[0].messages_in)).toBe(6);
    expect(total(own1.topics[0].messages_in)).toBe(4);
    expect(merged.bytes).toBe(own0.bytes + own1.bytes);
    const [t0, t1, t] = [own0.topics[0], own1.topics[0], merged.topics[0]];
    for (const name of TOPIC_SERIES) {
      expect(t[name]).toEqual(sumAtEnd(t0[name], t1[name]));
    }
    const [c0, c1, c] = [t0.channels[0], t1.channels[0], t.channels[0]];
    for (const name of CHANNEL_SERIES) {
      expect(c[name]).toEqual(sumAtEnd(c0[name], c1[name]));
    }
    expect(total(c.messages_in)).toBe(10);
  }, 60_000);

  test("/stats reads e2e latency percentiles from both workers' histograms merged", async () => {
    const w = await workers(["--e2e-processing-latency-percentile=0.5,0.99"]);
    const [w0, w1] = w.workers();
    await post(w.httpPort, "/topic/create?topic=lat");
    await post(w.httpPort, "/channel/create?topic=lat&channel=c");
    // worker 0 measures more messages, all finished at once; worker 1 fewer, each finished after 500 ms
    const fast = await consumer(w0.tcpPort, "lat", "c");
    const slow = await consumer(w1.tcpPort, "lat", "c", 500);
    await post(w0.httpPort, "/mpub?topic=lat", Array.from({ length: 30 }, (_, i) => `f${i}`).join("\n"));
    await post(w1.httpPort, "/mpub?topic=lat", Array.from({ length: 10 }, (_, i) => `s${i}`).join("\n"));
    await eventually(() => fast.handled() === 30 && slow.handled() === 10, "40 messages handled", 10_000);
    const stats = await eventually(
      async () => {
        const s = await getJson(w.httpPort, "/stats?format=json&topic=lat");
        return s.topics[0].channels[0].e2e_processing_latency.count === 40 && s;
      },
      "40 FINs timed",
    );

    // what merging the two workers' own histograms gives
    const histograms = await Promise.all(
      [w0, w1].map((x) => getJson<LatencyHistograms>(x.httpPort, `${LATENCY_HISTOGRAMS_PATH}?topic=lat`)),
    );
    const topicSum = new LatencyHistogram();
    const channelSum = new LatencyHistogram();
    for (const h of histograms) {
      topicSum.mergeSparse(h.topics[0].histogram);
      channelSum.mergeSparse(h.topics[0].channels[0].histogram);
    }
    const topic = stats.topics[0];
    const channel = topic.channels[0];
    expect(channel.e2e_processing_latency).toEqual(percentilesOf([0.5, 0.99], channelSum));
    expect(topic.e2e_processing_latency).toEqual(percentilesOf([0.5, 0.99], topicSum));

    // "the worker that measured more" (worker 0: 30 fast ones) would give a fast p99 and a count of 30
    const [p50, p99] = channel.e2e_processing_latency.percentiles.map((p: { value: number }) => p.value);
    expect(p50).toBeLessThan(250e6);
    expect(p99).toBeGreaterThan(490e6);
    const own0 = await getJson(w0.httpPort, "/stats?format=json&topic=lat");
    expect(own0.topics[0].channels[0].e2e_processing_latency.count).toBe(30);
    expect(own0.topics[0].channels[0].e2e_processing_latency.percentiles[1].value).toBeLessThan(250e6);

    // the public document keeps nsqd's shape, and the histograms stay on the private ports
    expect(Object.keys(channel.e2e_processing_latency).sort()).toEqual(["count", "percentiles"]);
    expect((await fetch(`http://127.0.0.1:${w.httpPort}${LATENCY_HISTOGRAMS_PATH}`)).status).toBe(404);
    const documented = Object.keys((await getJson(w0.httpPort, "/openapi/json")).paths);
    expect(documented).toContain("/stats");
    expect(documented).not.toContain(LATENCY_HISTOGRAMS_PATH);
  }, 60_000);
});
