/**
 * Bounded protocol fuzzing of a real nsqd process (about 100,000 hostile frames
 * from 40 connections at once, plus malformed HTTP): afterwards the same process
 * is alive, /ping answers OK, memory is bounded, the clean traffic that ran
 * alongside lost nothing, and a clean client round-trips 1,000 messages.
 * Replay a run with BUNSQ_FUZZ_SEED=<seed>; scripts/reliability.ts runs the long version.
 */
import { afterAll, expect, test } from "bun:test";
import { RawClient } from "../helpers/raw-client.ts";
import { removeDir, spawnNsqd, type NsqdProcess } from "../helpers/process.ts";
import { rssOf, runFuzz } from "./fuzz-run.ts";

let nsqd: NsqdProcess | null = null;
afterAll(async () => {
  if (nsqd === null) return;
  nsqd.proc.kill("SIGKILL");
  await nsqd.proc.exited;
  removeDir(nsqd.dataPath);
});

test("the server survives 100,000 hostile frames and keeps serving", async () => {
  const seed = Number(process.env.BUNSQ_FUZZ_SEED ?? Date.now() % 1_000_000);
  nsqd = await spawnNsqd(["--log-level=fatal", "--max-body-size=65536"]);
  const rssBefore = await rssOf(nsqd.proc.pid);
  const result = await runFuzz({
    tcpPort: nsqd.port,
    httpPort: nsqd.httpPort,
    seed,
    frames: 100_000,
    connections: 40,
    httpRequests: 200,
    maxBodySize: 65536,
    cleanMessages: 300,
  });
  console.log(`fuzz seed ${seed}: ${result.framesSent} frames, ${result.connectionsOpened} connections, ${result.httpRequestsSent} HTTP requests`);
  expect(nsqd.proc.exitCode).toBeNull();
  expect(result.framesSent).toBeGreaterThanOrEqual(100_000);
  expect(result.cleanDelivered).toBe(300);

  const ping = await fetch(`http://127.0.0.1:${nsqd.httpPort}/ping`);
  expect(await ping.text()).toBe("OK");

  const p = await RawClient.connect(nsqd.port);
  const c = await RawClient.connect(nsqd.port);
  await c.subscribe("after-fuzz", "ch", 1000);
  for (let i = 0; i < 1000; i++) p.pub("after-fuzz", `m${i}`);
  for (let i = 0; i < 1000; i++) expect(await p.response()).toBe("OK");
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const m = await c.message();
    seen.add(new TextDecoder().decode(m.body));
    c.fin(m.id);
  }
  expect(seen.size).toBe(1000);
  p.close();
  c.close();

  const rssAfter = await rssOf(nsqd.proc.pid);
  console.log(`fuzz seed ${seed}: RSS ${(rssBefore / 1048576).toFixed(1)} MiB before, ${(rssAfter / 1048576).toFixed(1)} MiB after`);
  // bounded: hostile input may cost buffers, never a leak proportional to the traffic
  expect(rssAfter).toBeLessThan(rssBefore + 512 * 1024 * 1024);
}, 120_000);
