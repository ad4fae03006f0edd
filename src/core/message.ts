import type { HeapItem } from "../ringbuffer/priority-queue.ts";

/**
 * A published message. One instance is shared by every channel of its topic; the
 * body is a view of the bytes it arrived in, never copied.
 */
export class Message {
  constructor(
    /** 53-bit sequence, unique per nsqd; with `node` it forms the wire id. */
    readonly sequence: number,
    readonly node: number,
    /** Publish time in nanoseconds since the epoch (held in a double). */
    readonly timestamp: number,
    readonly body: Uint8Array,
    /** DPUB delay in ms while the message waits in a topic that has no channel yet. */
    readonly deferMs: number,
  ) {}
}

/**
 * What one channel knows about one message it has taken from its topic: attempts,
 * who holds it and until when. Lives in the channel's in-flight or deferred heap
 * (keyed by `priority`, a deadline in ms) or in its requeue queue.
 */
export class Delivery implements HeapItem {
  priority = 0;
  heapIndex = -1;
  attempts = 0;
  deliveredAt = 0;
  consumer: Consumer | null = null;

  constructor(readonly message: Message) {}
}

/** The channel's view of a subscribed client; implemented by the TCP layer. */
export interface Consumer {
  readonly id: number;
  /** Message timeout negotiated by this client, in ms. */
  readonly msgTimeout: number;
  /** 0 for every message, 1-99 to receive roughly that percentage. */
  readonly sampleRate: number;
  /** True while this client can take one more message right now. */
  isReady(): boolean;
  /** Writes the message frame (the delivery is already in flight). */
  send(delivery: Delivery): void;
  /** Bookkeeping for messages that left this client's hands. */
  finished(delivery: Delivery): void;
  requeued(): void;
  timedOut(): void;
  /** The channel was emptied while this client held one of its messages. */
  emptied(): void;
  /** The channel is going away: disconnect. */
  close(): void;
}
