/**
 * A consumer that stops reading: its buffered output stays within its bound, the
 * other consumers of its channel keep their delivery latency, and its in-flight
 * messages time out and go to them.
 */
import { afterAll, expect, test } from "bun:test";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { startTestNsqd, until } from "../helpers/nsqd.ts";
import { RawClient } from "../helpers/raw-client.ts";

let server: NsqdDaemon | null = null;
const clients: RawClient[] = [];
afterAll(() => {
  for (const c of clients) c.close();
  server?.stop();
});

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

test("a stalled consumer costs the others nothing and its messages move on", async () => {
  server = startTestNsqd({ msgTimeout: 1000, queueScanInterval: 50 });
  const s = server;
  const body = "x".repeat(2000);
  // the stalled consumer: subscribes with a large RDY and never reads its socket
  const stalled = await Bun.connect({
    hostname: "127.0.0.1",
    port: s.tcpPort,
    socket: { data() {}, open(sock) { sock.pause?.(); } },
  });
  stalled.write("  V2SUB slow ch\nRDY 2500\n");
  const fast = await RawClient.connect(s.tcpPort);
  clients.push(fast);
  await fast.subscribe("slow", "ch", 50);
  const channel = () => s.nsqd.getExistingTopic("slow")?.getExistingChannel("ch");
  await until(() => channel()?.consumers.length === 2, "both consumers");
  const stalledClient = [...s.tcp.clients].find((c) => c.remoteAddress.endsWith(`:${stalled.localPort}`))!;

  const p = await RawClient.connect(s.tcpPort);
  clients.push(p);
  // fill the stalled consumer's socket and buffers
  for (let i = 0; i < 3000; i++) p.pub("slow", `${Date.now()}:${body}`);
  for (let i = 0; i < 3000; i++) expect(await p.response()).toBe("OK");
  await until(() => stalledClient.blocked, "the stalled consumer to be blocked");
  expect(stalledClient.pendingBytes).toBeLessThanOrEqual(stalledClient.settings.outputBufferSize + body.length + 64);
  const stuck = stalledClient.inFlightCount;
  expect(stuck).toBeGreaterThan(0);

  // the fast consumer: drain the backlog, then measure publish-to-delivery latency
  const latencies: number[] = [];
  let received = 0;
  const dec = new TextDecoder();
  const readUntil = async (n: number) => {
    while (received < n) {
      const m = await fast.message(5000);
      latencies.push(Date.now() - Number(dec.decode(m.body.subarray(0, 13))));
      received++;
      fast.fin(m.id);
    }
  };
  await readUntil(3000 - stuck);
  latencies.length = 0;
  for (let i = 0; i < 200; i++) {
    await p.publish("slow", `${Date.now()}:${body}`);
    await readUntil(3000 - stuck + i + 1);
  }
  const p99 = percentile(latencies, 0.99);
  console.log(`fast consumer while another is stalled: p50 ${percentile(latencies, 0.5)} ms, p99 ${p99} ms`);
  // bounded well below the 1 s message timeout a blocked consumer would otherwise cost
  expect(p99).toBeLessThan(500);

  // the stalled consumer's in-flight messages time out and reach the fast one
  await readUntil(3200);
  expect(received).toBe(3200);
  expect(channel()!.timeoutCount).toBeGreaterThanOrEqual(stuck);
  stalled.terminate();
}, 30_000);
