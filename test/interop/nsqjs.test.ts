/**
 * Interop with a client we did not write: nsqjs 0.13 (the npm NSQ client) against
 * an in-process bunsq nsqd on loopback. Writers publish with PUB / MPUB / DPUB,
 * Readers consume with RDY, FIN, REQ and TOUCH, answer heartbeats, and the
 * channel's counters on the server are checked against what the client saw.
 *
 * Every nsqjs 'error' event, every publish callback error and every connection
 * the server drops while a test runs fails that test at its next poll.
 *
 * With BUNSQ_TEST_WORKERS=N the server is the N workers of `nsqd --workers=N`
 * (in this process, see test/helpers/workers.ts) and every client connects to
 * their shared address: the counts checked are the whole nsqd's (a subscriber
 * and its relay links, a channel on every worker).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Reader, Writer, type Body, type ConnectionOptions, type Message, type ReaderOptions } from "nsqjs";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import type { ClientV2 } from "../../src/tcp/client-v2.ts";
import { RELAY_AGENT_MARK } from "../../src/tcp/relay-hook.ts";
import { startTestNsqd, until } from "../helpers/nsqd.ts";
import { TEST_WORKERS, TestWorkers } from "../helpers/workers.ts";

const HOST = "127.0.0.1";

interface ReaderHandle {
  reader: Reader;
  /** The client_id nsqjs sent in IDENTIFY, to find the server side of the connection. */
  clientId: string;
  /** Set before the test itself closes the reader: its close is then expected. */
  closedByTest: boolean;
}

interface WriterHandle {
  writer: Writer;
  clientId: string;
}

/** What the tests read of a channel (the Channel itself, or its sum over the workers). */
interface ChannelView {
  readonly depth: number;
  readonly inFlightCount: number;
  readonly deferredCount: number;
  readonly messageCount: number;
  readonly requeueCount: number;
  readonly timeoutCount: number;
}

/** What the tests read of a connection (the ClientV2, or a subscriber with its relay links). */
interface ClientView {
  readonly clientId: string;
  readonly channel: { readonly name: string } | null;
  readonly readyCount: number;
  readonly inFlightCount: number;
  readonly messageCount: number;
  readonly finishCount: number;
  readonly requeueCount: number;
  readonly settings: { readonly msgTimeout: number; readonly heartbeatInterval: number };
  readonly pubCounts: ReadonlyMap<string, number>;
  readonly closed: boolean;
  readonly nextHeartbeatAt: number;
  readonly lastReadAt: number;
}

/** A subscriber of the workers' shared address: its own counts plus those of its relay links on the siblings. */
class WorkersClient implements ClientView {
  constructor(
    readonly client: ClientV2,
    private readonly workers: TestWorkers,
  ) {}
  private links(): ClientV2[] {
    const mark = `${RELAY_AGENT_MARK}${this.client.remoteAddress} `;
    return this.workers.nodes.flatMap((n) => [...n.daemon.tcp.clients].filter((c) => c.userAgent.startsWith(mark)));
  }
  private sum(count: (c: ClientV2) => number): number {
    return this.links().reduce((n, c) => n + count(c), count(this.client));
  }
  get clientId() { return this.client.clientId; }
  get channel() { return this.client.channel; }
  get readyCount() { return this.client.readyCount; }
  get inFlightCount() { return this.sum((c) => c.inFlightCount); }
  get messageCount() { return this.sum((c) => c.messageCount); }
  get finishCount() { return this.sum((c) => c.finishCount); }
  get requeueCount() { return this.sum((c) => c.requeueCount); }
  get settings() { return this.client.settings; }
  get pubCounts() { return this.client.pubCounts; }
  get closed() { return this.client.closed; }
  get nextHeartbeatAt() { return this.client.nextHeartbeatAt; }
  get lastReadAt() { return this.client.lastReadAt; }
}

