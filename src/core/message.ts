import type { HeapItem } from "../ringbuffer/priority-queue.ts";
import type { StatsReporter } from "./stats.ts";

/**
 * The fields of one message. Its body is bytes [offset, offset + length) of
 * `source`, the array it arrived in: never copied on the way in, and copied once
 * on the way out (into a frame or a disk record).
 */
export interface MessageData {
  /** 53-bit sequence, unique per nsqd; with `node` it forms the wire id. */
  readonly sequence: number;
  readonly node: number;
  /** Publish time in nanoseconds since the epoch (held in a double). */
  readonly timestamp: number;
  readonly source: Uint8Array;
  readonly offset: number;
  readonly length: number;
}

/**
 * One message a channel has taken from its topic, with what the channel knows
 * about it: attempts, who holds it and until when (`priority`, a deadline in
 * ms). Lives in the channel's in-flight table, its deferred heap or its requeue
 * queue.
 */
export class Delivery implements MessageData, HeapItem {
  priority = 0;
  heapIndex = -1;
  attempts = 0;
  deliveredAt = 0;
  /** Where the message's record is in its channel's disk queue (see DiskQueue keys), or -1: in memory only. */
  diskKey = -1;
  consumer: Subscriber | null = null;
  /** Neighbours in the channel's in-flight deadline list (see InFlightTable). */
  prev: Delivery | null = null;
  next: Delivery | null = null;

  constructor(
    readonly sequence: number,
    readonly node: number,
    readonly timestamp: number,
    readonly source: Uint8Array,
    readonly offset: number,
    readonly length: number,
  ) {}

  static of(m: MessageData): Delivery {
    return new Delivery(m.sequence, m.node, m.timestamp, m.source, m.offset, m.length);
  }
}

/** A reusable MessageData for passing a queued message on without allocating. */
export class MessageSlot implements MessageData {
  sequence = 0;
  node = 0;
  timestamp = 0;
  /** DPUB delay of a message held by a topic without channels (ms; 0 for most). */
  deferMs = 0;
  source: Uint8Array = EMPTY;
  offset = 0;
  length = 0;

  /** Lets go of the last source, so an idle topic does not keep its bytes alive. */
  forget(): void {
    this.source = EMPTY;
  }
}

const EMPTY = new Uint8Array(0);

/** The channel's view of a subscribed client, which reports its own stats; implemented by the TCP layer. */
export interface Subscriber extends StatsReporter {
  readonly id: number;
  /** Message timeout negotiated by this client, in ms. */
  readonly msgTimeout: number;
  /** 0 for every message, 1-99 to receive roughly that percentage. */
  readonly sampleRate: number;
  /**
   * A standby takes a message only when no other consumer of the channel is ready
   * for it (the relay link of a sibling worker: a message its own worker's
   * subscribers can take then needs no extra hop). Fixed before it subscribes.
   */
  readonly standby: boolean;
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
