import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Consumer, Producer, PublishError } from "../../src/client/index.ts";
import { perTestCleanups, startTestNsqd, until } from "../helpers/nsqd.ts";
import { freePort } from "../helpers/process.ts";
import { channelStats, uniqueTopic } from "./helpers.ts";

const { defer, nsqd } = perTestCleanups();

test("pipelined publishes are answered in order, an error rejects exactly its own publish", async () => {
  const s = nsqd();
  const topic = uniqueTopic();
  const p = new Producer(s.tcpAddress);
  defer(() => p.stop());
  await p.connect();

  const settled: string[] = [];
  const track = (name: string, promise: Promise<void>) =>
    promise.then(
      () => settled.push(`${name}:ok`),
      (err: Error) => settled.push(`${name}:${err instanceof PublishError ? err.code : "lost"}`),
    );
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < 200; i++) all.push(track(`pub${i}`, p.publish(topic, `m${i}`)));
  all.push(track("mpub", p.multiPublish(topic, ["a", "b", new Uint8Array([0x63])])));
  all.push(track("dpub", p.deferredPublish(topic, 60_000, "later")));
  expect(p.inFlight).toBe(202); // all written before any answer came back
  all.push(track("bad", p.publish("bad!", "x"))); // E_BAD_TOPIC is fatal: nsqd closes
  all.push(track("after", p.publish(topic, "never")));
  await Promise.all(all);

  const expected = [...Array.from({ length: 200 }, (_, i) => `pub${i}:ok`), "mpub:ok", "dpub:ok", "bad:E_BAD_TOPIC", "after:lost"];
  expect(settled).toEqual(expected);

  // the next publish reconnects
  await p.publish(topic, "again");
  const bodies: string[] = [];
  const c = new Consumer(topic, "order", { maxInFlight: 50, handler: (m) => void bodies.push(m.text()) });
  defer(() => c.stop());
  await c.connectToNsqd(s.tcpAddress);
  await until(() => bodies.length === 204, "204 messages");
  expect(bodies).toEqual([...Array.from({ length: 200 }, (_, i) => `m${i}`), "a", "b", "c", "again"]);
});

test("reconnects when nsqd restarts on the same address", async () => {
  const dataPath = mkdtempSync(join(tmpdir(), "bunsq-client-"));
  defer(() => rmSync(dataPath, { recursive: true, force: true }));
  const port = freePort();
  const options = { tcpAddress: `127.0.0.1:${port}`, dataPath };
  let s = startTestNsqd(options);
  const topic = uniqueTopic();
  const p = new Producer(`127.0.0.1:${port}`);
  defer(() => p.stop());
  await p.publish(topic, "before");

  s.stop();
  await expect(p.publish(topic, "while down")).rejects.toThrow();

  s = startTestNsqd(options);
  defer(() => s.stop());
  await p.publish(topic, "after");
  expect((await channelStats(s, topic, "c")) ?? null).toBeNull();
  const got: string[] = [];
  const c = new Consumer(topic, "c", { maxInFlight: 10, handler: (m) => void got.push(m.text()) });
  defer(() => c.stop());
  await c.connectToNsqd(`127.0.0.1:${port}`);
  await until(() => got.length === 2, "both messages");
  expect(got).toEqual(["before", "after"]); // the first survived the restart on disk
});

test("stop waits for the answers in flight and then refuses publishes", async () => {
  const s = nsqd();
  const p = new Producer(s.tcpAddress);
  const topic = uniqueTopic();
  const answers = Array.from({ length: 50 }, (_, i) => p.publish(topic, `m${i}`));
  await p.connect();
  await p.stop();
  await Promise.all(answers);
  await expect(p.publish(topic, "x")).rejects.toThrow("producer stopped");
});
