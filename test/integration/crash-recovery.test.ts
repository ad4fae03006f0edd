/**
 * Every state of a message survives a crash (real nsqd processes, real SIGKILL):
 * in flight, requeued now, requeued with a delay, deferred by DPUB. After the
 * restart each comes back, and never before its time.
 */
import { describe, expect, test } from "bun:test";
import type { MessageFrame } from "../../src/protocol/frame-decoder.ts";
import type { RawClient } from "../helpers/raw-client.ts";
import { eventually } from "../helpers/lookupd.ts";
import { nsqdProcesses } from "../helpers/nsqd-processes.ts";
import type { NsqdProcess } from "../helpers/process.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const { dataDir, start, connect, signal } = nsqdProcesses();

async function kill(p: NsqdProcess, how: "SIGKILL" | "SIGTERM"): Promise<void> {
  await signal(p, how);
}

interface ChannelStats {
  channel_name: string;
  depth: number;
  in_flight_count: number;
  deferred_count: number;
}

async function channelStats(p: NsqdProcess, topic: string, channel: string): Promise<ChannelStats | undefined> {
  const r = await fetch(`http://127.0.0.1:${p.httpPort}/stats?format=json&topic=${topic}`);
  const stats = (await r.json()) as { topics: { topic_name: string; channels: ChannelStats[] }[] };
  return stats.topics.find((t) => t.topic_name === topic)?.channels.find((c) => c.channel_name === channel);
}


/** Receives messages until `count` arrived, FINs each, and notes when each body came. */
async function receive(c: RawClient, count: number, timeoutMs: number): Promise<Map<string, { at: number; m: MessageFrame }>> {
  const got = new Map<string, { at: number; m: MessageFrame }>();
  while (got.size < count) {
    const m = await c.message(timeoutMs);
    got.set(text(m.body), { at: Date.now(), m });
    c.fin(m.id);
  }
  return got;
}

const DURABLE = ["--mem-queue-size=0", "--sync-every=1", "--msg-timeout=5s"];

describe("kill -9 with --mem-queue-size=0 --sync-every=1", () => {
  test("in-flight, requeued, delayed and deferred messages all come back, each at its time", async () => {
    const dir = dataDir();
    const n = await start(dir, DURABLE);
    const p = await connect(n);
    const c = await connect(n);
    await c.subscribe("states", "ch");
    for (const body of ["m1", "m2", "m3", "m4", "m5"]) await p.publish("states", body);
    const deferredUntil = Date.now() + 2500;
    p.dpub("states", 2500, "deferred");
    expect(await p.response()).toBe("OK");
    c.rdy(4);
    const held = new Map<string, MessageFrame>();
    for (let i = 0; i < 4; i++) {
      const m = await c.message();
      held.set(text(m.body), m);
    }
    expect([...held.keys()].sort()).toEqual(["m1", "m2", "m3", "m4"]);
    c.rdy(0);
    const delayedUntil = Date.now() + 2000;
    c.req(held.get("m3")!.id, 2000);
    c.req(held.get("m4")!.id, 0);
    // m1, m2 in flight; m3 and the DPUB deferred; m4 requeued; m5 never delivered
    await eventually(async () => {
      const s = await channelStats(n, "states", "ch");
      return s?.in_flight_count === 2 && s.deferred_count === 2;
    }, "two in flight and two deferred");
    await kill(n, "SIGKILL");

    const n2 = await start(dir, DURABLE);
    const c2 = await connect(n2);
    await c2.subscribe("states", "ch", 10);
    const got = await receive(c2, 6, 6000);
    expect([...got.keys()].sort()).toEqual(["deferred", "m1", "m2", "m3", "m4", "m5"]);
    // attempts are kept: m1, m2, m3 and m4 were each delivered once before
    const attempts: Record<string, number | boolean> = Object.fromEntries([...got].map(([body, { m }]) => [body, m.attempts]));
    for (const body of ["m1", "m2", "m3", "m4"]) attempts[body] = (attempts[body] as number) >= 2;
    expect(attempts).toEqual({
      m1: true,
      m2: true,
      m3: true,
      m4: true,
      m5: 1,
      deferred: 1,
    });
    // and nothing came before its time
    const late = { m3: got.get("m3")!.at - delayedUntil, deferred: got.get("deferred")!.at - deferredUntil };
    expect({ late, inTime: late.m3 >= -5 && late.deferred >= -5 }).toMatchObject({ inTime: true });
    expect(await c2.quiet(300)).toBe(true);
    // everything finished: nothing is left on disk to come back again
    await eventually(async () => (await channelStats(n2, "states", "ch"))?.in_flight_count === 0, "nothing in flight");
    await kill(n2, "SIGKILL");
    const n3 = await start(dir, DURABLE);
    const c3 = await connect(n3);
    await c3.subscribe("states", "ch", 10);
    expect(await c3.quiet(500)).toBe(true);
  }, 20_000);

  test("a message whose delivery timed out keeps its attempts across a kill", async () => {
    // delivered, timed out (journaled with its attempts), delivered again, killed: it comes back
    // with at least the attempts of the time-out and one more
    const dir = dataDir();
    const args = ["--mem-queue-size=0", "--sync-every=1", "--msg-timeout=1s", "--queue-scan-interval=50ms"];
    const n = await start(dir, args);
    const p = await connect(n);
    await p.publish("timeouts", "slow");
    const c = await connect(n);
    await c.subscribe("timeouts", "ch", 1);
    expect((await c.message()).attempts).toBe(1);
    expect((await c.message(3000)).attempts).toBe(2); // timed out, delivered again
    await kill(n, "SIGKILL");
    const n2 = await start(dir, args);
    const c2 = await connect(n2);
    await c2.subscribe("timeouts", "ch", 1);
    expect((await c2.message()).attempts).toBeGreaterThanOrEqual(2);
  }, 15_000);
});

