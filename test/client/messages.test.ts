/**
 * Consuming with `for await (const m of consumer.messages())`: messages are
 * finished as the loop moves on, RDY bounds what waits for a slow loop, leaving
 * the loop early requeues what was not done and stops the consumer.
 */
import { expect, test } from "bun:test";
import { Consumer, Producer } from "../../src/client/index.ts";
import { perTestCleanups, until } from "../helpers/nsqd.ts";
import { channelStats, uniqueTopic } from "./helpers.ts";

const { defer, nsqd } = perTestCleanups();

async function setup(count: number, maxInFlight: number) {
  const s = nsqd();
  const topic = uniqueTopic("iter");
  const p = new Producer(s.tcpAddress);
  await p.multiPublish(topic, Array.from({ length: count }, (_, i) => `m${i}`));
  await p.stop();
  const c = new Consumer(topic, "ch", { maxInFlight });
  defer(() => c.stop(1000));
  await c.connectToNsqd(s.tcpAddress);
  return { s, topic, c };
}

test("a slow loop holds at most maxInFlight messages; each is finished when the loop moves on", async () => {
  const { s, topic, c } = await setup(30, 4);
  const seen: string[] = [];
  let maxOutstanding = 0;
  for await (const m of c.messages()) {
    seen.push(m.text());
    if (seen.length % 5 === 1) {
      // the loop is busy: nsqd can only have sent what RDY allowed
      await until(() => c.stats().received - c.stats().finished >= 4 || c.stats().received === 30, "nsqd to fill the credit");
      await Bun.sleep(20);
      const ch = (await channelStats(s, topic, "ch"))!;
      expect(ch.in_flight_count).toBeLessThanOrEqual(4);
    }
    maxOutstanding = Math.max(maxOutstanding, c.stats().received - c.stats().finished);
    if (seen.length === 30) break;
  }
  expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`));
  expect(maxOutstanding).toBeLessThanOrEqual(4);
  // the 30th was still in hand at the break, so it went back to nsqd
  await until(() => c.stats().connections === 0, "the consumer to stop after the loop");
  const ch = (await channelStats(s, topic, "ch"))!;
  expect(c.stats().finished).toBe(29);
  expect(ch).toMatchObject({ depth: 1, in_flight_count: 0, requeue_count: 1 });
});

test("leaving the loop early requeues the message in hand and those waiting, and stops the consumer", async () => {
  const { s, topic, c } = await setup(20, 5);
  let n = 0;
  for await (const m of c.messages()) {
    if (++n === 3) {
      await until(() => c.stats().received >= 7, "the credit to fill");
      expect(m.hasResponded).toBe(false);
      break;
    }
  }
  await until(() => c.stats().connections === 0, "the consumer to stop");
  const ch = (await channelStats(s, topic, "ch"))!;
  // 2 finished; the one in hand and the 5 - 1 waiting went back at once
  expect(c.stats()).toMatchObject({ finished: 2, requeued: 5, backoffLevel: 0 });
  expect(ch).toMatchObject({ depth: 18, in_flight_count: 0, requeue_count: 5 });
  // and are delivered again to the next consumer
  const again = new Consumer(topic, "ch", { maxInFlight: 20 });
  defer(() => again.stop(1000));
  await again.connectToNsqd(s.tcpAddress);
  const rest: string[] = [];
  for await (const m of again.messages()) {
    rest.push(m.text());
    if (rest.length === 18) {
      m.finish();
      break;
    }
  }
  expect(new Set(rest).size).toBe(18);
});

test("a message the loop answers itself is not finished again; stop() ends the loop", async () => {
  const { s, topic, c } = await setup(4, 4);
  const seen: string[] = [];
  for await (const m of c.messages()) {
    seen.push(m.text());
    if (m.text() === "m0") m.requeue(0, false);
    if (seen.length === 4) void c.stop();
  }
  expect(seen.slice(0, 4)).toEqual(["m0", "m1", "m2", "m3"]);
  // m0 went back once (not FIN'd by the loop as well); it was either taken again before stop ended
  // the loop (and finished) or waits in the channel
  const ch = (await channelStats(s, topic, "ch"))!;
  expect(ch.in_flight_count).toBe(0);
  expect(ch.requeue_count).toBe(1);
  expect(c.stats().finished + ch.depth).toBe(4);
});

test("messages() needs a consumer without a handler, and is iterated once", () => {
  const withHandler = new Consumer("t", "c", { handler: () => {} });
  defer(() => withHandler.stop(100));
  expect(() => withHandler.messages()).toThrow("without a handler");
  const plain = new Consumer("t", "c", {});
  defer(() => plain.stop(100));
  plain.messages();
  expect(() => plain.messages()).toThrow("once");
});
