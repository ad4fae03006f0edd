/**
 * Consumes a topic's channel from one or more nsqds, found directly or through
 * nsqlookupd, with go-nsq's flow control: `maxInFlight` spread over the
 * connections as RDY counts, redistributed when there are more connections than
 * `maxInFlight`, and exponential backoff that throttles RDY after failures.
 */
import { RingBuffer } from "../ringbuffer/index.ts";
import { isValidChannelName, isValidTopicName } from "../protocol/names.ts";
import { defaultConnectionConfig, validateConnectionConfig, type ConnectionConfig } from "./config.ts";
import { NsqConnection, type ConnectionInfo } from "./connection.ts";
import { Subscription, type SubscriptionOwner } from "./consumer-connection.ts";
import { lookupTopic } from "./lookup.ts";
import type { Message } from "./message.ts";
import { MessageStream } from "./message-stream.ts";
import { deferred, type Deferred, type TimerHandle } from "./deferred.ts";

/** Handles one message. Returning (or resolving) finishes it; throwing (or rejecting) requeues it with backoff. */
export type MessageHandler = (message: Message) => void | Promise<void>;

/** The levels of the lines a Consumer logs (nsqd's LogLevel without "fatal"). */
export type ClientLogLevel = "debug" | "info" | "warn" | "error";

/** Consumer settings, after go-nsq's Config; durations in milliseconds. */
export interface ConsumerConfig extends ConnectionConfig {
  /** Messages in flight at once over all connections. Default 1. */
  maxInFlight: number;
  /** Messages delivered more often than this are given up (finished); 0: never. Default 5. */
  maxAttempts: number;
  /** Requeue delay for a failed message, times its attempts. Default 90 s. */
  defaultRequeueDelay: number;
  /** Cap on that delay. Default 15 min. */
  maxRequeueDelay: number;
  /** Backoff after n consecutive failures lasts multiplier * 2^n. Default 1 s. */
  backoffMultiplier: number;
  /** Cap on a backoff period. Default 2 min. */
  maxBackoffDuration: number;
  /** How often nsqlookupd is asked for the topic's producers. Default 60 s. */
  lookupdPollInterval: number;
  /** Random share of the interval added before the first regular poll (0-1). Default 0.3. */
  lookupdPollJitter: number;
  /** How often RDY is moved between connections when there are more of them than maxInFlight. Default 5 s. */
  rdyRedistributeInterval: number;
  /** A connection that received nothing for this long gives its RDY up for redistribution. Default 10 s. */
  lowRdyIdleTimeout: number;
  /** A connection whose RDY was set this long ago gives it up for redistribution. Default 30 s. */
  lowRdyTimeout: number;
  /** Handler calls running at once (for async handlers; go-nsq's concurrent handlers). Default 1. */
  concurrency: number;
}

export interface ConsumerOptions extends Partial<ConsumerConfig> {
  /** Called for every message. Without one, messages are read with `consumer.messages()`. */
  handler?: MessageHandler;
  /** Called with a message about to be given up after `maxAttempts` (it is then finished). */
  onGiveUp?: (message: Message) => void;
  /** Receives the consumer's log lines (none by default). */
  log?: (level: ClientLogLevel, text: string) => void;
}

export function defaultConsumerConfig(): ConsumerConfig {
  return {
    ...defaultConnectionConfig(),
    maxInFlight: 1,
    maxAttempts: 5,
    defaultRequeueDelay: 90_000,
    maxRequeueDelay: 900_000,
    backoffMultiplier: 1000,
    maxBackoffDuration: 120_000,
    lookupdPollInterval: 60_000,
    lookupdPollJitter: 0.3,
    rdyRedistributeInterval: 5000,
    lowRdyIdleTimeout: 10_000,
    lowRdyTimeout: 30_000,
    concurrency: 1,
  };
}

/** Counters for monitoring and tests. */
export interface ConsumerStats {
  received: number;
  finished: number;
  requeued: number;
  connections: number;
  /** Sum of the RDY counts last sent. */
  totalRdy: number;
  /** Consecutive-failure level; > 0 while backing off. */
  backoffLevel: number;
}

