/**
 * Queue semantics over real sockets: RDY flow control, fan-out and load sharing,
 * timeouts, requeues, deferrals, heartbeats, ephemeral cleanup, memory limits and
 * slow readers.
 */
import { describe, expect, test } from "bun:test";
import { perTestServers, until } from "../helpers/nsqd.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const { start, connect } = perTestServers();

describe("flow control", () => {
  test("RDY bounds the messages in flight and FIN frees room", async () => {
    const s = start();
    const p = await connect(s);
    for (let i = 0; i < 5; i++) await p.publish("rdy", `m${i}`);
    const c = await connect(s);
    await c.subscribe("rdy", "ch", 2);
    const first = [await c.message(), await c.message()];
    expect(first.map((m) => text(m.body))).toEqual(["m0", "m1"]);
    expect(await c.quiet(100)).toBe(true);
    c.fin(first[0].id);
    expect(text((await c.message()).body)).toBe("m2");
    c.rdy(0);
    c.fin(first[1].id);
    expect(await c.quiet(100)).toBe(true);
    c.rdy(10);
    expect(text((await c.message()).body)).toBe("m3");
    expect(text((await c.message()).body)).toBe("m4");
  });

  test("a topic keeps messages until its first channel, which receives them", async () => {
    const s = start();
    const p = await connect(s);
    for (let i = 0; i < 3; i++) await p.publish("held", `m${i}`);
    expect(s.nsqd.getExistingTopic("held")!.depth).toBe(3);
    const c = await connect(s);
    await c.subscribe("held", "first", 10);
    for (let i = 0; i < 3; i++) expect(text((await c.message()).body)).toBe(`m${i}`);
    expect(s.nsqd.getExistingTopic("held")!.depth).toBe(0);
  });

  test("every channel gets every message; consumers of one channel share them", async () => {
    const s = start();
    const a1 = await connect(s);
    const a2 = await connect(s);
    const b = await connect(s);
    await a1.subscribe("fan", "a", 100);
    await a2.subscribe("fan", "a", 100);
    await b.subscribe("fan", "b", 100);
    const p = await connect(s);
    const n = 100;
    for (let i = 0; i < n; i++) p.pub("fan", `m${i}`);
    for (let i = 0; i < n; i++) expect(await p.response()).toBe("OK");
    const seenB = new Set<string>();
    for (let i = 0; i < n; i++) seenB.add(text((await b.message()).body));
    expect(seenB.size).toBe(n);
    const channelA = s.nsqd.getExistingTopic("fan")!.getExistingChannel("a")!;
    await until(() => channelA.inFlightCount === n, "channel a to deliver everything");
    const consumers = channelA.consumers as unknown as { messageCount: number }[];
    const counts = consumers.map((c) => c.messageCount);
    expect(counts[0] + counts[1]).toBe(n);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
    const seenA = new Set<string>();
    for (let i = 0; i < counts[0]; i++) seenA.add(text((await a1.message()).body));
    for (let i = 0; i < counts[1]; i++) seenA.add(text((await a2.message()).body));
    expect(seenA.size).toBe(n);
  });
});

