import { afterEach, expect, test } from "bun:test";
import { Consumer, Producer } from "../../src/client/index.ts";
import { startTestNsqd } from "../helpers/nsqd.ts";
import { startTestLookupd } from "../helpers/lookupd.ts";
import { uniqueTopic } from "../client/helpers.ts";
import { runTool } from "./helpers.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const HEADER = [
  "------rate------+----------------depth----------------+--------------metadata---------------",
  "ingress  egress |   total     mem    disk inflt   def |     req     t-o         msgs clients",
];

test("nsq_stat prints the channel's counts per interval, summed over the topic's nsqds found through lookupd", async () => {
  const lookupd = startTestLookupd();
  cleanups.push(() => lookupd.stop());
  const servers = [0, 1].map(() => {
    const s = startTestNsqd({ lookupdTcpAddresses: [`127.0.0.1:${lookupd.tcpPort}`], broadcastAddress: "127.0.0.1" });
    cleanups.push(() => s.stop());
    return s;
  });
  const topic = uniqueTopic();
  for (const [i, s] of servers.entries()) {
    await fetch(`http://127.0.0.1:${s.httpPort}/topic/create?topic=${topic}`, { method: "POST" });
    await fetch(`http://127.0.0.1:${s.httpPort}/channel/create?topic=${topic}&channel=stat`, { method: "POST" });
    const p = new Producer(s.tcpAddress);
    await p.multiPublish(topic, Array.from({ length: 10 * (i + 1) }, (_, j) => `m${j}`));
    await p.stop();
  }
  // one message in flight on the first nsqd
  const held = Promise.withResolvers<void>();
  const c = new Consumer(topic, "stat", { maxInFlight: 1, handler: () => held.promise });
  cleanups.push(() => c.stop(1000));
  cleanups.push(() => held.resolve());
  await c.connectToNsqd(servers[0]!.tcpAddress);
  for (let i = 0; i < 200 && c.stats().received === 0; i++) await Bun.sleep(10);
  for (let i = 0; i < 200; i++) {
    const r = await fetch(`http://127.0.0.1:${lookupd.httpPort}/lookup?topic=${topic}`);
    if (r.status === 200 && ((await r.json()) as { producers: unknown[] }).producers.length === 2) break;
    await Bun.sleep(10);
  }

  const run = await runTool("nsq_stat", [`--topic=${topic}`, "--channel=stat", "--interval=100ms", "--count=2",
    `--lookupd-http-address=127.0.0.1:${lookupd.httpPort}`]);
  expect(run.code).toBe(0);
  const lines = run.stdout.trimEnd().split("\n");
  expect(lines.slice(0, 2)).toEqual(HEADER);
  expect(lines.length).toBe(4);
  // 30 messages, 1 in flight: depth 29, all in memory
  for (const line of lines.slice(2)) {
    expect(line).toBe("      0       0 |      29      29       0     1     0 |       0       0           30       1");
  }
});

test("nsq_stat with --nsqd-http-address, and its errors", async () => {
  const s = startTestNsqd();
  cleanups.push(() => s.stop());
  const topic = uniqueTopic();
  const missing = await runTool("nsq_stat", [`--topic=${topic}`, "--channel=none", `--nsqd-http-address=127.0.0.1:${s.httpPort}`, "--count=1"]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain(`failed to find channel(none) in stats metadata for topic(${topic})`);
  const scheme = await runTool("nsq_stat", [`--topic=${topic}`, "--channel=c", `--nsqd-http-address=http://127.0.0.1:${s.httpPort}`]);
  expect(scheme.code).toBe(1);
  expect(scheme.stderr).toContain("address should not contain scheme");

  await fetch(`http://127.0.0.1:${s.httpPort}/topic/create?topic=${topic}`, { method: "POST" });
  await fetch(`http://127.0.0.1:${s.httpPort}/channel/create?topic=${topic}&channel=c`, { method: "POST" });
  const ok = await runTool("nsq_stat", [`--topic=${topic}`, "--channel=c", `--nsqd-http-address=127.0.0.1:${s.httpPort}`, "--count=1", "--interval=50ms"]);
  expect(ok.code).toBe(0);
  expect(ok.stdout.trimEnd().split("\n")).toEqual([...HEADER, "      0       0 |       0       0       0     0     0 |       0       0            0       0"]);
});