/** Runs a handler on async results without a closure per message. */
async function settle(consumer: Consumer, message: Message, result: Promise<void>): Promise<void> {
  try {
    await result;
    consumer.handlerSucceeded(message);
  } catch (err) {
    consumer.handlerFailed(message, err);
  }
  consumer.handlerDone();
}

/**
 * @example
 * const c = new Consumer("events", "archive", { maxInFlight: 100, handler: (m) => console.log(m.text()) });
 * await c.connectToNsqd("127.0.0.1:4150");   // or connectToNsqlookupd("127.0.0.1:4161")
 * await c.stop();                            // finishes in-flight work first
 */
export class Consumer implements SubscriptionOwner {
  readonly config: ConsumerConfig;
  private readonly handler: MessageHandler;
  /** Without a handler: where messages go for messages(). */
  private readonly stream: MessageStream | null;
  private readonly onGiveUp: ((message: Message) => void) | undefined;
  private readonly logFn: ((level: ClientLogLevel, text: string) => void) | undefined;

  private readonly subs = new Map<string, Subscription>();
  private readonly connecting = new Set<string>();
  private readonly nsqdAddresses = new Set<string>();
  private readonly lookupdAddresses: string[] = [];
  private readonly waiting = new RingBuffer<Message>();
  private running = 0;

  private totalRdy = 0;
  private backoffCounter = 0;
  private backoffTimer: TimerHandle | null = null;
  private needRedistribute = false;
  private readonly rdyTimer: TimerHandle;
  private lookupdTimer: TimerHandle | null = null;
  private readonly reconnectTimers = new Set<TimerHandle>();
  private stopping: Promise<void> | null = null;
  private stopped: Deferred<void> | null = null;
  private counts = { received: 0, finished: 0, requeued: 0 };

  constructor(
    readonly topic: string,
    readonly channel: string,
    options: ConsumerOptions,
  ) {
    if (!isValidTopicName(topic)) throw new Error(`invalid topic name ${JSON.stringify(topic)}`);
    if (!isValidChannelName(channel)) throw new Error(`invalid channel name ${JSON.stringify(channel)}`);
    const { handler, onGiveUp, log, ...config } = options;
    this.config = { ...defaultConsumerConfig(), ...config };
    if (!(this.config.maxInFlight >= 0)) throw new Error("maxInFlight must be >= 0");
    if (!(this.config.concurrency >= 1)) throw new Error("concurrency must be >= 1");
    validateConnectionConfig(this.config);
    this.stream = handler === undefined ? new MessageStream(() => void this.stop()) : null;
    this.handler = handler ?? (() => {});
    this.onGiveUp = onGiveUp;
    this.logFn = log;
    this.rdyTimer = setInterval(() => this.redistributeRdy(), this.config.rdyRedistributeInterval);
    this.rdyTimer.unref();
  }

  /**
   * The messages as an async iterator, for a Consumer created without a handler:
   * `for await (const m of consumer.messages()) { ... }`. A message is finished when
   * the loop moves on to the next one; leaving the loop early requeues what was not
   * done and stops the consumer. At most maxInFlight messages wait for the loop.
   */
  messages(): AsyncIterableIterator<Message, undefined> {
    const stream = this.stream;
    if (stream === null) throw new Error("messages() needs a Consumer created without a handler");
    if (stream.taken) throw new Error("messages() can be iterated once");
    stream.taken = true;
    return stream;
  }

  /** Counters since the consumer was created. */
  stats(): ConsumerStats {
    return {
      ...this.counts,
      connections: this.subs.size,
      totalRdy: this.totalRdy,
      backoffLevel: this.backoffCounter,
    };
  }

  /** Addresses of the nsqds currently subscribed. */
  connectedAddresses(): string[] {
    return [...this.subs.keys()];
  }

