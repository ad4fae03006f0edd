import { expect, test } from "bun:test";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { Consumer, Producer, type ConsumerOptions, type Message } from "../../src/client/index.ts";
import type { NSQLookupd } from "../../src/lookupd/nsqlookupd.ts";
import { perTestCleanups, until } from "../helpers/nsqd.ts";
import { startTestLookupd } from "../helpers/lookupd.ts";
import { channelStats, uniqueTopic } from "./helpers.ts";

const { defer, nsqd } = perTestCleanups();

function consumer(topic: string, options: ConsumerOptions): Consumer {
  const c = new Consumer(topic, "ch", options);
  defer(() => c.stop(1000));
  return c;
}

async function publish(s: NsqdDaemon, topic: string, bodies: string[]): Promise<void> {
  const p = new Producer(s.tcpAddress);
  await p.multiPublish(topic, bodies);
  await p.stop();
}

test("maxInFlight smaller than the connection count: RDY is redistributed to the nsqd that has messages", async () => {
  const servers = [nsqd(), nsqd(), nsqd()];
  const topic = uniqueTopic();
  const got: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const c = consumer(topic, {
    maxInFlight: 2,
    concurrency: 10,
    rdyRedistributeInterval: 20,
    lowRdyIdleTimeout: 60,
    handler: async (m) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await Bun.sleep(1);
      got.push(m.text());
      inFlight--;
    },
  });
  for (const s of servers) await c.connectToNsqd(s.tcpAddress);
  expect(c.stats().totalRdy).toBe(2);

  // every nsqd in turn is the only one with messages; each must get RDY to deliver them
  for (const [i, s] of servers.entries()) {
    await publish(s, topic, Array.from({ length: 5 }, (_, j) => `${i}-${j}`));
    await until(() => got.length === 5 * (i + 1), `messages of nsqd ${i}`, 5000);
  }
  expect(got.sort()).toEqual(servers.flatMap((_, i) => Array.from({ length: 5 }, (_, j) => `${i}-${j}`)).sort());
  expect(maxInFlight).toBeLessThanOrEqual(2);
  expect(c.stats().totalRdy).toBeLessThanOrEqual(2);
  const readyCounts = await Promise.all(servers.map(async (s) => (await channelStats(s, topic, "ch"))!.clients[0]!.ready_count));
  expect(readyCounts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2);
});

test("maxInFlight is split between connections", async () => {
  const servers = [nsqd(), nsqd()];
  const topic = uniqueTopic();
  const c = consumer(topic, { maxInFlight: 10, handler: () => {} });
  for (const s of servers) await c.connectToNsqd(s.tcpAddress);
  await until(() => c.stats().totalRdy === 10, "RDY 5 + 5");
  for (const s of servers) {
    const stats = await channelStats(s, topic, "ch");
    expect(stats!.clients[0]!.ready_count).toBe(5);
  }
});

test("a failed handler requeues with backoff: RDY 0 during the backoff, then back to full RDY", async () => {
  const s = nsqd();
  const topic = uniqueTopic();
  const rdyAfterFailure: number[] = [];
  const attempts: number[] = [];
  const c = consumer(topic, {
    maxInFlight: 5,
    backoffMultiplier: 10,
    defaultRequeueDelay: 0,
    handler: (m) => {
      if (m.text() !== "only") return;
      attempts.push(m.attempts);
      if (m.attempts < 3) {
        queueMicrotask(() => rdyAfterFailure.push(c.stats().totalRdy));
        throw new Error("not yet");
      }
    },
  });
  await c.connectToNsqd(s.tcpAddress);
  await publish(s, topic, ["only"]);
  await until(() => c.stats().finished === 1, "the message to succeed on its third attempt");
  expect(attempts).toEqual([1, 2, 3]);
  expect(rdyAfterFailure).toEqual([0, 0]);
  expect(c.stats().requeued).toBe(2);
  // successes bring the level back down and RDY back up. How high the level got
  // depends on whether the retry arrived before nsqd read the RDY 0 that followed
  // the REQ (a failure during a backoff period is not counted): up to 2, so up to
  // two more successes may be needed.
  await publish(s, topic, ["ok 1", "ok 2"]);
  await until(() => c.stats().backoffLevel === 0 && c.stats().totalRdy === 5, "leaving backoff");
  const stats = await channelStats(s, topic, "ch");
  expect(stats!.requeue_count).toBe(2);
  expect(stats!.clients[0]!.ready_count).toBe(5);
});

