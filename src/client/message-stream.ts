/**
 * The async-iterator side of a Consumer (`for await (const m of consumer.messages())`).
 *
 * Flow control stays RDY's: nsqd never has more than maxInFlight unanswered
 * messages out, and a message counts until the loop is done with it, so at most
 * maxInFlight wait here while the loop is busy; nothing more is sent until it
 * takes them. A message is finished when the loop asks for the next one (unless
 * the loop answered it itself or disabled auto-response). Leaving the loop early
 * (break, return, throw) hands the message in hand and the waiting ones back to
 * nsqd at once (REQ 0, no backoff) and stops the consumer.
 */
import { RingBuffer } from "../ringbuffer/index.ts";
import { deferred, type Deferred } from "./deferred.ts";
import type { Message } from "./message.ts";

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

export class MessageStream implements AsyncIterableIterator<Message, undefined> {
  private readonly waiting = new RingBuffer<Message>();
  /** The message the loop is working on. */
  private current: Message | null = null;
  private reader: Deferred<IteratorResult<Message, undefined>> | null = null;
  private ended = false;
  /** messages() was called (there is one loop per consumer). */
  taken = false;

  constructor(private readonly onLeave: () => void) {}

  /** A message from nsqd. */
  push(message: Message): void {
    if (this.ended) return message.requeue(0, false);
    const reader = this.reader;
    if (reader === null) return this.waiting.push(message);
    this.reader = null;
    this.current = message;
    reader.resolve({ value: message, done: false });
  }

  /** The consumer stopped: the loop ends once it has taken what is waiting. */
  end(): void {
    this.ended = true;
    const reader = this.reader;
    this.reader = null;
    reader?.resolve(DONE);
  }

  next(): Promise<IteratorResult<Message, undefined>> {
    const done = this.current;
    this.current = null;
    if (done !== null && !done.isAutoResponseDisabled) done.finish();
    const message = this.waiting.shift();
    if (message !== undefined) {
      this.current = message;
      return Promise.resolve({ value: message, done: false });
    }
    if (this.ended) return Promise.resolve(DONE);
    this.reader = deferred<IteratorResult<Message, undefined>>();
    return this.reader.promise;
  }

  return(): Promise<IteratorResult<Message, undefined>> {
    this.current?.requeue(0, false);
    this.current = null;
    this.waiting.drain((m) => m.requeue(0, false));
    if (!this.ended) {
      this.end();
      this.onLeave();
    }
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