  /** What each subscribed connection negotiated (TLS, compression, nsqd's AUTH answer). */
  connections(): ConnectionInfo[] {
    return [...this.subs.values()].map((s) => s.conn.info());
  }

  /**
   * Connects to an nsqd ("host:port") and subscribes. A lost connection is retried
   * every `lookupdPollInterval` until `disconnectFromNsqd` or `stop`.
   */
  async connectToNsqd(address: string): Promise<void> {
    this.assertRunning();
    this.nsqdAddresses.add(address);
    await this.connect(address, false);
  }

  /** Forgets a directly given nsqd and closes its connection. */
  disconnectFromNsqd(address: string): void {
    this.nsqdAddresses.delete(address);
    this.subs.get(address)?.startClose();
  }

  /**
   * Adds an nsqlookupd HTTP address ("host:port" or a URL). Asks it at once, then
   * every `lookupdPollInterval`: connects to producers that appear and closes
   * connections to producers no longer listed.
   */
  async connectToNsqlookupd(address: string): Promise<void> {
    this.assertRunning();
    if (this.lookupdAddresses.includes(address)) return;
    this.lookupdAddresses.push(address);
    if (this.lookupdAddresses.length > 1) return;
    await this.queryLookupds();
    const jitter = Math.random() * this.config.lookupdPollJitter * this.config.lookupdPollInterval;
    this.scheduleLookup(this.config.lookupdPollInterval + jitter);
  }

