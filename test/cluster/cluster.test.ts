/**
 * A real cluster on loopback: two nsqlookupd and three nsqd programs as child
 * processes. The tests run in order on the same cluster.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually, http, lookupProducers } from "../helpers/lookupd.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { LookupConsumer } from "./lookup-consumer.ts";
import { spawnClusterNsqd, spawnLookupd, startAll, type Proc } from "./procs.ts";

const LOOKUPD_ARGS = ["--tombstone-lifetime=1s", "--inactive-producer-timeout=60s"];

let lookupds: Proc[] = [];
let nsqds: Proc[] = [];

beforeAll(async () => {
  lookupds = await startAll([spawnLookupd(LOOKUPD_ARGS), spawnLookupd(LOOKUPD_ARGS)]);
  nsqds = await startAll([0, 1, 2].map(() => spawnClusterNsqd(lookupds)));
});

afterAll(async () => {
  await Promise.all([...nsqds, ...lookupds].map((p) => p.stop()));
});

const addr = (p: Proc) => `127.0.0.1:${p.tcpPort}`;

async function publish(nsqd: Proc, topic: string, bodies: string[]): Promise<void> {
  const c = await RawClient.connect(nsqd.tcpPort);
  for (const b of bodies) await c.publish(topic, b);
  c.close();
}

/** Waits until every lookupd lists exactly these producers for the topic. */
async function producersEverywhere(topic: string, expected: Proc[], timeoutMs = 5000): Promise<void> {
  const want = expected.map(addr).sort();
  for (const l of lookupds) {
    await eventually(
      async () => JSON.stringify(await lookupProducers(l.httpPort, topic)) === JSON.stringify(want),
      `lookupd :${l.httpPort} to list ${want.join(", ") || "no producer"} for ${topic}`,
      timeoutMs,
    );
  }
}

describe("cluster: 2 nsqlookupd, 3 nsqd", () => {
  test("a consumer that knows only the lookupds receives every message published to any nsqd", async () => {
    const consumer = new LookupConsumer(
      lookupds.map((l) => l.httpPort),
      "orders",
      "billing",
    );
    consumer.start();
    try {
      const sent: string[] = [];
      // the topic appears on one node after another; the consumer follows it
      for (const [i, nsqd] of nsqds.entries()) {
        const bodies = Array.from({ length: 20 }, (_, j) => `node${i}-msg${j}`);
        sent.push(...bodies);
        await publish(nsqd, "orders", bodies);
        await eventually(() => consumer.nsqds.has(addr(nsqd)), `the consumer to find nsqd ${i}`);
      }
      await eventually(() => consumer.received.length >= sent.length, "every message");
      expect(consumer.received.sort()).toEqual(sent.sort());
      await producersEverywhere("orders", nsqds);
    } finally {
      consumer.stop();
    }
  });

  test("killing and restarting a lookupd loses no registration", async () => {
    const [victim] = lookupds;
    const before = await http(lookupds[1].httpPort, "/nodes");
    expect(before.json.producers).toHaveLength(3);
    await victim.stop("SIGKILL");
    lookupds[0] = await spawnLookupd(LOOKUPD_ARGS, victim.tcpPort, victim.httpPort);
    await eventually(
      async () => (await http(lookupds[0].httpPort, "/nodes")).json.producers.length === 3,
      "every nsqd to register again",
      8000,
    );
    await producersEverywhere("orders", nsqds);
    expect((await http(lookupds[0].httpPort, "/channels?topic=orders")).json.channels).toEqual(["billing"]);
  });

  test("a tombstoned producer disappears from /lookup for the tombstone lifetime", async () => {
    const [target, ...others] = nsqds;
    for (const l of lookupds) {
      const r = await http(l.httpPort, `/topic/tombstone?topic=orders&node=127.0.0.1:${target.httpPort}`, "POST");
      expect(r.status).toBe(200);
    }
    await producersEverywhere("orders", others, 500);
    // --tombstone-lifetime=1s: it comes back while still registered
    await producersEverywhere("orders", nsqds, 5000);
  });

  test("topic and channel deletion propagate", async () => {
    const [n0, n1] = nsqds;
    await publish(n0, "audit", ["a"]);
    await publish(n1, "audit", ["b"]);
    for (const n of [n0, n1]) expect((await http(n.httpPort, "/channel/create?topic=audit&channel=c1", "POST")).status).toBe(200);
    await producersEverywhere("audit", [n0, n1]);
    const channelProducers = async (l: Proc) =>
      ((await http(l.httpPort, "/debug")).json["channel:audit:c1"] ?? []).length as number;
    for (const l of lookupds) await eventually(async () => (await channelProducers(l)) === 2, "channel on both nodes");

    // deleting on one nsqd unregisters only that node's channel and topic
    expect((await http(n0.httpPort, "/channel/delete?topic=audit&channel=c1", "POST")).status).toBe(200);
    for (const l of lookupds) await eventually(async () => (await channelProducers(l)) === 1, "channel off n0");
    expect((await http(n0.httpPort, "/topic/delete?topic=audit", "POST")).status).toBe(200);
    await producersEverywhere("audit", [n1]);

    // nsqadmin's way: delete on every lookupd and every nsqd; nothing comes back
    for (const p of [...lookupds, n1]) {
      expect((await http(p.httpPort, "/topic/delete?topic=audit", "POST")).status).toBe(200);
    }
    for (const l of lookupds) {
      expect((await http(l.httpPort, "/lookup?topic=audit")).status).toBe(404);
      expect((await http(l.httpPort, "/topics")).json.topics).not.toContain("audit");
    }
  });

  test("a stopped nsqd leaves /lookup on every lookupd", async () => {
    const gone = nsqds.pop()!;
    expect(await gone.stop("SIGTERM")).toBe(0);
    await producersEverywhere("orders", nsqds);
    for (const l of lookupds) expect((await http(l.httpPort, "/nodes")).json.producers).toHaveLength(2);
  });
});
