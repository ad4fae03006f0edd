/** Publishes to one nsqd over one pipelined TCP connection. */
import { RingBuffer } from "../ringbuffer/index.ts";
import * as cmd from "./commands.ts";
import { defaultConnectionConfig, validateConnectionConfig, type ConnectionConfig } from "./config.ts";
import { frameText, NsqConnection, type ConnectionHandler, type ConnectionInfo } from "./connection.ts";
import { deferred, type Deferred } from "./deferred.ts";

export type ProducerConfig = ConnectionConfig;

/** An error frame nsqd sent in answer to a publish, e.g. `E_BAD_TOPIC`. */
export class PublishError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = "PublishError";
  }
}

interface Pending {
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * A publisher bound to one nsqd. Every publish returns a promise settled by nsqd's
 * answer; publishes are pipelined (written without waiting) and nsqd answers them
 * in order, so answers are matched first in, first out. The connection is made on
 * the first publish (or `connect()`) and made again on the next publish after it
 * was lost; publishes in flight when it is lost are rejected.
 *
 * @example
 * const p = new Producer("127.0.0.1:4150");
 * await p.publish("events", "hello");
 * await p.stop();
 */
export class Producer implements ConnectionHandler {
  readonly config: ProducerConfig;
  private conn: NsqConnection | null = null;
  private connecting: Promise<NsqConnection> | null = null;
  private readonly pending = new RingBuffer<Pending>();
  private stopped = false;
  /** Resolved when the last publish in flight is answered (set by stop()). */
  private drained: Deferred<void> | null = null;

  /** @param address nsqd's TCP address, "host:port". */
  constructor(
    readonly address: string,
    config: Partial<ProducerConfig> = {},
  ) {
    this.config = { ...defaultConnectionConfig(), ...config };
    validateConnectionConfig(this.config);
  }

  /** What the current connection negotiated (TLS, compression, nsqd's AUTH answer), or null while not connected. */
  connectionInfo(): ConnectionInfo | null {
    return this.conn?.info() ?? null;
  }

  /** Publishes still waiting for nsqd's answer. */
  get inFlight(): number {
    return this.pending.length;
  }

  /** Connects now instead of on the first publish. */
  async connect(): Promise<void> {
    await this.connection();
  }

  /** PUB: resolves when nsqd has accepted the message. */
  publish(topic: string, body: cmd.Body): Promise<void> {
    return this.send(cmd.pub(topic, body));
  }

  /** MPUB: several messages in one command, accepted or refused together. */
  multiPublish(topic: string, bodies: readonly cmd.Body[]): Promise<void> {
    return this.send(cmd.mpub(topic, bodies));
  }

  /** DPUB: a message nsqd delivers after `delayMs`. */
  deferredPublish(topic: string, delayMs: number, body: cmd.Body): Promise<void> {
    return this.send(cmd.dpub(topic, delayMs, body));
  }

  /** Waits for the answers to publishes in flight, then closes. Later publishes fail. */
  async stop(): Promise<void> {
    this.stopped = true;
    const conn = this.conn ?? (await this.connecting?.catch(() => null)) ?? null;
    if (this.pending.length > 0) {
      this.drained = deferred<void>();
      await this.drained.promise;
    }
    conn?.close();
  }

  private send(frame: Uint8Array): Promise<void> {
    if (this.stopped) return Promise.reject(new Error("producer stopped"));
    const conn = this.conn;
    if (conn !== null) return this.enqueue(conn, frame);
    return this.connection().then((c) => this.enqueue(c, frame));
  }

  private enqueue(conn: NsqConnection, frame: Uint8Array): Promise<void> {
    const { promise, resolve, reject } = deferred<void>();
    this.pending.push({ resolve, reject });
    conn.write(frame);
    return promise;
  }

  private connection(): Promise<NsqConnection> {
    if (this.conn !== null) return Promise.resolve(this.conn);
    this.connecting ??= NsqConnection.connect(this.address, this.config).then(
      (conn) => {
        this.connecting = null;
        this.conn = conn;
        conn.attach(this);
        return conn;
      },
      (err: Error) => {
        this.connecting = null;
        throw err;
      },
    );
    return this.connecting;
  }

  /** @internal */
  onResponse(): void {
    this.pending.shift()?.resolve();
    if (this.drained !== null && this.pending.length === 0) this.drained.resolve();
  }

  /** @internal */
  onError(data: Uint8Array): void {
    const text = frameText(data);
    const space = text.indexOf(" ");
    this.pending.shift()?.reject(new PublishError(space < 0 ? text : text.slice(0, space), text));
    if (this.drained !== null && this.pending.length === 0) this.drained.resolve();
  }

  /** @internal */
  onMessage(): void {}

  /** @internal */
  onClose(reason: Error | undefined): void {
    this.conn = null;
    const err = new Error(`connection to ${this.address} lost${reason ? `: ${reason.message}` : ""}`);
    this.pending.drain((p) => p.reject(err));
    this.drained?.resolve();
  }
}
