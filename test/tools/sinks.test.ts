import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { Producer } from "../../src/client/index.ts";
import { perTestCleanups } from "../helpers/nsqd.ts";
import { channelStats, uniqueTopic } from "../client/helpers.ts";
import { startTool } from "./helpers.ts";

const { defer, nsqd } = perTestCleanups();

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "bunsq-tools-"));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function publish(s: NsqdDaemon, topic: string, bodies: string[]): Promise<void> {
  const p = new Producer(s.tcpAddress);
  await p.multiPublish(topic, bodies);
  await p.stop();
}

async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** Each file's content through the real gunzip. */
function gunzip(path: string): string {
  const r = Bun.spawnSync(["gunzip", "-c", path]);
  if (r.exitCode !== 0) throw new Error(`gunzip ${path} failed: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

test("nsq_to_file rotates by size into gzip files that gunzip reads back", async () => {
  const s = nsqd();
  const dir = tempDir();
  const topic = uniqueTopic();
  const lines = Array.from({ length: 300 }, (_, i) => `message number ${i}`);
  await publish(s, topic, lines);
  const tool = startTool("nsq_to_file", [
    `--topic=${topic}`,
    `--nsqd-tcp-address=${s.tcpAddress}`,
    `--output-dir=${dir}`,
    "--rotate-size=2000",
    "--gzip",
    "--sync-interval=50ms",
    "--max-in-flight=50",
  ]);
  defer(() => tool.stop());
  await eventually(async () => (await channelStats(s, topic, "nsq_to_file"))?.message_count === 300, "all delivered");
  await eventually(async () => {
    const st = await channelStats(s, topic, "nsq_to_file");
    return st!.depth === 0 && st!.in_flight_count === 0;
  }, "all FIN'd");
  const run = await tool.stop();
  expect(run.code).toBe(0);

  const files = readdirSync(dir).sort();
  expect(files.length).toBeGreaterThanOrEqual(3); // ~6 KB of lines in 2000-byte files
  for (const [i, f] of files.entries()) {
    expect(f).toBe(`${topic}.${f.split(".")[1]}.${f.split(".").slice(2).join(".")}`);
    expect(f).toMatch(new RegExp(`-${String(i).padStart(6, "0")}\\.\\d{4}-\\d{2}-\\d{2}_\\d{2}\\.log\\.gz$`));
  }
  const text = files.map((f) => gunzip(join(dir, f))).join("");
  expect(text).toBe(`${lines.join("\n")}\n`);
});

test("nsq_to_file FINs only what is on disk, and rotates by time", async () => {
  const s = nsqd();
  const dir = tempDir();
  const topic = uniqueTopic();
  const tool = startTool("nsq_to_file", [
    `--topic=${topic}`,
    `--nsqd-tcp-address=${s.tcpAddress}`,
    `--output-dir=${dir}`,
    "--filename-format=<TOPIC><REV>.log",
    "--rotate-interval=600ms",
    "--sync-interval=1h",
  ]);
  defer(() => tool.stop());
  await eventually(async () => (await channelStats(s, topic, "nsq_to_file"))?.client_count === 1, "the subscription");
  await publish(s, topic, ["one", "two", "three"]);
  // held in flight: nothing is written before the sync
  await eventually(
    async () => (await channelStats(s, topic, "nsq_to_file"))!.in_flight_count === 3 && readdirSync(dir).length === 1,
    "3 in flight and the file open",
  );
  expect(readdirSync(dir).map((f) => statSync(join(dir, f)).size)).toEqual([0]);
  // the interval closes the file: its messages are written, synced and FIN'd
  await eventually(async () => (await channelStats(s, topic, "nsq_to_file"))!.in_flight_count === 0, "FIN on rotation");
  expect(readFileSync(join(dir, `${topic}-000000.log`), "utf8")).toBe("one\ntwo\nthree\n");

  await publish(s, topic, ["four"]);
  await eventually(async () => (await channelStats(s, topic, "nsq_to_file"))!.client_count === 1 &&
    readdirSync(dir).length === 2, "a second file");
  const run = await tool.stop(); // stopping writes and FINs what is held
  expect(run.code).toBe(0);
  expect(readFileSync(join(dir, `${topic}-000001.log`), "utf8")).toBe("four\n");
  const st = await channelStats(s, topic, "nsq_to_file");
  expect(st!.depth + st!.in_flight_count + st!.requeue_count).toBe(0);
});

test("nsq_to_http POSTs round-robin, requeues on a non-2xx answer, and multicast GETs every endpoint", async () => {
  const s = nsqd();
  const topic = uniqueTopic();
  const received: { server: number; method: string; body: string; url: string }[] = [];
  let failNext = true;
  const servers = [0, 1].map((n) =>
    Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const body = await req.text();
        if (body === "flaky" && failNext) {
          failNext = false;
          return new Response("try again", { status: 503 });
        }
        received.push({ server: n, method: req.method, body, url: req.url });
        return new Response("ok");
      },
    }),
  );
  defer(() => servers.forEach((srv) => srv.stop(true)));
  const opts = ["--consumer-opt=default_requeue_delay,10ms", "--consumer-opt=backoff_multiplier,10ms", `--nsqd-tcp-address=${s.tcpAddress}`];

  const post = startTool("nsq_to_http", [`--topic=${topic}`, "--mode=round-robin", "--n=4", ...opts,
    ...servers.map((srv) => `--post=http://127.0.0.1:${srv.port}/post`)]);
  defer(() => post.stop());
  await publish(s, topic, ["a", "b", "c", "flaky"]);
  await eventually(() => received.length === 4, "4 deliveries");
  expect(received.map((r) => r.body).sort()).toEqual(["a", "b", "c", "flaky"]);
  expect(received.every((r) => r.method === "POST")).toBe(true);
  expect(new Set(received.map((r) => r.server)).size).toBe(2);
  expect((await channelStats(s, topic, "nsq_to_http"))!.requeue_count).toBe(1);
  expect((await post.stop()).code).toBe(0);

  received.length = 0;
  const topic2 = uniqueTopic();
  const get = startTool("nsq_to_http", [`--topic=${topic2}`, "--mode=multicast", ...opts,
    ...servers.map((srv) => `--get=http://127.0.0.1:${srv.port}/get?msg=%s`)]);
  defer(() => get.stop());
  await publish(s, topic2, ["hello world"]);
  await eventually(() => received.length === 2, "both endpoints");
  expect(received.map((r) => [r.server, r.method, new URL(r.url).searchParams.get("msg")]).sort()).toEqual([
    [0, "GET", "hello world"],
    [1, "GET", "hello world"],
  ]);
});

test("nsq_to_nsq relays a topic from one nsqd to another", async () => {
  const source = nsqd();
  const dest = nsqd();
  const topic = uniqueTopic();
  const lines = Array.from({ length: 500 }, (_, i) => `relay ${i}`);
  await publish(source, topic, lines);
  const tool = startTool("nsq_to_nsq", [
    `--topic=${topic}`,
    `--nsqd-tcp-address=${source.tcpAddress}`,
    `--destination-nsqd-tcp-address=${dest.tcpAddress}`,
    "--destination-topic=copied",
  ]);
  defer(() => tool.stop());
  // the destination topic gets a channel so its messages can be read back in order
  await fetch(`http://127.0.0.1:${dest.httpPort}/topic/create?topic=copied`, { method: "POST" });
  await fetch(`http://127.0.0.1:${dest.httpPort}/channel/create?topic=copied&channel=check`, { method: "POST" });
  await eventually(async () => (await channelStats(dest, "copied", "check"))?.depth === 500, "500 relayed");
  await eventually(async () => {
    const st = await channelStats(source, topic, "nsq_to_nsq");
    return st!.depth === 0 && st!.in_flight_count === 0;
  }, "source drained");
  expect((await tool.stop()).code).toBe(0);
});
