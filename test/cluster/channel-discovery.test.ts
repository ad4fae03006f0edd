/**
 * A new topic on an nsqd pre-creates the channels the cluster knows (as NSQ's
 * nsqd): real nsqlookupd and nsqd processes on loopback, lookupds that are down
 * (SIGKILL) or accept connections and never answer (SIGSTOP).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { eventually, http } from "../helpers/lookupd.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { spawnClusterNsqd, spawnLookupd, type Proc } from "./procs.ts";

let procs: Proc[] = [];
let clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await Promise.all(procs.map((p) => p.stop()));
  procs = [];
});

async function lookupd(): Promise<Proc> {
  const p = await spawnLookupd();
  procs.push(p);
  return p;
}

/** An nsqd with the lookupds, once it has each one's answer to IDENTIFY (their HTTP addresses). */
async function nsqd(lookupds: Proc[], args: string[] = []): Promise<Proc> {
  const p = await spawnClusterNsqd(lookupds, args);
  procs.push(p);
  for (const l of lookupds) await p.waitLog(`LOOKUPD(127.0.0.1:${l.tcpPort}): peer info`);
  return p;
}

async function client(nsqd: Proc): Promise<RawClient> {
  const c = await RawClient.connect(nsqd.tcpPort);
  clients.push(c);
  return c;
}

/** Channel name -> depth of the topic on the nsqd, from its /stats (null: no such topic). */
async function channelDepths(nsqd: Proc, topic: string): Promise<Record<string, number> | null> {
  const stats = (await http(nsqd.httpPort, `/stats?format=json&topic=${topic}`)).json;
  const t = (stats.topics ?? []).find((x: { topic_name: string }) => x.topic_name === topic);
  if (t === undefined) return null;
  return Object.fromEntries(t.channels.map((c: { channel_name: string; depth: number }) => [c.channel_name, c.depth]));
}

/** Waits until the lookupd lists exactly these channels for the topic. */
async function lookupdChannels(l: Proc, topic: string, channels: string[]): Promise<void> {
  const want = JSON.stringify([...channels].sort());
  await eventually(
    async () => JSON.stringify(((await http(l.httpPort, `/channels?topic=${topic}`)).json.channels ?? []).sort()) === want,
    `lookupd to list ${want} for ${topic}`,
  );
}

/** A topic with channels c1 and c2 (and a consumer on an ephemeral one) on a first nsqd. */
async function clusterWithChannels(lookupds: Proc[], topic: string): Promise<void> {
  const a = await nsqd(lookupds);
  expect((await http(a.httpPort, `/topic/create?topic=${topic}`, "POST")).status).toBe(200);
  for (const ch of ["c1", "c2"]) {
    expect((await http(a.httpPort, `/channel/create?topic=${topic}&channel=${ch}`, "POST")).status).toBe(200);
  }
  await (await client(a)).subscribe(topic, "live#ephemeral", 0);
  for (const l of lookupds) await lookupdChannels(l, topic, ["c1", "c2", "live#ephemeral"]);
}

/** Publishes half the bodies over HTTP and half over TCP, interleaved; returns each publish's latency in ms. */
async function publishMixed(nsqd: Proc, topic: string, bodies: string[]): Promise<number[]> {
  const tcp = await client(nsqd);
  const timed = async (f: () => Promise<unknown>) => {
    const start = performance.now();
    await f();
    return performance.now() - start;
  };
  return Promise.all(
    bodies.map((b, i) =>
      i % 2 === 0
        ? timed(async () => {
            const r = await fetch(`http://127.0.0.1:${nsqd.httpPort}/pub?topic=${topic}`, { method: "POST", body: b });
            if (r.status !== 200) throw new Error(`pub: ${r.status} ${await r.text()}`);
          })
        : timed(() => tcp.publish(topic, b)),
    ),
  );
}

/** Subscribes to the channel and returns the bodies received until `count` arrived (finishing each). */
async function consume(nsqd: Proc, topic: string, channel: string, count: number, timeoutMs = 10_000): Promise<string[]> {
  const c = await client(nsqd);
  await c.subscribe(topic, channel, 50);
  const got: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count) {
    const m = await c.message(Math.max(1, deadline - Date.now()));
    got.push(new TextDecoder().decode(m.body));
    c.fin(m.id);
  }
  // nothing beyond: no duplicates
  expect(await c.quiet(200)).toBe(true);
  c.close();
  return got.sort();
}

