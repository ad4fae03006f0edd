/**
 * The relay of `--workers=2` seen by a raw V2 client: a subscriber of the
 * shared address that landed on worker 0 receives worker 1's messages with
 * their id, timestamp and attempts, and its REQ, TOUCH, FIN, timeouts and
 * errors behave as on a direct connection to the owning worker. (Two workers in
 * this process, so the test knows which one took each connection.)
 */
import { afterEach, describe, expect, test } from "bun:test";
import { parseMessageNode } from "../../src/protocol/message-id.ts";
import { until } from "../helpers/nsqd.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { TestWorkers } from "../helpers/workers.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function start(overrides: Record<string, unknown> = {}): TestWorkers {
  const w = new TestWorkers(2, { queueScanInterval: 10, ...overrides });
  cleanups.push(() => w.stop());
  return w;
}

async function connect(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  cleanups.push(() => c.close());
  return c;
}

/** A connection to the shared address that worker `index` accepted (others are closed). */
async function connectTo(w: TestWorkers, index: number): Promise<RawClient> {
  for (let i = 0; i < 200; i++) {
    const c = await connect(w.tcpPort);
    c.identify({ client_id: `probe-${i}`, msg_timeout: 1000 });
    expect(await c.response()).toBe("OK");
    const owner = w.nodes.findIndex((n) => [...n.daemon.tcp.clients].some((x) => x.clientId === `probe-${i}`));
    if (owner === index) return c;
    c.close();
  }
  throw new Error(`no connection landed on worker ${index}`);
}

function nodeOf(id: string): number {
  return parseMessageNode(new TextEncoder().encode(id), 0);
}

