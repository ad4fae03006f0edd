/**
 * Producers flooding a topic that has no consumer: nsqd's memory stays bounded by
 * --mem-queue-size (the rest goes to disk) and every acknowledged message is
 * delivered once a consumer comes.
 */
import { afterAll, expect, test } from "bun:test";
import { RawClient } from "../helpers/raw-client.ts";
import { removeDir, spawnNsqd, type NsqdProcess } from "../helpers/process.ts";
import { rssOf } from "./fuzz-run.ts";

let nsqd: NsqdProcess | null = null;
const clients: RawClient[] = [];
afterAll(async () => {
  for (const c of clients) c.close();
  if (nsqd === null) return;
  nsqd.proc.kill("SIGKILL");
  await nsqd.proc.exited;
  removeDir(nsqd.dataPath);
});

test("a flood with no consumer stays within memory and loses nothing", async () => {
  nsqd = await spawnNsqd(["--log-level=warn", "--mem-queue-size=1000"]);
  const n = nsqd;
  const body = "y".repeat(1000);
  const rssBefore = await rssOf(n.proc.pid);
  const producers = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect(n.port)));
  clients.push(...producers);
  const perProducer = 50;
  const batch = Array.from({ length: 500 }, () => body); // 50 MPUBs x 500 x 1 KB per producer = 100 MB in all
  await Promise.all(
    producers.map(async (p) => {
      for (let i = 0; i < perProducer; i++) {
        p.mpub("flood", batch);
        expect(await p.response(10_000)).toBe("OK");
      }
    }),
  );
  const total = producers.length * perProducer * batch.length;
  const rssAfter = await rssOf(n.proc.pid);
  const grown = rssAfter - rssBefore;
  console.log(`flood of ${total} x 1 KB with --mem-queue-size=1000: RSS grew ${(grown / 1048576).toFixed(1)} MiB`);
  // 100 MB went through; memory may hold ~1,000 messages plus I/O buffers, never the flood
  expect(grown).toBeLessThan(64 * 1024 * 1024);

  const stats = (await (await fetch(`http://127.0.0.1:${n.httpPort}/stats?format=json&topic=flood`)).json()) as {
    topics: { depth: number; backend_depth: number }[];
  };
  expect(stats.topics[0].depth).toBe(total);
  expect(stats.topics[0].backend_depth).toBeGreaterThanOrEqual(total - 1000);

  const c = await RawClient.connect(n.port);
  clients.push(c);
  await c.subscribe("flood", "ch", 2500);
  for (let i = 0; i < total; i++) {
    const m = await c.message(10_000);
    c.fin(m.id);
  }
}, 90_000);