/** A channel of the workers: the sum of its copies on every worker. */
class WorkersChannel implements ChannelView {
  constructor(
    private readonly workers: TestWorkers,
    private readonly topic: string,
    private readonly name: string,
  ) {}
  private sum(count: (c: ChannelView) => number): number {
    let n = 0;
    for (const node of this.workers.nodes) {
      const ch = node.daemon.nsqd.getExistingTopic(this.topic)?.getExistingChannel(this.name);
      if (ch !== undefined) n += count(ch);
    }
    return n;
  }
  get depth() { return this.sum((c) => c.depth); }
  get inFlightCount() { return this.sum((c) => c.inFlightCount); }
  get deferredCount() { return this.sum((c) => c.deferredCount); }
  get messageCount() { return this.sum((c) => c.messageCount); }
  get requeueCount() { return this.sum((c) => c.requeueCount); }
  get timeoutCount() { return this.sum((c) => c.timeoutCount); }
}

/** One server, the nsqjs clients connected to it, and what went wrong on them. */
class Harness {
  /** The nsqd, or with BUNSQ_TEST_WORKERS the workers' first daemon. */
  readonly server: NsqdDaemon;
  readonly workers: TestWorkers | null;
  readonly port: number;
  readonly errors: string[] = [];
  private readonly readers: ReaderHandle[] = [];
  private readonly writers: WriterHandle[] = [];
  private readonly cleanups: (() => void)[] = [];
  private closing = false;
  private nextId = 0;

  constructor(overrides: Record<string, unknown>) {
    // a fast queue scan keeps timeout and deferral checks tight
    if (TEST_WORKERS > 1) {
      this.workers = new TestWorkers(TEST_WORKERS, { queueScanInterval: 10, ...overrides });
      this.server = this.workers.nodes[0].daemon;
      this.port = this.workers.tcpPort;
    } else {
      this.workers = null;
      this.server = startTestNsqd({ queueScanInterval: 10, ...overrides });
      this.port = this.server.tcpPort;
    }
  }

  get address(): string {
    return `${HOST}:${this.port}`;
  }

  fail(problem: string): void {
    if (!this.closing) this.errors.push(problem);
  }

  /** Throws with everything nsqjs reported so far. */
  check(): void {
    if (this.errors.length > 0) throw new Error(`nsqjs against bunsq: ${this.errors.join("; ")}`);
  }