const bodies = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, "0")}`);

describe("a new topic pre-creates the channels known to the cluster", () => {
  for (const memQueue of ["10000", "50", "0"]) {
    test(`200 publishes (HTTP and TCP) before any consumer reach c1 and c2, not the ephemeral channel (--mem-queue-size=${memQueue})`, async () => {
      const l = await lookupd();
      await clusterWithChannels([l], "pc");
      const b = await nsqd([l], [`--mem-queue-size=${memQueue}`]);
      expect(await channelDepths(b, "pc")).toBeNull();

      const sent = bodies("pc", 200);
      await publishMixed(b, "pc", sent);

      // the channels were created with the topic and each holds every message
      await eventually(async () => {
        const d = await channelDepths(b, "pc");
        return d !== null && d.c1 === 200 && d.c2 === 200;
      }, "c1 and c2 to hold 200 each on the new nsqd");
      expect(Object.keys((await channelDepths(b, "pc"))!).sort()).toEqual(["c1", "c2"]);
      // nothing left in the topic itself
      expect((await http(b.httpPort, "/stats?format=json&topic=pc")).json.topics[0].depth).toBe(0);

      expect(await consume(b, "pc", "c1", 200)).toEqual(sent);
      expect(await consume(b, "pc", "c2", 200)).toEqual(sent);
      expect(await channelDepths(b, "pc")).toEqual({ c1: 0, c2: 0 });
      // and the new nsqd registered them with the lookupd
      await eventually(async () => {
        const r = (await http(l.httpPort, "/debug")).json;
        return (r["channel:pc:c1"] ?? []).length === 2 && (r["channel:pc:c2"] ?? []).length === 2;
      }, "both nsqds to be registered for c1 and c2");
    }, 30_000);
  }

  test("an nsqd without lookupds creates no channel for a new topic", async () => {
    const b = await nsqd([]);
    await publishMixed(b, "alone", bodies("a", 10));
    expect(await channelDepths(b, "alone")).toEqual({});
    expect((await http(b.httpPort, "/stats?format=json&topic=alone")).json.topics[0].depth).toBe(10);
  }, 20_000);

  test("a lookupd that is down: the others' channels are created at once, nothing is lost", async () => {
    const [up, down] = [await lookupd(), await lookupd()];
    await clusterWithChannels([up], "pd");
    const b = await nsqd([up, down], ["--http-client-request-timeout=5s"]);
    await down.stop("SIGKILL");

    const start = performance.now();
    const sent = bodies("pd", 40);
    const latencies = await publishMixed(b, "pd", sent);
    expect(Math.max(...latencies)).toBeLessThan(5000);
    await eventually(async () => {
      const d = await channelDepths(b, "pd");
      return d !== null && d.c1 === 40 && d.c2 === 40;
    }, "c1 and c2 to hold 40 each");
    // a refused connection does not wait for the 5 s timeout
    expect(performance.now() - start).toBeLessThan(4000);
    expect(await consume(b, "pd", "c1", 40)).toEqual(sent);
    expect(await consume(b, "pd", "c2", 40)).toEqual(sent);
  }, 30_000);

  test("a lookupd that never answers delays delivery by at most the timeout, never the publishes", async () => {
    const [up, hung] = [await lookupd(), await lookupd()];
    await clusterWithChannels([up], "ph");
    const b = await nsqd([up, hung], ["--http-client-request-timeout=1500ms"]);
    hung.proc.kill("SIGSTOP"); // its sockets still accept connections (the kernel's backlog); nothing answers
    try {
      const sent = bodies("ph", 60);
      const start = performance.now();
      const first = await publishMixed(b, "ph", sent.slice(0, 2));
      // during discovery: publishes are answered, the topic holds them, no channel delivers yet
      const early = await client(b);
      await early.subscribe("ph", "late", 100);
      const rest = await publishMixed(b, "ph", sent.slice(2));
      expect(Math.max(...first, ...rest)).toBeLessThan(1500);
      const d = await channelDepths(b, "ph");
      if (performance.now() - start < 1400) {
        expect(d).toEqual({ late: 0 });
        expect(await early.quiet(Math.max(1, 1400 - (performance.now() - start)))).toBe(true);
      }

      // the hung lookupd's request times out; the channels come from the one that answered
      await eventually(
        async () => {
          const d = await channelDepths(b, "ph");
          return d !== null && d.c1 === 60 && d.c2 === 60;
        },
        "c1 and c2 to hold 60 each",
        6000,
      );
      expect(performance.now() - start).toBeGreaterThanOrEqual(1400);
      expect(b.log()).toContain("no answer within 1500ms");

      // the consumer that subscribed during discovery gets every held message too
      const late: string[] = [];
      while (late.length < 60) {
        const m = await early.message(5000);
        late.push(new TextDecoder().decode(m.body));
        early.fin(m.id);
      }
      expect(late.sort()).toEqual(sent);
      expect(await consume(b, "ph", "c1", 60)).toEqual(sent);
      expect(await consume(b, "ph", "c2", 60)).toEqual(sent);
    } finally {
      hung.proc.kill("SIGCONT");
    }
  }, 30_000);
});
