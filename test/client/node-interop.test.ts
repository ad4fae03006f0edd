/**
 * The client runs on Node, not only on Bun: builds it the way docs/client-node.md
 * does (bun build --target=node, into a temp dir), then has a `node` child process
 * import the bundle, publish 100 messages and consume them from an nsqd in this
 * process, and checks what it reports and what nsqd saw.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestNsqd } from "../helpers/nsqd.ts";
import { channelStats, uniqueTopic } from "./helpers.ts";

const ROOT = join(import.meta.dir, "..", "..");
const NODE = Bun.which("node");

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Runs a command to completion (killed after timeoutMs), returning its exit code and output. */
async function run(cmd: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
  cleanups.push(() => proc.kill());
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

// The script node runs: plain ESM against the built bundle, no TypeScript, no Bun.
const SCRIPT = `
import { Consumer, Producer, PublishError } from "./client/index.js";

const [address, topic] = process.argv.slice(2);
const N = 100;
const producer = new Producer(address);
const sent = [];
for (let i = 0; i < 60; i++) sent.push("msg-" + i);
await Promise.all(sent.map((body) => producer.publish(topic, body)));
const batch = [];
for (let i = 60; i < N; i++) batch.push(new TextEncoder().encode("msg-" + i));
await producer.multiPublish(topic, batch);
let badTopicCode = null;
try {
  await producer.publish("bad!", "x");
} catch (err) {
  badTopicCode = err instanceof PublishError ? err.code : String(err);
}
await producer.stop();

const received = [];
let done;
const all = new Promise((resolve) => (done = resolve));
const consumer = new Consumer(topic, "node", {
  maxInFlight: 10,
  handler: async (message) => {
    received.push(message.text());
    if (received.length === N) done();
  },
});
await consumer.connectToNsqd(address);
const timer = setTimeout(() => done(), 8000);
await all;
clearTimeout(timer);
await consumer.stop();
process.stdout.write(JSON.stringify({
  node: process.versions.node,
  onBun: typeof globalThis.Bun !== "undefined",
  badTopicCode,
  received,
  stats: consumer.stats(),
}));
`;

test.skipIf(NODE === null)("the client built for Node publishes and consumes from a node process", async () => {
  const dir = mkdtempSync(join(tmpdir(), "bunsq-node-client-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const s = startTestNsqd();
  cleanups.push(() => s.stop());

  const build = await run(
    [process.execPath, "build", "src/client/index.ts", "--target=node", "--format=esm", `--outdir=${join(dir, "client")}`],
    10_000,
  );
  expect(build.stderr).not.toContain("error");
  expect(build.code).toBe(0);

  const script = join(dir, "run.mjs");
  writeFileSync(script, SCRIPT);
  const topic = uniqueTopic("node");
  const res = await run([NODE!, script, s.tcpAddress, topic], 15_000);
  if (res.code !== 0) throw new Error(`node exited with ${res.code}:\n${res.stderr}`);
  const out = JSON.parse(res.stdout) as {
    node: string;
    onBun: boolean;
    badTopicCode: string | null;
    received: string[];
    stats: { received: number; finished: number; requeued: number; connections: number };
  };

  expect(out.onBun).toBe(false);
  expect(out.node).toMatch(/^\d+\./);
  expect(out.badTopicCode).toBe("E_BAD_TOPIC");
  expect(out.received.length).toBe(100);
  expect([...out.received].sort()).toEqual(Array.from({ length: 100 }, (_, i) => `msg-${i}`).sort());
  expect(out.stats).toMatchObject({ received: 100, finished: 100, requeued: 0, connections: 0 });

  // nsqd agrees: every message was FIN'd, none is left or back in the queue
  const ch = await channelStats(s, topic, "node");
  expect(ch).toMatchObject({ message_count: 100, depth: 0, in_flight_count: 0, requeue_count: 0, timeout_count: 0 });
}, 20_000);