describe("timeouts and requeues", () => {
  test("an unanswered message times out and comes back with attempts + 1", async () => {
    const s = start({ queueScanInterval: 20 });
    const c = await connect(s);
    c.identify({ msg_timeout: 1000 });
    expect(await c.response()).toBe("OK");
    await c.subscribe("to", "ch", 1);
    await (await connect(s)).publish("to", "late");
    const first = await c.message();
    expect(first.attempts).toBe(1);
    const started = Date.now();
    const again = await c.message(3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(again.id).toBe(first.id);
    expect(again.attempts).toBe(2);
    const channel = s.nsqd.getExistingTopic("to")!.getExistingChannel("ch")!;
    expect(channel.timeoutCount).toBe(1);
    c.fin(again.id);
    await until(() => channel.inFlightCount === 0, "FIN");
  });

  test("REQ 0 redelivers at once, REQ with a delay after it", async () => {
    const s = start({ queueScanInterval: 20 });
    const c = await connect(s);
    await c.subscribe("req", "ch", 1);
    await (await connect(s)).publish("req", "again");
    const m = await c.message();
    c.req(m.id, 0);
    const m2 = await c.message();
    expect(m2.attempts).toBe(2);
    const t0 = Date.now();
    c.req(m2.id, 300);
    const channel = s.nsqd.getExistingTopic("req")!.getExistingChannel("ch")!;
    await until(() => channel.deferredCount === 1, "the deferred REQ");
    const m3 = await c.message();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(m3.attempts).toBe(3);
    expect(channel.requeueCount).toBe(2);
  });

  test("REQ beyond --max-req-timeout is clamped, not refused", async () => {
    const s = start({ maxReqTimeout: 200, queueScanInterval: 20 });
    const c = await connect(s);
    await c.subscribe("clamp", "ch", 1);
    await (await connect(s)).publish("clamp", "x");
    const m = await c.message();
    c.req(m.id, 999999);
    expect((await c.message(2000)).attempts).toBe(2);
  });

  test("TOUCH extends the deadline", async () => {
    const s = start({ queueScanInterval: 20 });
    const c = await connect(s);
    c.identify({ msg_timeout: 1000 });
    expect(await c.response()).toBe("OK");
    await c.subscribe("touch", "ch", 1);
    await (await connect(s)).publish("touch", "x");
    const m = await c.message();
    for (let i = 0; i < 4; i++) {
      await Bun.sleep(400);
      c.touch(m.id);
    }
    const channel = s.nsqd.getExistingTopic("touch")!.getExistingChannel("ch")!;
    expect(channel.timeoutCount).toBe(0);
    c.fin(m.id);
    await until(() => channel.inFlightCount === 0, "FIN");
    expect(channel.timeoutCount).toBe(0);
  });

  test("a TOUCH never extends past --max-msg-timeout, even behind messages with later deadlines", async () => {
    const s = start({ maxMsgTimeout: 1500, queueScanInterval: 20 });
    const c = await connect(s);
    c.identify({ msg_timeout: 1000 });
    expect(await c.response()).toBe("OK");
    await c.subscribe("maxtouch", "ch", 2);
    const p = await connect(s);
    await p.publish("maxtouch", "first");
    const first = await c.message();
    const firstAt = Date.now();
    await Bun.sleep(600);
    await p.publish("maxtouch", "second");
    const second = await c.message(); // its deadline (~1600 ms after firstAt) is later than first's cap (1500)
    for (let i = 0; i < 2; i++) {
      await Bun.sleep(250);
      c.touch(first.id); // each would move it to now + 1000, past the cap
    }
    const again = await c.message(3000);
    expect(text(again.body)).toBe("first");
    expect(again.attempts).toBe(2);
    expect(Date.now() - firstAt).toBeGreaterThanOrEqual(1450);
    const later = await c.message(3000);
    expect(later.id).toBe(second.id);
    expect(later.attempts).toBe(2);
  });

  test("consumers with different msg_timeout on one channel each time out on their own schedule", async () => {
    const s = start({ queueScanInterval: 20 });
    const quick = await connect(s);
    quick.identify({ msg_timeout: 1000 });
    expect(await quick.response()).toBe("OK");
    const slow = await connect(s);
    slow.identify({ msg_timeout: 2500 });
    expect(await slow.response()).toBe("OK");
    await quick.subscribe("mixed", "ch", 1);
    await slow.subscribe("mixed", "ch", 1);
    const p = await connect(s);
    await p.publish("mixed", "a");
    await p.publish("mixed", "b");
    const held = [await quick.message(), await slow.message()];
    const t0 = Date.now();
    const channel = s.nsqd.getExistingTopic("mixed")!.getExistingChannel("ch")!;
    // the quick consumer's message comes back to it (the slow one has no RDY left) after ~1 s
    const retry = await quick.message(3000);
    expect(retry.id).toBe(held[0].id);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(channel.timeoutCount).toBe(1);
    quick.fin(retry.id);
    // the slow consumer's message is still in flight until ~2.5 s
    await Bun.sleep(Math.max(0, 1500 - (Date.now() - t0)));
    expect(channel.timeoutCount).toBe(1);
    expect(channel.inFlightCount).toBe(1);
    await until(() => channel.timeoutCount === 2, "the slow consumer's timeout", 3000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2400);
  });

  test("DPUB delivers after the delay", async () => {
    const s = start({ queueScanInterval: 20 });
    const c = await connect(s);
    await c.subscribe("dpub", "ch", 1);
    const t0 = Date.now();
    const p = await connect(s);
    p.dpub("dpub", 300, "later");
    expect(await p.response()).toBe("OK");
    expect(s.nsqd.getExistingTopic("dpub")!.getExistingChannel("ch")!.deferredCount).toBe(1);
    const m = await c.message(2000);
    expect(text(m.body)).toBe("later");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
  });

  test("a consumer that disconnects gives its in-flight messages to the others", async () => {
    const s = start();
    const a = await connect(s);
    const b = await connect(s);
    await a.subscribe("gone", "ch", 1);
    await (await connect(s)).publish("gone", "x");
    const m = await a.message();
    await b.subscribe("gone", "ch", 1);
    a.close();
    const again = await b.message();
    expect(again.id).toBe(m.id);
    expect(again.attempts).toBe(2);
  });
});

describe("heartbeats", () => {
  test("sent at the negotiated interval", async () => {
    const s = start();
    const c = await connect(s);
    c.identify({ heartbeat_interval: 1000 });
    expect(await c.response()).toBe("OK");
    const t0 = Date.now();
    const nop = setInterval(() => c.write("NOP\n"), 50);
    try {
      await c.waitHeartbeats(2, 4000);
    } finally {
      clearInterval(nop);
    }
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(1800);
    expect(elapsed).toBeLessThan(3000);
    expect(c.closed).toBe(false);
  });

  test("a client that stays silent for two intervals is closed", async () => {
    const s = start();
    const c = await connect(s);
    c.identify({ heartbeat_interval: 1000 });
    expect(await c.response()).toBe("OK");
    await c.waitClosed(3500);
  });
});

describe("ephemeral topics and channels", () => {
  test("an ephemeral channel goes with its last consumer, an ephemeral topic with its last channel", async () => {
    const s = start();
    const a = await connect(s);
    const b = await connect(s);
    await a.subscribe("e#ephemeral", "c#ephemeral");
    await b.subscribe("e#ephemeral", "c#ephemeral");
    const topic = s.nsqd.getExistingTopic("e#ephemeral")!;
    a.close();
    await until(() => topic.getExistingChannel("c#ephemeral")!.consumers.length === 1, "a to leave");
    b.close();
    await until(() => s.nsqd.getExistingTopic("e#ephemeral") === undefined, "the topic to go");
    expect(topic.getExistingChannel("c#ephemeral")).toBeUndefined();
  });

  test("a durable channel stays after its consumers leave", async () => {
    const s = start();
    const a = await connect(s);
    await a.subscribe("durable", "ch");
    a.close();
    await until(() => s.nsqd.getExistingTopic("durable")!.getExistingChannel("ch")!.consumers.length === 0, "leave");
    expect(s.nsqd.getExistingTopic("durable")!.getExistingChannel("ch")).toBeDefined();
  });

  test("an ephemeral topic drops what its memory queue cannot hold, and says OK", async () => {
    const s = start({ memQueueSize: 2 });
    const p = await connect(s);
    for (let i = 0; i < 5; i++) await p.publish("drop#ephemeral", `m${i}`);
    const topic = s.nsqd.getExistingTopic("drop#ephemeral")!;
    expect(topic.depth).toBe(2);
    expect(topic.dropCount).toBe(3);
  });
});

describe("memory limit", () => {
  test("past --mem-queue-size messages go to disk and come back in order", async () => {
    const s = start({ memQueueSize: 3 });
    const p = await connect(s);
    for (let i = 0; i < 5; i++) await p.publish("full", `m${i}`);
    p.mpub("full", ["m5", "m6"]);
    expect(await p.response()).toBe("OK");
    const topic = s.nsqd.getExistingTopic("full")!;
    expect(topic.depth).toBe(7);
    expect(topic.backendDepth).toBe(4);
    const c = await connect(s);
    await c.subscribe("full", "ch", 10);
    for (let i = 0; i < 7; i++) {
      const m = await c.message();
      expect(text(m.body)).toBe(`m${i}`);
      c.fin(m.id);
    }
    await until(() => topic.depth === 0 && topic.getExistingChannel("ch")!.depth === 0, "drained");
  });

  test("a slow channel spills to its own disk queue without holding back a fast one", async () => {
    const s = start({ memQueueSize: 10 });
    const fast = await connect(s);
    await fast.subscribe("spill", "fast", 100);
    const slow = await connect(s);
    await slow.subscribe("spill", "slow", 0);
    const p = await connect(s);
    for (let i = 0; i < 50; i++) p.pub("spill", `m${i}`);
    for (let i = 0; i < 50; i++) expect(await p.response()).toBe("OK");
    for (let i = 0; i < 50; i++) {
      const m = await fast.message();
      expect(text(m.body)).toBe(`m${i}`);
      fast.fin(m.id);
    }
    const channel = s.nsqd.getExistingTopic("spill")!.getExistingChannel("slow")!;
    expect(channel.depth).toBe(50);
    expect(channel.backendDepth).toBeGreaterThanOrEqual(40);
    slow.rdy(100);
    for (let i = 0; i < 50; i++) {
      const m = await slow.message();
      expect(text(m.body)).toBe(`m${i}`);
      slow.fin(m.id);
    }
  });

  test("--mem-queue-size=0 sends every message through disk", async () => {
    const s = start({ memQueueSize: 0 });
    const c = await connect(s);
    await c.subscribe("disk0", "ch", 5);
    const p = await connect(s);
    p.mpub("disk0", ["a", "b", "c"]);
    expect(await p.response()).toBe("OK");
    for (const want of ["a", "b", "c"]) {
      const m = await c.message();
      expect(text(m.body)).toBe(want);
      c.fin(m.id);
    }
  });
});

describe("output", () => {
  test("a reader that stops reading is not buffered without bound and does not hold back the others", async () => {
    const s = start({ maxRdyCount: 2500 });
    const body = "x".repeat(4096);
    // the slow consumer: a raw socket that never reads
    const slow = await Bun.connect({
      hostname: "127.0.0.1",
      port: s.tcpPort,
      socket: { data() {}, open(sock) { sock.pause?.(); } },
    });
    slow.write("  V2SUB slow ch\nRDY 2500\n");
    const fast = await connect(s);
    await fast.subscribe("slow", "ch", 2500);
    const channel = () => s.nsqd.getExistingTopic("slow")!.getExistingChannel("ch")!;
    await until(() => channel()?.consumers.length === 2, "both consumers");
    const p = await connect(s);
    const n = 3000;
    for (let i = 0; i < n; i++) p.pub("slow", body);
    for (let i = 0; i < n; i++) expect(await p.response()).toBe("OK");
    // the fast consumer receives; the slow one is blocked once its socket is full
    let received = 0;
    while (received < n / 4) {
      const m = await fast.message();
      fast.fin(m.id);
      received++;
    }
    const slowClient = [...s.tcp.clients].find((c) => c.remoteAddress.endsWith(`:${slow.localPort}`))!;
    await until(() => slowClient.blocked, "the slow consumer to be blocked");
    expect(slowClient.pendingBytes).toBeLessThanOrEqual(16 * 1024 + body.length + 64);
    while (received < n - slowClient.inFlightCount) {
      const m = await fast.message();
      fast.fin(m.id);
      received++;
    }
    expect(received + slowClient.inFlightCount).toBe(n);
    slow.end();
  });
});