describe("deferred messages keep their time across restarts", () => {
  for (const memory of ["--mem-queue-size=0", "--mem-queue-size=10000"]) {
    for (const how of ["SIGKILL", "SIGTERM"] as const) {
      test(`50 DPUBs of 3 s, ${how} after 1 s, ${memory}`, async () => {
        const dir = dataDir();
        const args = [memory];
        const n = await start(dir, args);
        const consumer = await connect(n);
        await consumer.subscribe("later", "ch", 100);
        const p = await connect(n);
        const due = Date.now() + 3000;
        for (let i = 0; i < 50; i++) p.dpub("later", 3000, `d${i}`);
        for (let i = 0; i < 50; i++) expect(await p.response()).toBe("OK");
        await eventually(async () => (await channelStats(n, "later", "ch"))?.deferred_count === 50, "50 deferred");
        await Bun.sleep(Math.max(0, due - 2000 - Date.now()));
        await kill(n, how);

        const n2 = await start(dir, args);
        const c2 = await connect(n2);
        expect((await channelStats(n2, "later", "ch"))?.deferred_count).toBe(50);
        await c2.subscribe("later", "ch", 100);
        const got = await receive(c2, 50, 5000);
        for (const { at } of got.values()) expect(at).toBeGreaterThanOrEqual(due - 5);
        expect(await c2.quiet(200)).toBe(true);
      }, 15_000);
    }
  }

  test("a DPUB to a topic without channels keeps its time on the topic's disk, across SIGKILL", async () => {
    const dir = dataDir();
    const n = await start(dir, []);
    const p = await connect(n);
    const due = Date.now() + 2000;
    p.dpub("held", 2000, "waiting");
    expect(await p.response()).toBe("OK");
    await kill(n, "SIGKILL");
    const n2 = await start(dir, []);
    const c = await connect(n2);
    await c.subscribe("held", "ch", 10);
    const m = await c.message(5000);
    expect(text(m.body)).toBe("waiting");
    expect(Date.now()).toBeGreaterThanOrEqual(due - 5);
  }, 15_000);

  test("REQ with a delay of a message from memory keeps its delay across SIGTERM", async () => {
    const dir = dataDir();
    const n = await start(dir, []);
    const p = await connect(n);
    const c = await connect(n);
    await c.subscribe("retry", "ch", 1);
    await p.publish("retry", "again");
    const m = await c.message();
    const due = Date.now() + 2000;
    c.req(m.id, 2000);
    await eventually(async () => (await channelStats(n, "retry", "ch"))?.deferred_count === 1, "the REQ deferred");
    await kill(n, "SIGTERM");
    const n2 = await start(dir, []);
    const c2 = await connect(n2);
    await c2.subscribe("retry", "ch", 1);
    const back = await c2.message(5000);
    expect(text(back.body)).toBe("again");
    expect(Date.now()).toBeGreaterThanOrEqual(due - 5);
    expect(back.attempts).toBe(2);
  }, 15_000);
});
