/**
 * A topic's own disk backlog (held while it was paused) reaches every channel even
 * when one of them has no consumer: the channel that reads is not held back by the
 * one that does not.
 */
import { expect, test } from "bun:test";
import { perTestServers } from "../helpers/nsqd.ts";

const { start, connect } = perTestServers();

test("after unpause, a channel with a consumer gets the whole backlog while its sibling has none", async () => {
  const server = start({ memQueueSize: 10 });
  const topic = server.nsqd.getTopic("backlog");
  const idle = topic.getChannel("idle");
  topic.getChannel("busy");
  topic.pause();
  const producer = await connect(server);
  const sent = Array.from({ length: 100 }, (_, i) => `m${i}`);
  for (const b of sent) await producer.publish("backlog", b);
  expect(topic.backendDepth).toBe(90); // 10 in memory, the rest on the topic's disk
  topic.unpause();

  const consumer = await connect(server);
  await consumer.subscribe("backlog", "busy", 100);
  const got: string[] = [];
  while (got.length < sent.length) {
    const m = await consumer.message(3000);
    got.push(new TextDecoder().decode(m.body));
    consumer.fin(m.id);
  }
  expect(got).toEqual(sent); // in order
  expect(idle.depth).toBe(100); // still waiting for the idle channel, on its own disk
  expect(topic.depth).toBe(0);
});