describe("relay", () => {
  test("a sibling's messages keep id and attempts; REQ, TOUCH, timeouts and FIN go to the owner", async () => {
    const w = start();
    const topic = "relayed";
    const sub = await connectTo(w, 0);
    await sub.subscribe(topic, "c", 1);
    // published on worker 1's own port: only worker 1 holds it
    const pub = await connect(w.nodes[1].daemon.tcpPort);
    await pub.publish(topic, "far");
    const ownerNode = w.nodes[1].daemon.nsqd.ids.node;
    const channel = () => w.nodes[1].daemon.nsqd.getExistingTopic(topic)!.getExistingChannel("c")!;

    const first = await sub.message();
    expect(new TextDecoder().decode(first.body)).toBe("far");
    expect(nodeOf(first.id)).toBe(ownerNode);
    expect(first.attempts).toBe(1);
    expect(channel().inFlightCount).toBe(1);

    sub.req(first.id, 0);
    const second = await sub.message();
    expect(second.id).toBe(first.id);
    expect(second.timestamp).toBe(first.timestamp);
    expect(second.attempts).toBe(2);
    expect(channel().requeueCount).toBe(1);

    // msg_timeout 1000 from IDENTIFY applies on the owner: TOUCH keeps it, silence times it out
    await Bun.sleep(600);
    sub.touch(second.id);
    await Bun.sleep(600);
    expect(channel().timeoutCount).toBe(0);
    const third = await sub.message(3000);
    expect(third.attempts).toBe(3);
    expect(channel().timeoutCount).toBe(1);

    // a FIN for an id of worker 1 it does not have in flight fails as on a direct connection
    const unknown = `${third.id.slice(0, 15)}${third.id.endsWith("0") ? "1" : "0"}`;
    sub.fin(unknown);
    expect(await sub.error()).toBe(`E_FIN_FAILED FIN ${unknown} failed ID not in flight`);
    sub.fin(third.id);
    await until(() => channel().inFlightCount === 0 && channel().depth === 0, "the FIN on worker 1");
    expect(await sub.quiet(100)).toBe(true);

    // the shared /stats folds the relay link into the subscriber
    const stats = (await (await fetch(`http://127.0.0.1:${w.httpPort}/stats?format=json&topic=${topic}`)).json()) as any;
    const c = stats.topics[0].channels[0];
    expect(c.client_count).toBe(1);
    expect(c.clients[0].finish_count).toBe(1);
    expect(c.clients[0].requeue_count).toBe(1);
    expect(c.message_count).toBe(1);
    expect(c.timeout_count).toBe(1);
  }, 20_000);

  test("RDY is the cap over every worker together", async () => {
    const w = start();
    const topic = "capped";
    for (const node of w.nodes) {
      const p = await connect(node.daemon.tcpPort);
      for (let i = 0; i < 5; i++) await p.publish(topic, `m${i}`);
    }
    const sub = await connectTo(w, 0);
    await sub.subscribe(topic, "c", 3);
    const held = [];
    for (let i = 0; i < 3; i++) held.push(await sub.message());
    expect(await sub.quiet(300)).toBe(true);
    for (const m of held) sub.fin(m.id);
    const rest = [];
    for (let i = 0; i < 7; i++) {
      const m = await sub.message();
      rest.push(m);
      sub.fin(m.id);
    }
    const all = [...held, ...rest];
    expect(new Set(all.map((m) => m.id)).size).toBe(10);
    expect(new Set(all.map((m) => nodeOf(m.id))).size).toBe(2);
    expect(await sub.quiet(200)).toBe(true);
  }, 20_000);

  test("large messages split over many reads arrive whole", async () => {
    const w = start();
    const topic = "large";
    const pub = await connect(w.nodes[1].daemon.tcpPort);
    const bodies = Array.from({ length: 4 }, (_, i) => new Uint8Array(300_000 + i).fill(65 + i));
    for (const body of bodies) await pub.publish(topic, body);
    const sub = await connectTo(w, 0);
    await sub.subscribe(topic, "c", 4);
    const got = [];
    for (let i = 0; i < 4; i++) {
      const m = await sub.message();
      got.push(m.body);
      sub.fin(m.id);
    }
    got.sort((a, b) => a.length - b.length);
    got.forEach((body, i) => expect(Bun.deepEquals(body, bodies[i])).toBe(true));
  }, 20_000);

  test("the subscriber's going away hands the sibling's messages back", async () => {
    const w = start();
    const topic = "handback";
    const pub = await connect(w.nodes[1].daemon.tcpPort);
    await pub.publish(topic, "x");
    const sub = await connectTo(w, 0);
    await sub.subscribe(topic, "c", 1);
    await sub.message();
    const channel = w.nodes[1].daemon.nsqd.getExistingTopic(topic)!.getExistingChannel("c")!;
    sub.close();
    await until(() => channel.inFlightCount === 0 && channel.depth === 1, "the message back on worker 1");
    const other = await connectTo(w, 1);
    await other.subscribe(topic, "c", 1);
    expect((await other.message()).attempts).toBe(2);
  }, 20_000);

  test("a FIN for a sibling given before the worker knows its siblings waits for the link, and the owner answers it", async () => {
    // as between a worker's start and the supervisor's first table of ports
    const w = new TestWorkers(2, { queueScanInterval: 10 }, false);
    cleanups.push(() => w.stop());
    const topic = "early";
    // worker 1's subscriber holds worker 1's message
    const holder = await connectTo(w, 1);
    await holder.subscribe(topic, "c", 1);
    const pub = await connect(w.nodes[1].daemon.tcpPort);
    await pub.publish(topic, "held");
    const m = await holder.message();
    // a subscriber on worker 0 FINs it while worker 0 does not know where worker 1 is
    const other = await connectTo(w, 0);
    await other.subscribe(topic, "c", 0);
    other.fin(m.id);
    expect(await other.quiet(100)).toBe(true); // not refused here as "not in flight"
    w.tellPeers();
    expect(await other.error()).toBe(`E_FIN_FAILED FIN ${m.id} failed client does not own message`);
    holder.fin(m.id);
    expect(await holder.quiet(50)).toBe(true);
  }, 20_000);
});
