/**
 * Interop with a client we did not write: nsqjs 0.13 (the npm NSQ client) against
 * a bunsq nsqd on loopback. Writers publish with PUB / MPUB / DPUB, Readers
 * consume with RDY, FIN, REQ and TOUCH and answer heartbeats, and the channel's
 * and clients' counters in the server's /stats are checked against what the
 * client saw.
 *
 * Every nsqjs 'error' event, every publish callback error and every connection
 * the server drops while a test runs fails that test at its next poll.
 *
 * The server is one nsqd in this process or, with BUNSQ_TEST_WORKERS=N (N > 1), a
 * spawned `nsqd --workers=N` (supervisor and worker processes, see startTestServer
 * in test/helpers/workers.ts) with every client on its shared address: its /stats
 * counts are the whole nsqd's (a channel on every worker, a subscriber with its
 * relay links).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";
import { Reader, Writer, type Body, type ConnectionOptions, type Message, type ReaderOptions } from "nsqjs";
import type { ChannelStats, ClientStats } from "../../src/schemas/nsqd-stats.ts";
import { RELAY_AGENT_MARK } from "../../src/tcp/relay-hook.ts";
import { eventually } from "../helpers/lookupd.ts";
import { channelOf, startTestServer, type TestServer } from "../helpers/workers.ts";

const HOST = "127.0.0.1";

interface ReaderHandle {
  reader: Reader;
  /** The client_id nsqjs sent in IDENTIFY, to find the connection in /stats. */
  clientId: string;
  topic: string;
  channel: string;
  /** Set before the test itself closes the reader: its close is then expected. */
  closedByTest: boolean;
}

interface WriterHandle {
  writer: Writer;
  clientId: string;
}

/** What went over one tapped connection: the bytes as latin1 text, and when heartbeats came. */
interface Wire {
  toServer: string;
  toClient: string;
  heartbeatsAt: number[];
}

/** A TCP proxy to the server that keeps what each connection through it carried. */
class WireTap {
  readonly wires: Wire[] = [];
  private readonly sockets: Socket[] = [];

  private constructor(private readonly listener: Server) {}

  static async start(serverPort: number): Promise<WireTap> {
    const listener = createServer();
    const tap = new WireTap(listener);
    listener.on("connection", (client) => {
      const wire: Wire = { toServer: "", toClient: "", heartbeatsAt: [] };
      tap.wires.push(wire);
      const server = netConnect(serverPort, HOST);
      tap.sockets.push(client, server);
      client.on("data", (d: Buffer) => void (wire.toServer += d.toString("latin1")));
      server.on("data", (d: Buffer) => {
        const text = d.toString("latin1");
        wire.toClient += text;
        for (let n = occurrences(text, "_heartbeat_"); n > 0; n--) wire.heartbeatsAt.push(Date.now());
      });
      client.pipe(server);
      server.pipe(client);
      client.on("error", () => server.destroy());
      server.on("error", () => client.destroy());
      client.on("close", () => server.destroy());
      server.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve) => listener.listen(0, HOST, resolve));
    return tap;
  }

  get port(): number {
    const address = this.listener.address();
    if (address === null || typeof address === "string") throw new Error("the tap is not listening");
    return address.port;
  }

  /** The connection of the client that sent this client_id in IDENTIFY. */
  wire(clientId: string): Wire {
    const found = this.wires.find((w) => w.toServer.includes(`"client_id":${JSON.stringify(clientId)}`));
    if (found === undefined) throw new Error(`no tapped connection of ${clientId}`);
    return found;
  }

  close(): void {
    this.listener.close();
    for (const s of this.sockets) s.destroy();
  }
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

/** One server, the nsqjs clients connected to it, and what went wrong on them. */
class Harness {
  readonly errors: string[] = [];
  /** The port clients connect to: the server's, or a WireTap's in front of it. */
  private port: number;
  private readonly readers: ReaderHandle[] = [];
  private readonly writers: WriterHandle[] = [];
  private readonly cleanups: (() => void)[] = [];
  private closing = false;
  private nextId = 0;

  constructor(readonly server: TestServer) {
    this.port = server.tcpPort;
  }

  get address(): string {
    return `${HOST}:${this.port}`;
  }

