import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestNsqd } from "../helpers/nsqd.ts";
import { startTestLookupd } from "../helpers/lookupd.ts";
import { channelStats, uniqueTopic } from "../client/helpers.ts";
import { runTool } from "./helpers.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "bunsq-tools-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("to_nsq publishes a file's lines and nsq_tail -n prints the same lines back", async () => {
  const s = startTestNsqd();
  cleanups.push(() => s.stop());
  const topic = uniqueTopic();
  const lines = Array.from({ length: 1000 }, (_, i) => `line ${i} ${"x".repeat(i % 50)}`);
  const file = join(tempDir(), "input.txt");
  writeFileSync(file, `${lines.join("\n")}\n\n`); // a trailing empty line is not a message

  // a durable channel first, so the messages wait for nsq_tail
  await fetch(`http://127.0.0.1:${s.httpPort}/topic/create?topic=${topic}`, { method: "POST" });
  await fetch(`http://127.0.0.1:${s.httpPort}/channel/create?topic=${topic}&channel=tail`, { method: "POST" });
  const pub = await runTool("to_nsq", [`--topic=${topic}`, `--nsqd-tcp-address=${s.tcpAddress}`], Bun.file(file));
  expect(pub.code).toBe(0);

  const tail = await runTool("nsq_tail", [`--topic=${topic}`, "--channel=tail", "--n", "1000", `--nsqd-tcp-address=${s.tcpAddress}`]);
  expect(tail.code).toBe(0);
  expect(tail.stdout).toBe(`${lines.join("\n")}\n`);
  const stats = await channelStats(s, topic, "tail");
  expect(stats!.message_count).toBe(1000);
});

test("to_nsq --delimiter and --rate; nsq_tail --print-topic through nsqlookupd on an ephemeral channel", async () => {
  const lookupd = startTestLookupd();
  cleanups.push(() => lookupd.stop());
  const s = startTestNsqd({ lookupdTcpAddresses: [`127.0.0.1:${lookupd.tcpPort}`], broadcastAddress: "127.0.0.1" });
  cleanups.push(() => s.stop());
  const topic = uniqueTopic();

  const tail = runTool("nsq_tail", [
    `--topic=${topic}`,
    "-n=5",
    "--print-topic",
    `--lookupd-http-address=127.0.0.1:${lookupd.httpPort}`,
    "--consumer-opt=lookupd_poll_interval,50ms",
  ]);
  // the tail's ephemeral channel must exist before publishing, or it misses the messages
  await fetch(`http://127.0.0.1:${s.httpPort}/topic/create?topic=${topic}`, { method: "POST" });
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`http://127.0.0.1:${s.httpPort}/stats?format=json&topic=${topic}`);
    const json = (await res.json()) as { topics: { channels: unknown[] }[] | null };
    if ((json.topics?.[0]?.channels.length ?? 0) > 0) break;
    await Bun.sleep(25);
  }
  const started = performance.now();
  const pub = await runTool("to_nsq", [`--topic=${topic}`, "--delimiter=,", "--rate=50", `--nsqd-tcp-address=${s.tcpAddress}`], "a,b,c,d,e");
  expect(pub.code).toBe(0);
  expect(performance.now() - started).toBeGreaterThanOrEqual(80); // 5 messages at 50/s take at least 80 ms
  const out = await tail;
  expect(out.code).toBe(0);
  expect(out.stdout).toBe(["a", "b", "c", "d", "e"].map((x) => `${topic} | ${x}\n`).join(""));
});

test("flags: --help prints usage, unknown flags exit 2, missing required flags exit 1", async () => {
  const help = await runTool("nsq_tail", ["--help"]);
  expect(help.code).toBe(0);
  expect(help.stdout).toStartWith("Usage of nsq_tail:\n");
  for (const flag of ["-topic value", "-channel string", "-n int", "-print-topic", "-nsqd-tcp-address value", "-lookupd-http-address value"]) {
    expect(help.stdout).toContain(`  ${flag}\n`);
  }
  const bad = await runTool("to_nsq", ["--topicc=x"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("flag provided but not defined: -topicc");
  const missing = await runTool("to_nsq", ["--nsqd-tcp-address=127.0.0.1:1"]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("--topic required");
  const both = await runTool("nsq_to_http", ["--topic=t", "--nsqd-tcp-address=127.0.0.1:1", "--get=http://x/%s", "--post=http://y/"]);
  expect(both.code).toBe(1);
  expect(both.stderr).toContain("use --get or --post not both");
});