  /** Polls like until(), but fails at once when a client reported an error. */
  async waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    await until(
      () => {
        this.check();
        return condition();
      },
      what,
      timeoutMs,
    );
  }

  onClose(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  async writer(options: ConnectionOptions = {}): Promise<WriterHandle> {
    const clientId = options.clientId ?? `writer-${++this.nextId}`;
    const writer = new Writer(HOST, this.port, { ...options, clientId });
    const handle = { writer, clientId };
    this.writers.push(handle);
    let ready = false;
    writer.on("ready", () => {
      ready = true;
    });
    writer.on("error", (err) => this.fail(`writer ${clientId} error: ${err.message}`));
    writer.on("closed", () => this.fail(`writer ${clientId} connection closed`));
    writer.connect();
    await this.waitFor(() => ready, `nsqjs Writer ${clientId} ready`);
    return handle;
  }

  /** Connects a Reader and returns once the server holds its SUB and a RDY count. */
  async reader(
    topic: string,
    channel: string,
    options: Partial<ReaderOptions>,
    onMessage: (msg: Message) => void,
    onDiscard?: (msg: Message) => void,
  ): Promise<ReaderHandle> {
    const clientId = options.clientId ?? `${channel}-reader-${++this.nextId}`;
    const reader = new Reader(topic, channel, { ...options, clientId, nsqdTCPAddresses: [this.address] });
    const handle: ReaderHandle = { reader, clientId, closedByTest: false };
    this.readers.push(handle);
    reader.on("message", (msg) => {
      try {
        onMessage(msg);
      } catch (err) {
        this.fail(`message handler of ${clientId} threw: ${(err as Error).stack ?? err}`);
      }
    });
    if (onDiscard !== undefined) reader.on("discard", onDiscard);
    reader.on("error", (err) => this.fail(`reader ${clientId} error: ${err.message}`));
    reader.on("nsqd_closed", () => {
      if (!handle.closedByTest) this.fail(`reader ${clientId} connection closed`);
    });
    reader.connect();
    await this.waitFor(() => {
      const client = this.findClient(clientId);
      return client !== undefined && client.channel?.name === channel && client.readyCount > 0;
    }, `nsqjs Reader ${clientId} subscribed to ${topic}/${channel} with RDY > 0`);
    return handle;
  }

  closeReader(handle: ReaderHandle): void {
    handle.closedByTest = true;
    handle.reader.close();
  }

  findClient(clientId: string): ClientView | undefined {
    if (this.workers === null) {
      for (const client of this.server.tcp.clients) if (client.clientId === clientId) return client;
      return undefined;
    }
    for (const node of this.workers.nodes) {
      for (const client of node.daemon.tcp.clients) {
        if (client.clientId === clientId && !client.userAgent.startsWith(RELAY_AGENT_MARK)) {
          return new WorkersClient(client, this.workers);
        }
      }
    }
    return undefined;
  }

  /** True while the server holds the connection. */
  connected(view: ClientView): boolean {
    const client = view instanceof WorkersClient ? view.client : view;
    const daemons = this.workers === null ? [this.server] : this.workers.nodes.map((n) => n.daemon);
    return daemons.some((d) => d.tcp.clients.has(client as ClientV2));
  }

  /** The server side of an nsqjs connection. */
  client(clientId: string): ClientView {
    const client = this.findClient(clientId);
    if (client === undefined) throw new Error(`no server connection with client_id ${clientId}`);
    return client;
  }

  channel(topic: string, channel: string): ChannelView {
    const workers = this.workers;
    if (workers !== null) {
      const exists = workers.nodes.some((n) => n.daemon.nsqd.getExistingTopic(topic)?.getExistingChannel(channel));
      if (!exists) throw new Error(`no channel ${topic}/${channel} on the server`);
      return new WorkersChannel(workers, topic, channel);
    }
    const found = this.server.nsqd.getExistingTopic(topic)?.getExistingChannel(channel);
    if (found === undefined) throw new Error(`no channel ${topic}/${channel} on the server`);
    return found;
  }

  close(): void {
    this.closing = true;
    for (const cleanup of this.cleanups) cleanup();
    for (const handle of this.readers) {
      handle.closedByTest = true;
      handle.reader.close();
    }
    for (const { writer } of this.writers) writer.close();
    if (this.workers !== null) this.workers.stop();
    else this.server.stop();
  }
}

let active: Harness | null = null;

function harness(overrides: Record<string, unknown> = {}): Harness {
  active = new Harness(overrides);
  return active;
}

afterEach(() => {
  const h = active;
  active = null;
  h?.close();
});

