/** A message received by a Consumer, with the commands that answer it. */
import { MESSAGE_HEADER_SIZE, readUint64BE } from "../protocol/frames.ts";

/** What a message reports its answer to (one per nsqd connection). */
export interface MessageOwner {
  finish(message: Message): void;
  requeue(message: Message, delayMs: number, backoff: boolean): void;
  touch(message: Message): void;
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

export class Message {
  /** The 16 id bytes as nsqd sent them. */
  readonly idBytes: Uint8Array;
  /** The message body (a view of the received bytes). */
  readonly body: Uint8Array;
  /** Delivery attempts so far, this one included. */
  readonly attempts: number;
  /** When nsqd accepted the message, in nanoseconds since the epoch. */
  readonly timestamp: number;
  private responded = false;
  private autoResponse = true;

  /** @internal `data` is a message frame's payload. */
  constructor(
    data: Uint8Array,
    private readonly owner: MessageOwner,
  ) {
    this.timestamp = readUint64BE(data, 0);
    this.attempts = (data[8] << 8) | data[9];
    this.idBytes = data.subarray(10, MESSAGE_HEADER_SIZE);
    this.body = data.subarray(MESSAGE_HEADER_SIZE);
  }

  /** The id as the 16-character string nsqd uses. */
  get id(): string {
    return latin1.decode(this.idBytes);
  }

  /** The body decoded as UTF-8. */
  text(): string {
    return utf8.decode(this.body);
  }

  /** True once FIN or REQ was sent for this message. */
  get hasResponded(): boolean {
    return this.responded;
  }

  /** Keeps the consumer from sending FIN/REQ after the handler: the handler answers itself. */
  disableAutoResponse(): void {
    this.autoResponse = false;
  }

  get isAutoResponseDisabled(): boolean {
    return !this.autoResponse;
  }

  /** FIN: the message is done. Ignored when already answered. */
  finish(): void {
    if (this.responded) return;
    this.responded = true;
    this.owner.finish(this);
  }

  /**
   * REQ: hand the message back to nsqd, delivered again after `delayMs`
   * (-1: the consumer's default delay times the attempts, capped at its maximum).
   * `backoff` makes the consumer slow down as for a failed handler.
   */
  requeue(delayMs = -1, backoff = true): void {
    if (this.responded) return;
    this.responded = true;
    this.owner.requeue(this, delayMs, backoff);
  }

  /** TOUCH: restart nsqd's in-flight timeout for this message, for long work. */
  touch(): void {
    if (!this.responded) this.owner.touch(this);
  }
}