  /**
   * Stops taking messages (CLS to every nsqd), lets the handler finish what is in
   * flight, then closes. Connections still busy after `timeoutMs` are dropped
   * (nsqd requeues their messages).
   */
  stop(timeoutMs = 30_000): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopped = deferred<void>();
    clearInterval(this.rdyTimer);
    if (this.lookupdTimer) clearTimeout(this.lookupdTimer);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    for (const t of this.reconnectTimers) clearTimeout(t);
    this.reconnectTimers.clear();
    for (const sub of this.subs.values()) sub.startClose();
    this.checkStopped();
    const force = setTimeout(() => {
      for (const sub of this.subs.values()) sub.conn.destroy(new Error("stop timed out"));
    }, timeoutMs);
    this.stopping = this.stopped.promise.finally(() => clearTimeout(force));
    return this.stopping;
  }

  // ---- connections ----

  private assertRunning(): void {
    if (this.stopped) throw new Error("consumer stopped");
  }

  private async connect(address: string, discovered: boolean): Promise<void> {
    if (this.subs.has(address) || this.connecting.has(address)) return;
    this.connecting.add(address);
    let sub: Subscription | null = null;
    try {
      const conn = await NsqConnection.connect(address, this.config);
      sub = new Subscription(conn, this, discovered);
      await sub.subscribe(this.topic, this.channel);
    } catch (err) {
      sub?.conn.destroy();
      throw err;
    } finally {
      this.connecting.delete(address);
    }
    if (this.stopped) {
      sub.conn.close();
      return;
    }
    this.subs.set(address, sub);
    this.log("info", `(${address}) connected`);
    // every connection's share changes with their number
    for (const s of this.subs.values()) this.maybeUpdateRdy(s);
  }

  closed(sub: Subscription, reason: Error | undefined): void {
    if (this.subs.get(sub.address) !== sub) return;
    this.subs.delete(sub.address);
    this.totalRdy -= sub.rdy;
    sub.rdy = 0;
    if (this.stopped) return this.checkStopped();
    this.log("warn", `(${sub.address}) connection closed${reason ? `: ${reason.message}` : ""}`);
    for (const s of this.subs.values()) this.maybeUpdateRdy(s);
    if (sub.discovered) {
      void this.queryLookupds();
    } else if (this.nsqdAddresses.has(sub.address)) {
      this.scheduleReconnect(sub.address);
    }
  }

  private scheduleReconnect(address: string): void {
    const timer = setTimeout(() => {
      this.reconnectTimers.delete(timer);
      if (this.stopped || !this.nsqdAddresses.has(address)) return;
      this.connect(address, false).catch((err: Error) => {
        this.log("warn", `(${address}) reconnect failed: ${err.message}`);
        this.scheduleReconnect(address);
      });
    }, this.config.lookupdPollInterval);
    this.reconnectTimers.add(timer);
  }

  private checkStopped(): void {
    if (!this.stopped || this.subs.size > 0 || this.running > 0) return;
    this.stream?.end();
    this.stopped.resolve();
  }

  // ---- lookupd ----

  private scheduleLookup(delay: number): void {
    this.lookupdTimer = setTimeout(async () => {
      await this.queryLookupds();
      if (!this.stopped) this.scheduleLookup(this.config.lookupdPollInterval);
    }, delay);
  }

  private async queryLookupds(): Promise<void> {
    const answers = await Promise.all(
      this.lookupdAddresses.map((a) => lookupTopic(a, this.topic, this.config.dialTimeout + 5000)),
    );
    if (this.stopped) return;
    const found = new Set<string>();
    for (const list of answers) for (const address of list ?? []) found.add(address);
    for (const address of found) {
      this.connect(address, true).catch((err: Error) => this.log("warn", `(${address}) connect failed: ${err.message}`));
    }
    // only drop a producer when every lookupd answered without it
    if (answers.some((a) => a === null)) return;
    for (const sub of this.subs.values()) {
      if (sub.discovered && !found.has(sub.address)) {
        this.log("info", `(${sub.address}) no longer a producer of ${this.topic}, closing`);
        sub.startClose();
      }
    }
  }

  // ---- messages ----

  deliver(message: Message): void {
    this.counts.received++;
    const max = this.config.maxAttempts;
    if (max > 0 && message.attempts > max) {
      this.log("warn", `message ${message.id} attempted ${message.attempts} times, giving up`);
      this.onGiveUp?.(message);
      message.finish();
      return;
    }
    if (this.stream !== null) return this.stream.push(message);
    if (this.running < this.config.concurrency) this.run(message);
    else this.waiting.push(message);
  }

  private run(message: Message): void {
    this.running++;
    let result: void | Promise<void>;
    try {
      result = this.handler(message);
    } catch (err) {
      this.handlerFailed(message, err);
      this.handlerDone();
      return;
    }
    if (result instanceof Promise) {
      void settle(this, message, result);
      return;
    }
    this.handlerSucceeded(message);
    this.handlerDone();
  }

  /** @internal */
  handlerSucceeded(message: Message): void {
    if (!message.isAutoResponseDisabled) message.finish();
  }

  /** @internal */
  handlerFailed(message: Message, err: unknown): void {
    this.log("warn", `handler failed for message ${message.id}: ${err instanceof Error ? err.message : String(err)}`);
    if (!message.isAutoResponseDisabled) message.requeue(-1, true);
  }

  /** @internal */
  handlerDone(): void {
    this.running--;
    const next = this.waiting.shift();
    if (next !== undefined) this.run(next);
    else if (this.stopped) this.checkStopped();
  }

  requeueDelay(message: Message): number {
    return Math.min(this.config.defaultRequeueDelay * message.attempts, this.config.maxRequeueDelay);
  }

  answered(_sub: Subscription, success: boolean, backoff: boolean): void {
    if (success) {
      this.counts.finished++;
      if (this.backoffCounter > 0) this.backoffSignal(-1);
    } else {
      this.counts.requeued++;
      this.backoffSignal(backoff ? 1 : 0);
    }
  }

  // ---- RDY and backoff ----

  /** Each connection's share of maxInFlight (at least 1). */
  private perConnMaxInFlight(): number {
    const max = this.config.maxInFlight;
    return Math.min(Math.max(1, Math.floor(max / Math.max(1, this.subs.size))), max);
  }

  private maybeUpdateRdy(sub: Subscription): void {
    if (this.backoffCounter > 0 || this.backoffTimer !== null) return;
    this.updateRdy(sub, this.perConnMaxInFlight());
  }

  private updateRdy(sub: Subscription, wanted: number): void {
    if (sub.closing || sub.conn.closed) return;
    let count = Math.min(wanted, sub.maxRdyCount);
    // never exceed maxInFlight in total; a new connection may get part of it
    const possible = this.config.maxInFlight - this.totalRdy + sub.rdy;
    if (possible > 0 && possible < count) count = possible;
    if (possible <= 0 && count > 0) {
      if (sub.rdy === 0 && sub.rdyRetryTimer === null) {
        // retry later so this connection does not starve forever
        sub.rdyRetryTimer = setTimeout(() => {
          sub.rdyRetryTimer = null;
          this.maybeUpdateRdy(sub);
        }, this.config.rdyRedistributeInterval);
      }
      return;
    }
    if (sub.rdyRetryTimer !== null) {
      clearTimeout(sub.rdyRetryTimer);
      sub.rdyRetryTimer = null;
    }
    if (count === sub.rdy && count !== 0) return;
    if (count === 0 && sub.rdy === 0) return;
    this.totalRdy += count - sub.rdy;
    sub.sendRdy(count);
  }

  /** Moves RDY from idle connections to others when they cannot all have some. */
  private redistributeRdy(): void {
    if (this.backoffTimer !== null || this.stopped) return;
    const subs = [...this.subs.values()];
    if (subs.length > this.config.maxInFlight) this.needRedistribute = true;
    if (this.backoffCounter > 0 && subs.length > 1) this.needRedistribute = true;
    if (!this.needRedistribute) return;
    this.needRedistribute = false;
    const now = Date.now();
    for (const sub of subs) {
      if (sub.rdy > 0 && (now - sub.lastMessageAt > this.config.lowRdyIdleTimeout || now - sub.lastRdyAt > this.config.lowRdyTimeout)) {
        this.log("debug", `(${sub.address}) idle, RDY 0 for redistribution`);
        this.updateRdy(sub, 0);
      }
    }
    let available = (this.backoffCounter > 0 ? 1 : this.config.maxInFlight) - this.totalRdy;
    while (subs.length > 0 && available > 0) {
      available--;
      const [sub] = subs.splice(Math.floor(Math.random() * subs.length), 1);
      this.updateRdy(sub!, 1);
    }
  }

  private backoffDuration(level: number): number {
    return this.config.backoffMultiplier * 2 ** level;
  }

  /** +1 failure, -1 success, 0 failure without backoff (go-nsq's backoff, resume, continue). */
  private backoffSignal(signal: -1 | 0 | 1): void {
    if (this.backoffTimer !== null || this.stopped) return;
    let updated = false;
    if (signal < 0 && this.backoffCounter > 0) {
      this.backoffCounter--;
      updated = true;
    } else if (signal > 0 && this.backoffDuration(this.backoffCounter + 1) <= this.config.maxBackoffDuration) {
      this.backoffCounter++;
      updated = true;
    }
    if (this.backoffCounter === 0 && updated) {
      const count = this.perConnMaxInFlight();
      this.log("warn", `exiting backoff, returning all to RDY ${count}`);
      for (const sub of this.subs.values()) this.updateRdy(sub, count);
    } else if (this.backoffCounter > 0) {
      const duration = Math.min(this.backoffDuration(this.backoffCounter), this.config.maxBackoffDuration);
      this.log("warn", `backing off for ${duration}ms (level ${this.backoffCounter}), setting all to RDY 0`);
      for (const sub of this.subs.values()) this.updateRdy(sub, 0);
      this.startBackoffTimer(duration);
    }
  }

  private startBackoffTimer(duration: number): void {
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      if (this.stopped) return;
      // test the waters: one message at a time through one random connection
      const subs = [...this.subs.values()];
      if (subs.length === 0) return this.startBackoffTimer(1000);
      const sub = subs[Math.floor(Math.random() * subs.length)]!;
      this.updateRdy(sub, 1);
    }, duration);
  }

  log(level: ClientLogLevel, text: string): void {
    this.logFn?.(level, text);
  }
}