test("maxAttempts: a message delivered too often is given to the hook and finished", async () => {
  const s = nsqd();
  const topic = uniqueTopic();
  const gaveUp: Message[] = [];
  let calls = 0;
  const c = consumer(topic, {
    maxInFlight: 1,
    maxAttempts: 3,
    backoffMultiplier: 1,
    defaultRequeueDelay: 0,
    onGiveUp: (m) => void gaveUp.push(m),
    handler: () => {
      calls++;
      throw new Error("always fails");
    },
  });
  await c.connectToNsqd(s.tcpAddress);
  await publish(s, topic, ["poison"]);
  await until(() => gaveUp.length === 1, "giving up");
  expect(calls).toBe(3);
  expect(gaveUp[0]!.attempts).toBe(4);
  expect(gaveUp[0]!.text()).toBe("poison");
  await until(() => c.stats().finished === 1, "FIN");
  const stats = await channelStats(s, topic, "ch");
  expect(stats!.depth + stats!.in_flight_count + stats!.deferred_count).toBe(0);
});

test("TOUCH keeps a long-running message in flight past nsqd's msg-timeout", async () => {
  const s = nsqd({ msgTimeout: 150 });
  const topic = uniqueTopic();
  const attempts: number[] = [];
  const c = consumer(topic, {
    maxInFlight: 1,
    handler: async (m) => {
      attempts.push(m.attempts);
      for (let i = 0; i < 6; i++) {
        await Bun.sleep(50);
        m.touch();
      }
    },
  });
  await c.connectToNsqd(s.tcpAddress);
  await publish(s, topic, ["slow"]);
  await until(() => c.stats().finished === 1, "the slow message", 3000);
  expect(attempts).toEqual([1]);
  expect((await channelStats(s, topic, "ch"))!.timeout_count).toBe(0);
});

test("stop lets in-flight work finish and FINs it before closing", async () => {
  const s = nsqd();
  const topic = uniqueTopic();
  let started = 0;
  let done = 0;
  const c = new Consumer(topic, "ch", {
    maxInFlight: 10,
    concurrency: 10,
    handler: async () => {
      started++;
      await Bun.sleep(100);
      done++;
    },
  });
  await c.connectToNsqd(s.tcpAddress);
  await publish(s, topic, ["a", "b", "c"]);
  await until(() => started === 3, "three handlers running");
  await c.stop();
  expect(done).toBe(3);
  expect(c.stats().finished).toBe(3);
  let stats = await channelStats(s, topic, "ch");
  for (let i = 0; i < 100 && stats!.client_count > 0; i++) {
    await Bun.sleep(10);
    stats = await channelStats(s, topic, "ch");
  }
  expect(stats!.client_count).toBe(0);
  expect(stats!.depth + stats!.in_flight_count).toBe(0);
  expect(stats!.requeue_count + stats!.timeout_count).toBe(0);
});

test("answers heartbeats: an idle consumer stays connected past two heartbeat intervals", async () => {
  const s = nsqd();
  const topic = uniqueTopic();
  const c = consumer(topic, { heartbeatInterval: 1000, handler: () => {} });
  await c.connectToNsqd(s.tcpAddress);
  await Bun.sleep(2600); // nsqd drops a client that is silent for two intervals
  expect(c.connectedAddresses()).toEqual([s.tcpAddress]);
  await publish(s, topic, ["still here"]);
  await until(() => c.stats().finished === 1, "a message after the idle time");
});

test("nsqlookupd discovery: a topic that appears later is found, a tombstoned producer is dropped", async () => {
  const lookupd: NSQLookupd = startTestLookupd();
  defer(() => lookupd.stop());
  const s = nsqd({ lookupdTcpAddresses: [`127.0.0.1:${lookupd.tcpPort}`], broadcastAddress: "127.0.0.1" });
  const topic = uniqueTopic();
  const got: string[] = [];
  const c = consumer(topic, { maxInFlight: 10, lookupdPollInterval: 30, handler: (m) => void got.push(m.text()) });
  await c.connectToNsqlookupd(`127.0.0.1:${lookupd.httpPort}`);
  expect(c.connectedAddresses()).toEqual([]); // nobody produces the topic yet

  await publish(s, topic, ["found"]);
  await until(() => got.length === 1, "discovery and delivery", 5000);
  expect(c.connectedAddresses()).toEqual([s.tcpAddress]);

  const res = await fetch(
    `http://127.0.0.1:${lookupd.httpPort}/topic/tombstone?topic=${topic}&node=127.0.0.1:${s.httpPort}`,
    { method: "POST" },
  );
  expect(res.status).toBe(200);
  await until(() => c.connectedAddresses().length === 0, "the tombstoned producer to be dropped", 5000);
});