  /** Clients connected from now on go through a tap that keeps what they exchange with the server. */
  async tapConnections(): Promise<WireTap> {
    const tap = await WireTap.start(this.server.tcpPort);
    this.onClose(() => tap.close());
    this.port = tap.port;
    return tap;
  }

  fail(problem: string): void {
    if (!this.closing) this.errors.push(problem);
  }

  /** Throws with everything nsqjs reported so far. */
  check(): void {
    if (this.errors.length > 0) throw new Error(`nsqjs against bunsq: ${this.errors.join("; ")}`);
  }

  /** Polls like eventually(), but fails at once when a client reported an error. */
  async waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
    await eventually(
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

  /** Connects a Reader and returns once the server's /stats shows its SUB and a RDY count. */
  async reader(
    topic: string,
    channel: string,
    options: Partial<ReaderOptions>,
    onMessage: (msg: Message) => void,
    onDiscard?: (msg: Message) => void,
  ): Promise<ReaderHandle> {
    const clientId = options.clientId ?? `${channel}-reader-${++this.nextId}`;
    const reader = new Reader(topic, channel, { ...options, clientId, nsqdTCPAddresses: [this.address] });
    const handle: ReaderHandle = { reader, clientId, topic, channel, closedByTest: false };
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
    await this.waitFor(
      async () => ((await this.findSubscriber(handle))?.ready_count ?? 0) > 0,
      `nsqjs Reader ${clientId} subscribed to ${topic}/${channel} with RDY > 0`,
    );
    return handle;
  }

  closeReader(handle: ReaderHandle): void {
    handle.closedByTest = true;
    handle.reader.close();
  }

  /** The channel in the server's /stats. */
  async channel(topic: string, channel: string): Promise<ChannelStats> {
    const found = channelOf(await this.server.stats(topic), topic, channel);
    if (found === undefined) throw new Error(`no channel ${topic}/${channel} in the server's /stats`);
    return found;
  }

  /** A Reader's connection among its channel's clients in /stats (relay links folded in), if the server has it. */
  async findSubscriber(handle: ReaderHandle): Promise<ClientStats | undefined> {
    const ch = channelOf(await this.server.stats(handle.topic), handle.topic, handle.channel);
    return ch?.clients?.find((c) => c.client_id === handle.clientId && !c.user_agent.startsWith(RELAY_AGENT_MARK));
  }

  async subscriber(handle: ReaderHandle): Promise<ClientStats> {
    const found = await this.findSubscriber(handle);
    if (found === undefined) throw new Error(`no subscriber ${handle.clientId} in the server's /stats`);
    return found;
  }

  /** Messages a Writer published to a topic, by the server's /stats producers. */
  async pubCount(handle: WriterHandle, topic: string): Promise<number | undefined> {
    const producer = (await this.server.stats()).producers?.find((c) => c.client_id === handle.clientId);
    return producer?.pub_counts?.find((p) => p.topic === topic)?.count;
  }

  async close(): Promise<void> {
    this.closing = true;
    try {
      for (const cleanup of this.cleanups) cleanup();
      for (const handle of this.readers) {
        handle.closedByTest = true;
        handle.reader.close();
      }
      for (const { writer } of this.writers) writer.close();
    } finally {
      await this.server.stop();
    }
  }
}

let active: Harness | null = null;

async function harness(options: Record<string, number> = {}): Promise<Harness> {
  // a fast queue scan keeps timeout and deferral checks tight
  active = new Harness(await startTestServer({ queueScanInterval: 10, ...options }));
  return active;
}

afterEach(async () => {
  const h = active;
  active = null;
  await h?.close();
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

function expectDrained(ch: ChannelStats): void {
  expect(ch.depth).toBe(0);
  expect(ch.in_flight_count).toBe(0);
  expect(ch.deferred_count).toBe(0);
}

describe("nsqjs Writer -> bunsq -> nsqjs Reader", () => {
  test("PUB, MPUB and DPUB with string, Buffer and JSON bodies arrive byte for byte", async () => {
    const h = await harness();
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
    const delayMs = 500;
    const deferSentAt = Date.now();
    await deferPublish(w, topic, "deferred", delayMs);
    expect((await h.channel(topic, "c")).deferred_count).toBe(1);

    await h.waitFor(() => got.length >= 8, "8 messages");
    await h.waitFor(async () => (await h.channel(topic, "c")).in_flight_count === 0, "every FIN applied");
    h.check();
    const ch = await h.channel(topic, "c");
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
    expect(ch.message_count).toBe(8);
    expect(ch.requeue_count).toBe(0);
    expect(ch.timeout_count).toBe(0);
    expect(await h.pubCount(w, topic)).toBe(8);
  });

  test("1,000 messages from several pipelined MPUBs are each received exactly once", async () => {
    const h = await harness();
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

    const done = async () => tally.deliveries >= 1000 && (await h.channel(topic, "c")).in_flight_count === 0;
    await h.waitFor(done, "1,000 messages delivered and FIN'd");
    h.check();
    expect(tally.deliveries).toBe(1000);
    expect(tally.duplicates()).toEqual([]);
    expect(tally.counts.size).toBe(1000);
    for (let i = 0; i < 1000; i++) expect(tally.counts.get(`bulk-${i}`)).toBe(1);

    const ch = await h.channel(topic, "c");
    expectDrained(ch);
    expect(ch.message_count).toBe(1000);
    expect(ch.requeue_count).toBe(0);
    expect(ch.timeout_count).toBe(0);
    const server = await h.subscriber(consumer);
    expect(server.message_count).toBe(1000);
    expect(server.finish_count).toBe(1000);
    expect(await h.pubCount(w, topic)).toBe(1000);
  });
});

describe("nsqjs Reader: REQ, timeouts and TOUCH", () => {
  test("requeue(delay) on the first attempt, finish() on the second", async () => {
    const h = await harness();
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

    await h.waitFor(async () => {
      if (!bodies.every((b) => seen.get(b)?.attempts.length === 2)) return false;
      const ch = await h.channel(topic, "c");
      return ch.in_flight_count === 0 && ch.deferred_count === 0;
    }, "every message requeued once, redelivered and FIN'd");
    h.check();
    for (const body of bodies) {
      const entry = seen.get(body)!;
      expect(entry.attempts).toEqual([1, 2]);
      expect(entry.ids[1]).toBe(entry.ids[0]);
      expect(entry.at[1] - entry.at[0]).toBeGreaterThanOrEqual(delayMs);
    }
    const ch = await h.channel(topic, "c");
    expect(ch.requeue_count).toBe(5);
    expect(ch.timeout_count).toBe(0);
    expectDrained(ch);
    const server = await h.subscriber(consumer);
    expect(server.requeue_count).toBe(5);
    expect(server.finish_count).toBe(5);
    expect(server.in_flight_count).toBe(0);
  });

  test("maxAttempts: immediate requeues until nsqjs discards (and FINs) the message", async () => {
    const h = await harness();
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

    await h.waitFor(
      async () => discarded.length === 1 && (await h.channel(topic, "c")).in_flight_count === 0,
      "discard after 3 attempts",
    );
    h.check();
    const ch = await h.channel(topic, "c");
    expect(attempts).toEqual([1, 2, 3]);
    expect(discarded[0].attempts).toBe(4);
    expect(discarded[0].body.toString()).toBe("doomed");
    expect(ch.requeue_count).toBe(3);
    expect(ch.timeout_count).toBe(0);
    expectDrained(ch);
  });

  test("a message never finished times out (IDENTIFY msg_timeout) and comes back with attempts 2", async () => {
    const h = await harness(); // server default msg timeout is 60 s: the client asks for 1 s
    const topic = "interop_timeout";
    const deliveries: { msg: Message; at: number }[] = [];
    const consumer = await h.reader(topic, "c", { messageTimeout: 1000, maxInFlight: 1 }, (msg) => {
      deliveries.push({ msg, at: Date.now() });
      if (msg.attempts >= 2) msg.finish(); // the first delivery is left to time out
    });
    const w = await h.writer();
    await publish(w, topic, "slow");

    await h.waitFor(() => deliveries.length >= 2, "redelivery after the message timed out");
    expect((await h.channel(topic, "c")).timeout_count).toBeGreaterThan(0);
    await h.waitFor(async () => (await h.channel(topic, "c")).in_flight_count === 0, "FIN of the redelivered message");
    h.check();

    const [first, second] = deliveries;
    expect(deliveries.length).toBe(2);
    expect(first.msg.msgTimeout).toBe(1000); // from the IDENTIFY response
    expect(first.msg.attempts).toBe(1);
    expect(second.msg.attempts).toBe(2);
    expect(second.msg.id).toBe(first.msg.id);
    expect(second.msg.body.toString()).toBe("slow");
    expect(second.at - first.at).toBeGreaterThanOrEqual(900);
    const ch = await h.channel(topic, "c");
    expect(ch.timeout_count).toBe(1);
    expect(ch.requeue_count).toBe(0);
    expectDrained(ch);
    expect((await h.subscriber(consumer)).finish_count).toBe(1);
  });

  test("touch() keeps a message past its timeout (server --msg-timeout) without a timeout", async () => {
    const msgTimeout = 400;
    const h = await harness({ msgTimeout });
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

    await h.waitFor(
      async () => finishedAt > 0 && (await h.channel(topic, "c")).in_flight_count === 0,
      "five touches and a FIN",
    );
    h.check();
    expect(deliveries.length).toBe(1);
    expect(deliveries[0].msgTimeout).toBe(msgTimeout); // the server default, from IDENTIFY
    expect(touches).toBe(5);
    expect(finishedAt - receivedAt).toBeGreaterThanOrEqual(2 * msgTimeout);
    const ch = await h.channel(topic, "c");
    expect(ch.timeout_count).toBe(0);
    expect(ch.requeue_count).toBe(0);
    expectDrained(ch);
  });
});

describe("nsqjs Readers sharing topics and channels", () => {
  test("two Readers on one channel split the messages with no duplicates", async () => {
    const h = await harness();
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

    const done = async () =>
      a.deliveries + b.deliveries >= 200 && (await h.channel(topic, "shared")).in_flight_count === 0;
    await h.waitFor(done, "200 messages between two Readers");
    h.check();
    expect(a.deliveries + b.deliveries).toBe(200);
    expect(a.counts.size).toBeGreaterThan(0);
    expect(b.counts.size).toBeGreaterThan(0);
    expect(a.duplicates()).toEqual([]);
    expect(b.duplicates()).toEqual([]);
    expect([...a.counts.keys()].filter((body) => b.counts.has(body))).toEqual([]);
    expect([...a.counts.keys(), ...b.counts.keys()].sort()).toEqual([...bodies].sort());
    const ch = await h.channel(topic, "shared");
    expect(ch.requeue_count).toBe(0);
    expect(ch.timeout_count).toBe(0);
    expectDrained(ch);
  });

  test("two channels each receive every message", async () => {
    const h = await harness();
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

    const channels = async () => [await h.channel(topic, "left"), await h.channel(topic, "right")] as const;
    await h.waitFor(
      async () =>
        left.deliveries >= 150 && right.deliveries >= 150 && (await channels()).every((c) => c.in_flight_count === 0),
      "150 messages on each channel",
    );
    h.check();
    const [l, r] = await channels();
    for (const [tally, ch] of [
      [left, l],
      [right, r],
    ] as const) {
      expect(tally.deliveries).toBe(150);
      expect(tally.duplicates()).toEqual([]);
      expect([...tally.counts.keys()].sort()).toEqual([...bodies].sort());
      expect(ch.message_count).toBe(150);
      expectDrained(ch);
    }
  });

  test("a closed Reader's in-flight messages go to the next Reader with attempts 2", async () => {
    const h = await harness();
    const topic = "interop_handover";
    const held: Message[] = [];
    const first = await h.reader(topic, "c", { maxInFlight: 3 }, (msg) => held.push(msg)); // never answers
    const w = await h.writer();
    await publish(w, topic, ["h-0", "h-1", "h-2"]);
    await h.waitFor(
      async () => held.length === 3 && (await h.channel(topic, "c")).in_flight_count === 3,
      "3 messages held by the first Reader",
    );

    h.closeReader(first);
    await h.waitFor(
      async () => (await h.findSubscriber(first)) === undefined && (await h.channel(topic, "c")).in_flight_count === 0,
      "the server to drop the closed Reader and take its messages back",
    );
    expect((await h.channel(topic, "c")).requeue_count).toBe(3);

    const again: Message[] = [];
    await h.reader(topic, "c", { maxInFlight: 3 }, (msg) => {
      again.push(msg);
      msg.finish();
    });
    await h.waitFor(
      async () => again.length >= 3 && (await h.channel(topic, "c")).in_flight_count === 0,
      "the 3 messages on the second Reader",
    );
    h.check();
    expect(again.length).toBe(3);
    expect(again.map((m) => m.attempts)).toEqual([2, 2, 2]);
    expect(again.map((m) => m.id).sort()).toEqual(held.map((m) => m.id).sort());
    expect(again.map((m) => m.body.toString()).sort()).toEqual(["h-0", "h-1", "h-2"]);
    const ch = await h.channel(topic, "c");
    expect(ch.timeout_count).toBe(0);
    expectDrained(ch);
  });
});

describe("nsqjs flow control and heartbeats", () => {
  test("maxInFlight N: never more than N unacknowledged messages", async () => {
    const h = await harness();
    const topic = "interop_rdy";
    const N = 7;
    const total = 140;
    let outstanding = 0;
    let peak = 0;
    let serverPeak = 0;
    let delivered = 0;
    const consumer = await h.reader(topic, "c", { maxInFlight: N }, (msg) => {
      delivered++;
      outstanding++;
      peak = Math.max(peak, outstanding);
      setTimeout(() => {
        outstanding--;
        msg.finish();
      }, 1 + (delivered % 4));
    });
    expect((await h.subscriber(consumer)).ready_count).toBe(N);
    const w = await h.writer();
    await publish(w, topic, range(total).map((i) => `rdy-${i}`));

    await h.waitFor(async () => {
      const ch = await h.channel(topic, "c");
      serverPeak = Math.max(serverPeak, ch.in_flight_count);
      return delivered >= total && ch.in_flight_count === 0;
    }, `${total} messages through a window of ${N}`);
    h.check();
    expect(delivered).toBe(total);
    expect(peak).toBe(N); // the window was used in full, and never exceeded
    expect(serverPeak).toBeLessThanOrEqual(N);
    expect((await h.subscriber(consumer)).finish_count).toBe(total);
    expectDrained(await h.channel(topic, "c"));
  });

  test("maxInFlight above the server's --max-rdy-count is capped by the IDENTIFY max_rdy_count", async () => {
    const h = await harness({ maxRdyCount: 3 });
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
    expect((await h.subscriber(consumer)).ready_count).toBe(3);
    const w = await h.writer();
    await publish(w, topic, range(30).map((i) => `cap-${i}`));
    await h.waitFor(
      async () => delivered >= 30 && (await h.channel(topic, "c")).in_flight_count === 0,
      "30 messages with RDY 3",
    );
    h.check();
    expect(delivered).toBe(30);
    expect(peak).toBe(3);
    expectDrained(await h.channel(topic, "c"));
  });

  test(
    "heartbeat_interval 1 s: Reader and Writer answer heartbeats and stay connected",
    async () => {
      const h = await harness();
      const tap = await h.tapConnections();
      const topic = "interop_heartbeat";
      const got: string[] = [];
      const consumer = await h.reader(topic, "c", { heartbeatInterval: 1 }, (msg) => {
        got.push(msg.body.toString());
        msg.finish();
      });
      const w = await h.writer({ heartbeatInterval: 1 });
      const wires = [tap.wire(consumer.clientId), tap.wire(w.clientId)];

      // every _heartbeat_ the server sends is answered with a NOP
      const beats = (wire: Wire) => wire.heartbeatsAt.length;
      await h.waitFor(
        () => wires.every((wire) => beats(wire) >= 3 && occurrences(wire.toServer, "NOP\n") >= beats(wire)),
        "3 heartbeats answered on each connection",
        6000,
      );
      h.check();
      // a second apart, as asked (the server's default is 30 s)
      for (const { heartbeatsAt: at } of wires) {
        for (let i = 1; i < at.length; i++) expect(at[i] - at[i - 1]).toBeGreaterThanOrEqual(900);
      }
      // 3 s with nothing but NOPs from the clients, past the 2 s read deadline: both still connected
      expect((await h.subscriber(consumer)).ready_count).toBeGreaterThan(0);
      await publish(w, topic, "still here");
      await h.waitFor(() => got.length === 1, "a message after the heartbeats");
      expect(got).toEqual(["still here"]);
      expect(await h.pubCount(w, topic)).toBe(1);
    },
    10_000,
  );
});
