/**
 * Durability with real nsqd processes on one data path: clean restarts keep every
 * message and the topology, kill -9 under --sync-every=1 loses no acknowledged
 * message, corrupt files cost only what they hold, and a data path has one owner.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RawClient } from "../helpers/raw-client.ts";
import { nsqdProcesses } from "../helpers/nsqd-processes.ts";
import { runNsqd, type NsqdProcess } from "../helpers/process.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const { dataDir, start, connect, signal } = nsqdProcesses();

async function stop(p: NsqdProcess): Promise<string> {
  expect(await signal(p, "SIGTERM")).toBe(0);
  return new Response(p.proc.stderr).text();
}

/** Reads n messages (FIN each) and returns their bodies. */
async function drain(c: RawClient, n: number): Promise<{ bodies: string[]; attempts: number[] }> {
  const bodies: string[] = [];
  const attempts: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = await c.message(5000);
    bodies.push(text(m.body));
    attempts.push(m.attempts);
    c.fin(m.id);
  }
  return { bodies, attempts };
}

describe("clean restart", () => {
  test("queued, in-flight and deferred messages, channels and paused state all come back", async () => {
    const dir = dataDir();
    let n = await start(dir, ["--mem-queue-size=20"]);
    const p = await connect(n);
    const a = await connect(n);
    await a.subscribe("orders", "a");
    const b = await connect(n);
    await b.subscribe("orders", "b");
    b.write("CLS\n");
    expect(await b.response()).toBe("CLOSE_WAIT");
    const paused = await connect(n);
    await paused.subscribe("orders", "paused");
    for (let i = 0; i < 100; i++) p.pub("orders", `m${i}`);
    for (let i = 0; i < 100; i++) expect(await p.response()).toBe("OK");
    p.dpub("orders", 3_600_000, "deferred");
    expect(await p.response()).toBe("OK");
    a.rdy(10);
    const inFlight = [];
    for (let i = 0; i < 10; i++) inFlight.push(await a.message());
    await p.publish("quiet", "x");
    await p.publish("held", "while paused");
    // pause a channel and a topic through nsqd's HTTP API
    const post = (path: string) => fetch(`http://127.0.0.1:${n.httpPort}${path}`, { method: "POST" });
    expect((await post("/channel/pause?topic=orders&channel=paused")).status).toBe(200);
    expect((await post("/topic/pause?topic=held")).status).toBe(200);
    await stop(n);

    const meta = JSON.parse(await Bun.file(join(dir, "nsqd.dat")).text());
    const orders = meta.topics.find((t: { name: string }) => t.name === "orders");
    expect(orders.channels.map((c: { name: string }) => c.name).sort()).toEqual(["a", "b", "paused"]);

    n = await start(dir, ["--mem-queue-size=20"]);
    const a2 = await connect(n);
    await a2.subscribe("orders", "a", 200);
    const got = await drain(a2, 100);
    expect(new Set(got.bodies)).toEqual(new Set(Array.from({ length: 100 }, (_, i) => `m${i}`)));
    expect(await a2.quiet(300)).toBe(true); // the deferred message keeps its hour
    // the ten that were in flight were delivered once before
    const redelivered = got.attempts.filter((x) => x >= 2).length;
    expect(redelivered).toBe(10);
    const b2 = await connect(n);
    await b2.subscribe("orders", "b", 200);
    expect((await drain(b2, 100)).bodies.length).toBe(100);
    const p2 = await connect(n);
    await p2.subscribe("orders", "paused", 10);
    expect(await p2.quiet(300)).toBe(true);
    const q = await connect(n);
    await q.subscribe("quiet", "late", 10);
    expect(text((await q.message()).body)).toBe("x");
    // paused state came back too
    const stats = (await (await fetch(`http://127.0.0.1:${n.httpPort}/stats?format=json`)).json()) as {
      topics: { topic_name: string; paused: boolean; channels: { channel_name: string; paused: boolean }[] }[];
    };
    const topic = (name: string) => stats.topics.find((t) => t.topic_name === name)!;
    expect(topic("held").paused).toBe(true);
    expect(topic("orders").paused).toBe(false);
    expect(topic("orders").channels.find((c) => c.channel_name === "paused")!.paused).toBe(true);
    expect(topic("orders").channels.find((c) => c.channel_name === "a")!.paused).toBe(false);
    // the deferred message waits in a and b; the paused channel had a backlog on disk, where it waits in line
    const deferredIn = (name: string) =>
      (topic("orders").channels.find((c) => c.channel_name === name) as unknown as { deferred_count: number }).deferred_count;
    expect([deferredIn("a"), deferredIn("b")]).toEqual([1, 1]);
    const h = await connect(n);
    await h.subscribe("held", "ch", 10);
    expect(await h.quiet(300)).toBe(true);
    expect((await fetch(`http://127.0.0.1:${n.httpPort}/topic/unpause?topic=held`, { method: "POST" })).status).toBe(200);
    expect(text((await h.message()).body)).toBe("while paused");
    expect(inFlight.length).toBe(10);
  });

  test("a second nsqd cannot use the same data path", async () => {
    const dir = dataDir();
    await start(dir);
    const r = await runNsqd([`--data-path=${dir}`, "--tcp-address=127.0.0.1:0"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("in use by another nsqd");
  });
});

describe("kill -9", () => {
  test("with --sync-every=1 no acknowledged message is lost across 20 kills", async () => {
    const seed = Number(process.env.BUNSQ_TEST_SEED ?? Date.now() % 100000);
    let state = seed;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    const dir = dataDir();
    const args = ["--mem-queue-size=0", "--sync-every=1", "--max-bytes-per-file=65536"];
    const acked = new Set<string>();
    const producers = 4;
    let restarts = 0;
    for (let kill = 0; kill < 20; kill++) {
      const n = await start(dir, args);
      restarts++;
      let stopping = false;
      // three producers over TCP, one over HTTP: both must only say OK for stored messages
      const workers = Array.from({ length: producers }, async (_, k) => {
        const c = k < producers - 1 ? await connect(n) : null;
        for (let i = 0; !stopping; i++) {
          const body = `k${kill}-p${k}-${i}`;
          try {
            if (c !== null) {
              c.pub("crash", body);
              if ((await c.response(2000)) === "OK") acked.add(body);
            } else {
              const r = await fetch(`http://127.0.0.1:${n.httpPort}/pub?topic=crash`, { method: "POST", body });
              if (r.status === 200 && (await r.text()) === "OK") acked.add(body);
            }
          } catch {
            return; // the server died: this one was not acknowledged
          }
        }
      });
      await Bun.sleep(30 + random() * 150);
      await signal(n, "SIGKILL");
      stopping = true;
      await Promise.all(workers);
    }
    expect(acked.size).toBeGreaterThan(100);
    expect([...acked].some((b) => b.includes(`-p${producers - 1}-`))).toBe(true); // HTTP publishes were acked too
    const n = await start(dir, args);
    const c = await connect(n);
    await c.subscribe("crash", "check", 2500);
    // written but unacknowledged messages may come too (the kill hit before the OK): only the acked count
    const missing = new Set(acked);
    while (missing.size > 0) {
      const m = await c.message(5000).catch(() => null);
      if (m === null) break;
      missing.delete(text(m.body));
      c.fin(m.id);
    }
    const lost = [...missing];
    if (lost.length > 0) console.error(`seed ${seed}: lost ${lost.length} of ${acked.size}: ${lost.slice(0, 5)}`);
    console.log(`kill -9 test (seed ${seed}): ${restarts} kills, ${acked.size} acknowledged, ${lost.length} lost`);
    expect(lost.length).toBe(0);
  }, 60_000);
});

describe("corrupt files", () => {
  test("a corrupt segment is moved aside; the rest is served and the loss is logged", async () => {
    const dir = dataDir();
    let n = await start(dir, ["--mem-queue-size=0", "--max-bytes-per-file=200"]);
    const c = await connect(n);
    await c.subscribe("bad", "ch");
    const p = await connect(n);
    for (let i = 0; i < 40; i++) p.pub("bad", `message-${String(i).padStart(3, "0")}`);
    for (let i = 0; i < 40; i++) expect(await p.response()).toBe("OK");
    await stop(n);
    const segments = readdirSync(dir)
      .filter((f) => f.startsWith("bad:ch.diskqueue.") && f.endsWith(".dat") && !f.includes("meta"))
      .sort();
    expect(segments.length).toBeGreaterThan(3);
    const victim = join(dir, segments[1]);
    writeFileSync(victim, new Uint8Array(statSync(victim).size).fill(0x7f));
    n = await start(dir, ["--mem-queue-size=0", "--max-bytes-per-file=200"]);
    const c2 = await connect(n);
    await c2.subscribe("bad", "ch", 100);
    const bodies: string[] = [];
    for (;;) {
      const m = await c2.message(1000).catch(() => null);
      if (m === null) break;
      bodies.push(text(m.body));
      c2.fin(m.id);
    }
    expect(bodies.length).toBeGreaterThan(20);
    expect(bodies.length).toBeLessThan(40);
    expect(bodies[0]).toBe("message-000");
    expect(bodies[bodies.length - 1]).toBe("message-039");
    const log = await stop(n);
    expect(log).toContain("is corrupt");
    expect(readdirSync(dir).some((f) => f.endsWith(".bad"))).toBe(true);
  });

  test("a metadata file that is not JSON does not stop start-up", async () => {
    const dir = dataDir();
    writeFileSync(join(dir, "nsqd.dat"), "{not json");
    const n = await start(dir);
    const c = await connect(n);
    await c.publish("fine", "x");
    const log = await stop(n);
    expect(log).toContain("failed to read metadata");
  });
});
