import type { Channel } from "../../src/core/channel.ts";
import type { Delivery, Subscriber } from "../../src/core/message.ts";
import { Refusal } from "../../src/core/refusal.ts";
import type { ClientStats } from "../../src/schemas/nsqd-stats.ts";

const decoder = new TextDecoder();

/** A message as a fake consumer received it. */
export interface Received {
  body: string;
  attempts: number;
  sequence: number;
  node: number;
}

/**
 * A subscriber of a channel in this process, without sockets: it takes up to
 * `rdy` messages at a time and keeps what it received for the test to answer.
 */
export class FakeConsumer implements Subscriber {
  private static nextId = 1;
  readonly id = FakeConsumer.nextId++;
  readonly sampleRate = 0;
  rdy: number;
  inFlight = 0;
  readonly received: Received[] = [];
  finishedCount = 0;
  requeuedCount = 0;
  timedOutCount = 0;
  closed = false;

  constructor(
    readonly channel: Channel,
    rdy = 1000,
    readonly msgTimeout = 60_000,
    readonly standby = false,
  ) {
    this.rdy = rdy;
    channel.addConsumer(this);
  }

  isReady(): boolean {
    return !this.closed && this.inFlight < this.rdy;
  }

  send(d: Delivery): void {
    this.inFlight++;
    this.received.push({
      body: decoder.decode(d.source.subarray(d.offset, d.offset + d.length)),
      attempts: d.attempts,
      sequence: d.sequence,
      node: d.node,
    });
  }

  finished(): void {
    this.inFlight--;
    this.finishedCount++;
  }

  requeued(): void {
    this.inFlight--;
    this.requeuedCount++;
  }

  timedOut(): void {
    this.inFlight--;
    this.timedOutCount++;
  }

  emptied(): void {
    this.inFlight--;
  }

  close(): void {
    this.closed = true;
  }

  stats(): ClientStats {
    return {
      client_id: `fake-${this.id}`,
      hostname: "fake",
      version: "V2",
      remote_address: "in-process",
      state: this.closed ? 1 : 3,
      ready_count: this.rdy,
      in_flight_count: this.inFlight,
      message_count: this.received.length,
      finish_count: this.finishedCount,
      requeue_count: this.requeuedCount,
      connect_ts: 0,
      sample_rate: 0,
      deflate: false,
      snappy: false,
      user_agent: "",
      tls: false,
      tls_cipher_suite: "",
      tls_version: "",
      tls_negotiated_protocol: "",
      tls_negotiated_protocol_is_mutual: false,
    };
  }

  /** FINs every message received so far that is still in flight; returns their bodies. */
  finishAll(): string[] {
    const bodies: string[] = [];
    for (const m of this.received) {
      try {
        this.channel.finish(this, m.sequence, m.node);
        bodies.push(m.body);
      } catch (err) {
        if (!(err instanceof Refusal)) throw err; // finished already
      }
    }
    return bodies;
  }

  /** Takes and FINs messages until the channel has none left to give; returns every body received. */
  drain(): string[] {
    for (;;) {
      const before = this.received.length;
      this.channel.pump();
      this.finishAll();
      if (this.received.length === before) return this.received.map((m) => m.body);
    }
  }
}
