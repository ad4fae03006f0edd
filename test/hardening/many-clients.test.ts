/**
 * 10,000 connections at once on one nsqd process: they are all held, and messages
 * still reach the subscribed consumers, each to exactly one consumer of its
 * channel. Also reports the server's memory per idle connection.
 */
import { afterAll, expect, test } from "bun:test";
import type { Socket } from "bun";
import { RawClient } from "../helpers/raw-client.ts";
import { removeDir, spawnNsqd, type NsqdProcess } from "../helpers/process.ts";
import { openIdleConnections } from "./connections.ts";
import { rssOf } from "./fuzz-run.ts";

let nsqd: NsqdProcess | null = null;
let idle: Socket<undefined>[] = [];
const clients: RawClient[] = [];

afterAll(async () => {
  for (const s of idle) s.terminate();
  for (const c of clients) c.close();
  if (nsqd === null) return;
  nsqd.proc.kill("SIGKILL");
  await nsqd.proc.exited;
  removeDir(nsqd.dataPath);
});

test("10,000 connections are held and delivery stays exactly-once per channel", async () => {
  nsqd = await spawnNsqd(["--log-level=warn"]);
  const n = nsqd;
  const consumers: RawClient[] = [];
  for (let i = 0; i < 5; i++) {
    const c = await RawClient.connect(n.port);
    await c.subscribe("many", "ch", 100);
    consumers.push(c);
    clients.push(c);
  }
  const rssBefore = await rssOf(n.proc.pid);
  const conns = await openIdleConnections(n.port, 10_000);
  idle = conns.sockets;
  // every IDENTIFY is answered and every socket stays open: the server holds them all
  const deadline = Date.now() + 20_000;
  while (conns.answered < 10_000 && Date.now() < deadline) await Bun.sleep(50);
  expect(conns.answered).toBe(10_000);
  expect(idle.filter((s) => s.readyState === 1).length).toBe(10_000);
  const rssAfter = await rssOf(n.proc.pid);
  const perConnection = (rssAfter - rssBefore) / 10_000;
  console.log(`10,000 idle connections: server RSS +${((rssAfter - rssBefore) / 1048576).toFixed(1)} MiB, ~${(perConnection / 1024).toFixed(1)} KiB each`);

  const p = await RawClient.connect(n.port);
  clients.push(p);
  for (let i = 0; i < 1000; i++) p.pub("many", `m${i}`);
  for (let i = 0; i < 1000; i++) expect(await p.response()).toBe("OK");
  const seen = new Map<string, number>();
  let total = 0;
  await Promise.all(
    consumers.map(async (c) => {
      while (total < 1000) {
        const m = await c.message(5000).catch(() => null);
        if (m === null) return;
        const body = new TextDecoder().decode(m.body);
        seen.set(body, (seen.get(body) ?? 0) + 1);
        total++;
        c.fin(m.id);
      }
    }),
  );
  expect(seen.size).toBe(1000);
  expect([...seen.values()].every((v) => v === 1)).toBe(true);
}, 90_000);
