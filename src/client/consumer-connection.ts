/** A Consumer's subscription on one nsqd: RDY and in-flight accounting, message answers. */
import * as cmd from "./commands.ts";
import { frameText, type ConnectionHandler, type NsqConnection } from "./connection.ts";
import { Message, type MessageOwner } from "./message.ts";
import { deferred, type Deferred, type TimerHandle } from "./deferred.ts";

/** What a subscription reports to its consumer. */
export interface SubscriptionOwner {
  deliver(message: Message): void;
  answered(sub: Subscription, success: boolean, backoff: boolean): void;
  requeueDelay(message: Message): number;
  closed(sub: Subscription, reason: Error | undefined): void;
  log(level: "debug" | "info" | "warn" | "error", text: string): void;
}

const CLOSE_WAIT = "CLOSE_WAIT";

export class Subscription implements ConnectionHandler, MessageOwner {
  /** The RDY count last sent. */
  rdy = 0;
  /** Messages received and not yet answered. */
  inFlight = 0;
  lastMessageAt = 0;
  lastRdyAt = 0;
  /** nsqd's limit for RDY. */
  readonly maxRdyCount: number;
  /** CLS sent: no new RDY, close once nothing is in flight. */
  closing = false;
  /** nsqd answered CLS: nothing more will arrive. */
  private closeWait = false;
  rdyRetryTimer: TimerHandle | null = null;
  private subscribed: Deferred<void> | null = deferred<void>();

  constructor(
    readonly conn: NsqConnection,
    private readonly owner: SubscriptionOwner,
    /** Found through nsqlookupd (dropped when lookupd stops listing it). */
    readonly discovered: boolean,
  ) {
    // a close before subscribe() is awaited must not count as an unhandled rejection
    this.subscribed!.promise.catch(() => {});
    const max = conn.serverSettings.max_rdy_count;
    this.maxRdyCount = typeof max === "number" && max > 0 ? max : 2500;
    conn.attach(this);
  }

  get address(): string {
    return this.conn.address;
  }

  /** Sends SUB and resolves on nsqd's OK. */
  subscribe(topic: string, channel: string): Promise<void> {
    const pending = this.subscribed;
    if (pending === null) return Promise.reject(new Error(`connection to ${this.address} closed before SUB`));
    this.conn.write(cmd.sub(topic, channel));
    return pending.promise;
  }

  sendRdy(count: number): void {
    this.rdy = count;
    this.lastRdyAt = Date.now();
    this.conn.write(cmd.rdy(count));
  }

  /** Sends CLS; nsqd stops sending and answers CLOSE_WAIT. */
  startClose(): void {
    if (this.closing || this.conn.closed) return;
    this.closing = true;
    this.conn.write(cmd.CLS);
  }

  onMessage(data: Uint8Array): void {
    this.inFlight++;
    this.lastMessageAt = Date.now();
    this.owner.deliver(new Message(data, this));
  }

  finish(message: Message): void {
    this.conn.writeFin(message.idBytes);
    this.inFlight--;
    this.owner.answered(this, true, false);
    if (this.closeWait) this.closeIfIdle();
  }

  requeue(message: Message, delayMs: number, backoff: boolean): void {
    this.conn.writeReq(message.idBytes, delayMs < 0 ? this.owner.requeueDelay(message) : delayMs);
    this.inFlight--;
    this.owner.answered(this, false, backoff);
    if (this.closeWait) this.closeIfIdle();
  }

  touch(message: Message): void {
    this.conn.writeTouch(message.idBytes);
  }

  onResponse(data: Uint8Array): void {
    if (this.subscribed !== null) {
      this.subscribed.resolve();
      this.subscribed = null;
      return;
    }
    if (frameText(data) === CLOSE_WAIT) {
      this.closeWait = true;
      this.closeIfIdle();
    }
  }

  onError(data: Uint8Array): void {
    const text = frameText(data);
    if (this.subscribed !== null) {
      this.subscribed.reject(new Error(`SUB failed on ${this.address}: ${text}`));
      this.subscribed = null;
      return;
    }
    this.owner.log("error", `(${this.address}) error from nsqd: ${text}`);
  }

  onClose(reason: Error | undefined): void {
    if (this.rdyRetryTimer) clearTimeout(this.rdyRetryTimer);
    this.subscribed?.reject(reason ?? new Error(`connection to ${this.address} closed`));
    this.subscribed = null;
    this.owner.closed(this, reason);
  }

  private closeIfIdle(): void {
    if (this.closeWait && this.inFlight <= 0) this.conn.close();
  }
}
