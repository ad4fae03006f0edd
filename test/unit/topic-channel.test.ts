/**
 * Topic and Channel directly, with fake consumers and no sockets: positions in the
 * shared memory queue, release, spill, drain, pause, requeue, time-outs, empty.
 * (The same behaviour through real sockets: test/integration/delivery.test.ts.)
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NOT_IN_FLIGHT, NOT_OWNER } from "../../src/core/refusal.ts";
import { Logger } from "../../src/common/logger.ts";
import { NSQD } from "../../src/core/nsqd.ts";
import { parseNsqdOptions } from "../../src/core/options.ts";
import { FakeConsumer } from "../helpers/fake-consumer.ts";
import { until } from "../helpers/nsqd.ts";

const quiet = new Logger({ level: "fatal", prefix: "" });
const encoder = new TextEncoder();
let cleanups: (() => void)[] = [];

afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

function startNsqd(overrides: Record<string, unknown> = {}): NSQD {
  const dir = mkdtempSync(join(tmpdir(), "bunsq-core-"));
  const nsqd = new NSQD(parseNsqdOptions({ dataPath: dir, ...overrides }), quiet);
  nsqd.start();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => nsqd.close(false));
  return nsqd;
}

function publish(nsqd: NSQD, topic: string, bodies: string[], deferMs = 0): void {
  for (const body of bodies) {
    const bytes = encoder.encode(body);
    nsqd.getTopic(topic).publish(bytes, [0, bytes.length], 1, deferMs);
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `m${from + i}`);

test("every channel reads each message once from the shared queue, which lets go once all have read it", () => {
  const nsqd = startNsqd();
  const topic = nsqd.getTopic("t");
  const a = new FakeConsumer(topic.getChannel("a"), 3);
  const b = new FakeConsumer(topic.getChannel("b"), 100);
  publish(nsqd, "t", range(0, 10));
  expect(b.received.map((m) => m.body)).toEqual(range(0, 10));
  expect(a.received.map((m) => m.body)).toEqual(range(0, 3)); // RDY 3
  expect(topic.getChannel("a").depth).toBe(7);
  a.rdy = 100;
  expect(a.drain()).toEqual(range(0, 10));
  b.finishAll();
  expect(topic.depth).toBe(0);
  expect(topic.getChannel("a").depth + topic.getChannel("b").depth).toBe(0);
});

test("the first channel takes what the topic held; a later one starts at the end", () => {
  const nsqd = startNsqd();
  publish(nsqd, "t", range(0, 5));
  const topic = nsqd.getTopic("t");
  expect(topic.depth).toBe(5);
  const first = new FakeConsumer(topic.getChannel("first"));
  const later = new FakeConsumer(topic.getChannel("later"));
  publish(nsqd, "t", range(5, 7));
  expect(first.drain()).toEqual(range(0, 7));
  expect(later.drain()).toEqual(range(5, 7));
});

test("a channel that falls behind the memory limit spills to its own disk and keeps order; others are not held back", () => {
  const nsqd = startNsqd({ memQueueSize: 5 });
  const topic = nsqd.getTopic("t");
  const slow = topic.getChannel("slow");
  const fast = new FakeConsumer(topic.getChannel("fast"));
  for (const body of range(0, 20)) {
    publish(nsqd, "t", [body]);
    fast.finishAll();
  }
  expect(fast.received.map((m) => m.body)).toEqual(range(0, 20));
  expect(slow.depth).toBe(20);
  expect(slow.backendDepth).toBeGreaterThanOrEqual(15);
  expect(new FakeConsumer(slow).drain()).toEqual(range(0, 20));
  expect(slow.depth).toBe(0);
});

test("a topic without channels keeps its overflow on disk and drains it to its first channel in order", async () => {
  const nsqd = startNsqd({ memQueueSize: 5 });
  const topic = nsqd.getTopic("t");
  publish(nsqd, "t", range(0, 20));
  expect(topic.backendDepth).toBe(15);
  const c = new FakeConsumer(topic.getChannel("c"));
  // draining runs a batch per event-loop turn
  await until(() => (c.drain(), c.received.length === 20), "the drain", 3000);
  expect(c.received.map((m) => m.body)).toEqual(range(0, 20));
  expect(topic.backendDepth).toBe(0);
});

test("a paused topic delivers what came before the pause, and the rest after unpause; a paused channel nothing", () => {
  const nsqd = startNsqd();
  const topic = nsqd.getTopic("t");
  const c = new FakeConsumer(topic.getChannel("c"), 2);
  publish(nsqd, "t", range(0, 4));
  topic.pause();
  publish(nsqd, "t", range(4, 6));
  c.rdy = 100;
  expect(c.drain()).toEqual(range(0, 4));
  expect(topic.depth).toBe(2);
  topic.unpause();
  expect(c.drain()).toEqual(range(0, 6));
  const channel = topic.getChannel("c");
  channel.pause();
  publish(nsqd, "t", ["paused"]);
  expect(c.drain()).toEqual(range(0, 6));
  channel.unpause();
  expect(c.drain().at(-1)).toBe("paused");
});

test("REQ puts a message first in line with one more attempt; with a delay it waits in the deferred set", () => {
  const nsqd = startNsqd();
  const topic = nsqd.getTopic("t");
  const channel = topic.getChannel("c");
  const c = new FakeConsumer(channel, 1);
  publish(nsqd, "t", ["a", "b"]);
  const a = c.received[0];
  channel.requeue(c, a.sequence, a.node, 0);
  channel.pump(); // FIN and REQ pump once at the end of the task; a test does it at once
  expect(c.received[1]).toMatchObject({ body: "a", attempts: 2 });
  const again = c.received[1];
  const before = Date.now();
  channel.requeue(c, again.sequence, again.node, 1000);
  channel.pump();
  expect(c.received[2]).toMatchObject({ body: "b", attempts: 1 });
  expect(channel.deferredCount).toBe(1);
  c.finishAll();
  expect(channel.processTimeouts(before + 500)).toBe(true); // not yet due
  expect(c.received.length).toBe(3);
  channel.processTimeouts(before + 1000 + 50);
  expect(c.received[3]).toMatchObject({ body: "a", attempts: 3 });
  expect(channel.requeueCount).toBe(2);
});

test("an unanswered message times out and comes back; FIN answers only its holder", () => {
  const nsqd = startNsqd();
  const channel = nsqd.getTopic("t").getChannel("c");
  const holder = new FakeConsumer(channel, 1, 1000);
  const other = new FakeConsumer(channel, 0);
  publish(nsqd, "t", ["m"]);
  const m = holder.received[0];
  expect(() => channel.finish(other, m.sequence, m.node)).toThrow(NOT_OWNER);
  expect(() => channel.finish(holder, m.sequence + 1, m.node)).toThrow(NOT_IN_FLIGHT);
  channel.processTimeouts(Date.now() + 1500);
  expect(channel.timeoutCount).toBe(1);
  expect(holder.timedOutCount).toBe(1);
  expect(holder.received[1]).toMatchObject({ body: "m", attempts: 2 });
  channel.finish(holder, m.sequence, m.node);
  expect(channel.inFlightCount).toBe(0);
});

test("a consumer that leaves hands its messages in flight to the others at once", () => {
  const nsqd = startNsqd();
  const channel = nsqd.getTopic("t").getChannel("c");
  const leaving = new FakeConsumer(channel, 5);
  publish(nsqd, "t", range(0, 5));
  const staying = new FakeConsumer(channel, 10);
  channel.removeConsumer(leaving);
  expect(staying.received.map((m) => m.body).sort()).toEqual(range(0, 5));
  expect(staying.received.every((m) => m.attempts === 2)).toBe(true);
});

test("emptying a channel drops what it holds and has yet to read; the topic keeps serving the others", () => {
  const nsqd = startNsqd({ memQueueSize: 3 });
  const topic = nsqd.getTopic("t");
  const emptied = topic.getChannel("emptied");
  const c = new FakeConsumer(emptied, 2);
  const other = new FakeConsumer(topic.getChannel("other"));
  publish(nsqd, "t", range(0, 10));
  other.finishAll();
  expect(emptied.inFlightCount).toBe(2);
  expect(emptied.backendDepth).toBeGreaterThan(0);
  emptied.empty();
  expect([emptied.depth, emptied.inFlightCount, emptied.backendDepth]).toEqual([0, 0, 0]);
  publish(nsqd, "t", ["after"]);
  c.rdy = 10;
  c.inFlight = 0; // the emptied messages were taken back
  expect(c.drain().slice(2)).toEqual(["after"]);
  expect(other.drain()).toEqual([...range(0, 10), "after"]);
});

test("a DPUB waits in every channel's deferred set until its time", () => {
  const nsqd = startNsqd();
  const topic = nsqd.getTopic("t");
  const a = topic.getChannel("a");
  const b = topic.getChannel("b");
  const ca = new FakeConsumer(a);
  const before = Date.now();
  publish(nsqd, "t", ["later"], 2000);
  expect([a.deferredCount, b.deferredCount]).toEqual([1, 1]);
  a.processTimeouts(before + 1000);
  expect(ca.received.length).toBe(0);
  a.processTimeouts(Date.now() + 2000);
  expect(ca.received.map((m) => m.body)).toEqual(["later"]);
});

test("a standby consumer (a sibling worker's relay link) takes only what no direct consumer is ready for", () => {
  const nsqd = startNsqd();
  const channel = nsqd.getTopic("t").getChannel("c");
  const standby = new FakeConsumer(channel, 100, 60_000, true);
  const direct = new FakeConsumer(channel, 4);
  publish(nsqd, "t", range(0, 10));
  // the direct consumer fills its RDY first, the standby gets the rest
  expect(direct.received.map((m) => m.body)).toEqual(range(0, 4));
  expect(standby.received.map((m) => m.body)).toEqual(range(4, 10));
  // while the direct consumer has room, new messages go to it alone
  direct.finishAll();
  publish(nsqd, "t", range(10, 13));
  expect(direct.received.map((m) => m.body)).toEqual([...range(0, 4), ...range(10, 13)]);
  expect(standby.received).toHaveLength(6);
  // once the direct consumer is gone, the standby takes everything: what it held and what comes
  direct.close();
  channel.removeConsumer(direct);
  publish(nsqd, "t", range(13, 15));
  expect(standby.received.map((m) => m.body).sort()).toEqual(range(4, 15).sort());
});