/** Rejects instead of hanging when a promise does not settle in time. */
async function settle<T>(promise: Promise<T>, what: string, timeoutMs = 3000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function publish(w: WriterHandle, topic: string, msgs: Body | Body[]): Promise<void> {
  const what = Array.isArray(msgs) ? `MPUB of ${msgs.length} to ${topic}` : `PUB to ${topic}`;
  return settle(
    new Promise<void>((resolve, reject) => {
      w.writer.publish(topic, msgs, (err) => (err ? reject(err) : resolve()));
    }),
    what,
  );
}

function deferPublish(w: WriterHandle, topic: string, msg: Body, delayMs: number): Promise<void> {
  return settle(
    new Promise<void>((resolve, reject) => {
      w.writer.deferPublish(topic, [msg], delayMs, (err) => (err ? reject(err) : resolve()));
    }),
    `DPUB to ${topic}`,
  );
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Counts deliveries per body. */
class Tally {
  readonly counts = new Map<string, number>();
  deliveries = 0;

  add(msg: Message): void {
    const body = msg.body.toString();
    this.deliveries++;
    this.counts.set(body, (this.counts.get(body) ?? 0) + 1);
  }

  /** Bodies delivered more than once. */
  duplicates(): string[] {
    return [...this.counts].filter(([, n]) => n > 1).map(([body]) => body);
  }
}

function expectDrained(ch: ChannelView): void {
  expect(ch.depth).toBe(0);
  expect(ch.inFlightCount).toBe(0);
  expect(ch.deferredCount).toBe(0);
}

describe("nsqjs Writer -> bunsq -> nsqjs Reader", () => {
  test("PUB, MPUB and DPUB with string, Buffer and JSON bodies arrive byte for byte", async () => {
    const h = harness();
    const topic = "interop_bodies";
    const got: { msg: Message; at: number }[] = [];
    await h.reader(topic, "c", { maxInFlight: 20 }, (msg) => {
      got.push({ msg, at: Date.now() });
      msg.finish();
    });
    const w = await h.writer();

    const binary = Buffer.from([0, 1, 2, 10, 13, 32, 127, 128, 254, 255]);
    const unicode = "héllo wörld ✓ 日本語 🚀";
    const json = { n: 42, s: "text", list: [1, "two", null], nested: { ok: true } };
    const mixed: Body[] = ["mpub-string", Buffer.from("mpub-buffer"), { mpub: "json" }];
    const startedAt = Date.now();
    await publish(w, topic, "plain string");
    await publish(w, topic, binary);
    await publish(w, topic, unicode);
    await publish(w, topic, json);
    await publish(w, topic, mixed);
    const delayMs = 300;
    const deferSentAt = Date.now();
    await deferPublish(w, topic, "deferred", delayMs);
    const ch = h.channel(topic, "c");
    expect(ch.deferredCount).toBe(1);

    await h.waitFor(() => got.length >= 8, "8 messages");
    await h.waitFor(() => ch.inFlightCount === 0, "every FIN applied");
    h.check();
    expect(got.length).toBe(8);

    const expected = [
      Buffer.from("plain string"),
      binary,
      Buffer.from(unicode),
      Buffer.from(JSON.stringify(json)),
      Buffer.from("mpub-string"),
      Buffer.from("mpub-buffer"),
      Buffer.from(JSON.stringify({ mpub: "json" })),
      Buffer.from("deferred"),
    ];
    const hex = (bodies: Buffer[]) => bodies.map((b) => b.toString("hex")).sort();
    expect(hex(got.map(({ msg }) => msg.body))).toEqual(hex(expected));

    const jsonMsg = got.find(({ msg }) => msg.body.toString() === JSON.stringify(json))!;
    expect(jsonMsg.msg.json()).toEqual(json);
    expect(got.find(({ msg }) => msg.body.equals(binary))).toBeDefined();

    const ids = new Set(got.map(({ msg }) => msg.id));
    expect(ids.size).toBe(8);
    for (const { msg } of got) {
      expect(msg.id).toMatch(/^[0-9a-f]{16}$/);
      expect(msg.attempts).toBe(1);
      const tsMs = Number(msg.timestamp / 1_000_000n);
      expect(tsMs).toBeGreaterThanOrEqual(startedAt - 1000);
      expect(tsMs).toBeLessThanOrEqual(Date.now() + 1000);
    }

    // the deferred message waited out its delay, stamped with its publish time
    const deferred = got.find(({ msg }) => msg.body.toString() === "deferred")!;
    expect(deferred.at - deferSentAt).toBeGreaterThanOrEqual(delayMs);
    expect(Number(deferred.msg.timestamp / 1_000_000n)).toBeLessThan(deferSentAt + 100);

    expectDrained(ch);
    expect(ch.messageCount).toBe(8);
    expect(ch.requeueCount).toBe(0);
    expect(ch.timeoutCount).toBe(0);
    expect(h.client(w.clientId).pubCounts.get(topic)).toBe(8);
  });

  test("1,000 messages from several pipelined MPUBs are each received exactly once", async () => {
    const h = harness();
    const topic = "interop_bulk";
    const tally = new Tally();
    const consumer = await h.reader(topic, "c", { maxInFlight: 100 }, (msg) => {
      tally.add(msg);
      msg.finish();
    });
    const w = await h.writer();

    const batches = 8;
    const perBatch = 125;
    const batch = (b: number) => range(perBatch).map((i) => `bulk-${b * perBatch + i}`);
    await Promise.all(range(batches).map((b) => publish(w, topic, batch(b))));

    const ch = h.channel(topic, "c");
    const done = () => tally.deliveries >= 1000 && ch.inFlightCount === 0;
    await h.waitFor(done, "1,000 messages delivered and FIN'd", 4000);
    h.check();
    expect(tally.deliveries).toBe(1000);
    expect(tally.duplicates()).toEqual([]);
    expect(tally.counts.size).toBe(1000);
    for (let i = 0; i < 1000; i++) expect(tally.counts.get(`bulk-${i}`)).toBe(1);

    expectDrained(ch);
    expect(ch.messageCount).toBe(1000);
    expect(ch.requeueCount).toBe(0);
    expect(ch.timeoutCount).toBe(0);
    const server = h.client(consumer.clientId);
    expect(server.messageCount).toBe(1000);
    expect(server.finishCount).toBe(1000);
    expect(h.client(w.clientId).pubCounts.get(topic)).toBe(1000);
  });
});

describe("nsqjs Reader: REQ, timeouts and TOUCH", () => {
  test("requeue(delay) on the first attempt, finish() on the second", async () => {
    const h = harness();
    const topic = "interop_req";
    const delayMs = 200;
    const seen = new Map<string, { attempts: number[]; ids: string[]; at: number[] }>();
    // msg.requeue() backs the Reader off (RDY 0, then RDY 1, then back to max); keep that short
    const consumer = await h.reader(topic, "c", { maxInFlight: 5, maxBackoffDuration: 1 }, (msg) => {
      const body = msg.body.toString();
      let entry = seen.get(body);
      if (entry === undefined) seen.set(body, (entry = { attempts: [], ids: [], at: [] }));
      entry.attempts.push(msg.attempts);
      entry.ids.push(msg.id);
      entry.at.push(Date.now());
      if (msg.attempts === 1) msg.requeue(delayMs);
      else msg.finish();
    });
    const w = await h.writer();
    const bodies = range(5).map((i) => `req-${i}`);
    await publish(w, topic, bodies);

    const ch = h.channel(topic, "c");
    await h.waitFor(
      () => bodies.every((b) => seen.get(b)?.attempts.length === 2) && ch.inFlightCount === 0 && ch.deferredCount === 0,
      "every message requeued once, redelivered and FIN'd",
    );
    h.check();
    for (const body of bodies) {
      const entry = seen.get(body)!;
      expect(entry.attempts).toEqual([1, 2]);
      expect(entry.ids[1]).toBe(entry.ids[0]);
      expect(entry.at[1] - entry.at[0]).toBeGreaterThanOrEqual(delayMs);
    }
    expect(ch.requeueCount).toBe(5);
    expect(ch.timeoutCount).toBe(0);
    expectDrained(ch);
    const server = h.client(consumer.clientId);
    expect(server.requeueCount).toBe(5);
    expect(server.finishCount).toBe(5);
    expect(server.inFlightCount).toBe(0);
  });

  test("maxAttempts: immediate requeues until nsqjs discards (and FINs) the message", async () => {
    const h = harness();
    const topic = "interop_attempts";
    const attempts: number[] = [];
    const discarded: Message[] = [];
    await h.reader(
      topic,
      "c",
      { maxAttempts: 3 },
      (msg) => {
        attempts.push(msg.attempts);
        msg.requeue(0, false);
      },
      (msg) => discarded.push(msg),
    );
    const w = await h.writer();
    await publish(w, topic, "doomed");

    const ch = h.channel(topic, "c");
    await h.waitFor(() => discarded.length === 1 && ch.inFlightCount === 0, "discard after 3 attempts");
    h.check();
    expect(attempts).toEqual([1, 2, 3]);
    expect(discarded[0].attempts).toBe(4);
    expect(discarded[0].body.toString()).toBe("doomed");
    expect(ch.requeueCount).toBe(3);
    expect(ch.timeoutCount).toBe(0);
    expectDrained(ch);
  });

  test("a message never finished times out (IDENTIFY msg_timeout) and comes back with attempts 2", async () => {
    const h = harness(); // server default msg timeout is 60 s: the client asks for 1 s
    const topic = "interop_timeout";
    const deliveries: { msg: Message; at: number }[] = [];
    const consumer = await h.reader(topic, "c", { messageTimeout: 1000, maxInFlight: 1 }, (msg) => {
      deliveries.push({ msg, at: Date.now() });
      if (msg.attempts >= 2) msg.finish(); // the first delivery is left to time out
    });
    expect(h.client(consumer.clientId).settings.msgTimeout).toBe(1000);
    const w = await h.writer();
    await publish(w, topic, "slow");

    const ch = h.channel(topic, "c");
    await h.waitFor(() => deliveries.length >= 2, "redelivery after the message timed out");
    expect(ch.timeoutCount).toBeGreaterThan(0);
    await h.waitFor(() => ch.inFlightCount === 0, "FIN of the redelivered message");
    h.check();

    const [first, second] = deliveries;
    expect(deliveries.length).toBe(2);
    expect(first.msg.msgTimeout).toBe(1000); // from the IDENTIFY response
    expect(first.msg.attempts).toBe(1);
    expect(second.msg.attempts).toBe(2);
    expect(second.msg.id).toBe(first.msg.id);
    expect(second.msg.body.toString()).toBe("slow");
    expect(second.at - first.at).toBeGreaterThanOrEqual(900);
    expect(ch.timeoutCount).toBe(1);
    expect(ch.requeueCount).toBe(0);
    expectDrained(ch);
    const server = h.client(consumer.clientId);
    expect(server.finishCount).toBe(1);
  });

  test("touch() keeps a message past its timeout (server --msg-timeout) without a timeout", async () => {
    const msgTimeout = 400;
    const h = harness({ msgTimeout });
    const topic = "interop_touch";
    const deliveries: Message[] = [];
    let receivedAt = 0;
    let finishedAt = 0;
    let touches = 0;
    await h.reader(topic, "c", {}, (msg) => {
      deliveries.push(msg);
      if (deliveries.length > 1) return; // a redelivery: the assertions below catch it
      receivedAt = Date.now();
      const timer = setInterval(() => {
        if (touches < 5) {
          touches++;
          msg.touch();
          return;
        }
        clearInterval(timer);
        finishedAt = Date.now();
        msg.finish();
      }, 150);
      h.onClose(() => clearInterval(timer));
    });
    const w = await h.writer();
    await publish(w, topic, "touch me");

    const ch = h.channel(topic, "c");
    await h.waitFor(() => finishedAt > 0 && ch.inFlightCount === 0, "five touches and a FIN");
    h.check();
    expect(deliveries.length).toBe(1);
    expect(deliveries[0].msgTimeout).toBe(msgTimeout); // the server default, from IDENTIFY
    expect(touches).toBe(5);
    expect(finishedAt - receivedAt).toBeGreaterThanOrEqual(2 * msgTimeout);
    expect(ch.timeoutCount).toBe(0);
    expect(ch.requeueCount).toBe(0);
    expectDrained(ch);
  });
});

describe("nsqjs Readers sharing topics and channels", () => {
  test("two Readers on one channel split the messages with no duplicates", async () => {
    const h = harness();
    const topic = "interop_shared";
    const a = new Tally();
    const b = new Tally();
    // finishing a little later keeps both Readers busy, so both get some
    const handler = (tally: Tally) => (msg: Message) => {
      tally.add(msg);
      setTimeout(() => msg.finish(), 1);
    };
    await h.reader(topic, "shared", { maxInFlight: 5 }, handler(a));
    await h.reader(topic, "shared", { maxInFlight: 5 }, handler(b));
    const w = await h.writer();
    const bodies = range(200).map((i) => `shared-${i}`);
    await publish(w, topic, bodies.slice(0, 100));
    await publish(w, topic, bodies.slice(100));

    const ch = h.channel(topic, "shared");
    const done = () => a.deliveries + b.deliveries >= 200 && ch.inFlightCount === 0;
    await h.waitFor(done, "200 messages between two Readers");
    h.check();
    expect(a.deliveries + b.deliveries).toBe(200);
    expect(a.counts.size).toBeGreaterThan(0);
    expect(b.counts.size).toBeGreaterThan(0);
    expect(a.duplicates()).toEqual([]);
    expect(b.duplicates()).toEqual([]);
    expect([...a.counts.keys()].filter((body) => b.counts.has(body))).toEqual([]);
    expect([...a.counts.keys(), ...b.counts.keys()].sort()).toEqual([...bodies].sort());
    expect(ch.requeueCount).toBe(0);
    expect(ch.timeoutCount).toBe(0);
    expectDrained(ch);
  });

  test("two channels each receive every message", async () => {
    const h = harness();
    const topic = "interop_fanout";
    const left = new Tally();
    const right = new Tally();
    await h.reader(topic, "left", { maxInFlight: 10 }, (msg) => {
      left.add(msg);
      msg.finish();
    });
    await h.reader(topic, "right", { maxInFlight: 25 }, (msg) => {
      right.add(msg);
      msg.finish();
    });
    const w = await h.writer();
    const bodies = range(150).map((i) => `fanout-${i}`);
    await publish(w, topic, bodies.slice(0, 100));
    for (const body of bodies.slice(100)) await publish(w, topic, body);

    const l = h.channel(topic, "left");
    const r = h.channel(topic, "right");
    await h.waitFor(
      () => left.deliveries >= 150 && right.deliveries >= 150 && l.inFlightCount === 0 && r.inFlightCount === 0,
      "150 messages on each channel",
    );
    h.check();
    for (const [tally, ch] of [
      [left, l],
      [right, r],
    ] as const) {
      expect(tally.deliveries).toBe(150);
      expect(tally.duplicates()).toEqual([]);
      expect([...tally.counts.keys()].sort()).toEqual([...bodies].sort());
      expect(ch.messageCount).toBe(150);
      expectDrained(ch);
    }
  });

  test("a closed Reader's in-flight messages go to the next Reader with attempts 2", async () => {
    const h = harness();
    const topic = "interop_handover";
    const held: Message[] = [];
    const first = await h.reader(topic, "c", { maxInFlight: 3 }, (msg) => held.push(msg)); // never answers
    const w = await h.writer();
    await publish(w, topic, ["h-0", "h-1", "h-2"]);
    const ch = h.channel(topic, "c");
    await h.waitFor(() => held.length === 3 && ch.inFlightCount === 3, "3 messages held by the first Reader");

    h.closeReader(first);
    await h.waitFor(() => h.findClient(first.clientId) === undefined, "the server to drop the closed Reader");
    expect(ch.requeueCount).toBe(3);
    expect(ch.inFlightCount).toBe(0);

    const again: Message[] = [];
    await h.reader(topic, "c", { maxInFlight: 3 }, (msg) => {
      again.push(msg);
      msg.finish();
    });
    await h.waitFor(() => again.length >= 3 && ch.inFlightCount === 0, "the 3 messages on the second Reader");
    h.check();
    expect(again.length).toBe(3);
    expect(again.map((m) => m.attempts)).toEqual([2, 2, 2]);
    expect(again.map((m) => m.id).sort()).toEqual(held.map((m) => m.id).sort());
    expect(again.map((m) => m.body.toString()).sort()).toEqual(["h-0", "h-1", "h-2"]);
    expect(ch.timeoutCount).toBe(0);
    expectDrained(ch);
  });
});

describe("nsqjs flow control and heartbeats", () => {
  test("maxInFlight N: never more than N unacknowledged messages", async () => {
    const h = harness();
    const topic = "interop_rdy";
    const N = 7;
    const total = 140;
    let outstanding = 0;
    let peak = 0;
    let serverPeak = 0;
    let delivered = 0;
    let ch: ChannelView | null = null;
    const consumer = await h.reader(topic, "c", { maxInFlight: N }, (msg) => {
      delivered++;
      outstanding++;
      peak = Math.max(peak, outstanding);
      if (ch !== null) serverPeak = Math.max(serverPeak, ch.inFlightCount);
      setTimeout(() => {
        outstanding--;
        msg.finish();
      }, 1 + (delivered % 4));
    });
    ch = h.channel(topic, "c");
    expect(h.client(consumer.clientId).readyCount).toBe(N);
    const w = await h.writer();
    await publish(w, topic, range(total).map((i) => `rdy-${i}`));

    await h.waitFor(() => delivered >= total && ch.inFlightCount === 0, `${total} messages through a window of ${N}`);
    h.check();
    expect(delivered).toBe(total);
    expect(peak).toBe(N); // the window was used in full, and never exceeded
    expect(serverPeak).toBeLessThanOrEqual(N);
    expect(h.client(consumer.clientId).finishCount).toBe(total);
    expectDrained(ch);
  });

  test("maxInFlight above the server's --max-rdy-count is capped by the IDENTIFY max_rdy_count", async () => {
    const h = harness({ maxRdyCount: 3 });
    const topic = "interop_max_rdy";
    let outstanding = 0;
    let peak = 0;
    let delivered = 0;
    const consumer = await h.reader(topic, "c", { maxInFlight: 10 }, (msg) => {
      delivered++;
      outstanding++;
      peak = Math.max(peak, outstanding);
      setTimeout(() => {
        outstanding--;
        msg.finish();
      }, 2);
    });
    expect(h.client(consumer.clientId).readyCount).toBe(3);
    const w = await h.writer();
    await publish(w, topic, range(30).map((i) => `cap-${i}`));
    const ch = h.channel(topic, "c");
    await h.waitFor(() => delivered >= 30 && ch.inFlightCount === 0, "30 messages with RDY 3");
    h.check();
    expect(delivered).toBe(30);
    expect(peak).toBe(3);
    expectDrained(ch);
  });

  test(
    "heartbeat_interval 1 s: Reader and Writer answer heartbeats and stay connected",
    async () => {
      const h = harness();
      const topic = "interop_heartbeat";
      const got: string[] = [];
      const consumer = await h.reader(topic, "c", { heartbeatInterval: 1 }, (msg) => {
        got.push(msg.body.toString());
        msg.finish();
      });
      const w = await h.writer({ heartbeatInterval: 1 });
      const clients = [h.client(consumer.clientId), h.client(w.clientId)];
      for (const client of clients) expect(client.settings.heartbeatInterval).toBe(1000);

      // each heartbeat moves nextHeartbeatAt; a NOP in answer moves lastReadAt past the heartbeat
      const beats = clients.map(() => 0);
      const last = clients.map((c) => c.nextHeartbeatAt);
      await h.waitFor(
        () => {
          clients.forEach((c, i) => {
            if (c.nextHeartbeatAt !== last[i]) {
              beats[i]++;
              last[i] = c.nextHeartbeatAt;
            }
          });
          return clients.every((c, i) => beats[i] >= 3 && c.lastReadAt >= c.nextHeartbeatAt - 1000);
        },
        "3 heartbeats answered on each connection",
        6000,
      );
      h.check();
      // 3 s with nothing but NOPs from the clients, past the 2 s read deadline
      for (const client of clients) {
        expect(h.connected(client)).toBe(true);
        expect(client.closed).toBe(false);
      }

      await publish(w, topic, "still here");
      await h.waitFor(() => got.length === 1, "a message after the heartbeats");
      expect(got).toEqual(["still here"]);
    },
    10_000,
  );
});
