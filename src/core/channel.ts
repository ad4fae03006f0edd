import type { DiskQueue, RecoveredRecord } from "../diskqueue/disk-queue.ts";
import { readMessageRecord, writeMessageRecord } from "./message-record.ts";
import { PriorityQueue } from "../ringbuffer/priority-queue.ts";
import { LatencyWindow, latencyResult, type LatencyResult } from "./e2e-latency.ts";
import { InFlightTable } from "./in-flight.ts";
import { RingBuffer } from "../ringbuffer/ring-buffer.ts";
import { isEphemeralName } from "../protocol/names.ts";
import { Delivery, type MessageData, type Subscriber } from "./message.ts";
import { NOT_IN_FLIGHT, NOT_OWNER, Refusal } from "./refusal.ts";
import type { Topic } from "./topic.ts";

/** The consumers a delivery round serves (see Channel.pump). */
const enum Round {
  All,
  Direct,
  Standby,
}

/**
 * A channel reads its topic's shared memory queue by position (`cursor`) and keeps
 * per-message state only for what it has taken out: in flight, deferred, or
 * requeued for another try. What it falls too far behind on waits in its own disk
 * queue, read before the memory queue. Consumers share its messages by RDY credit.
 */
export class Channel {
  readonly ephemeral: boolean;
  paused = false;
  deleted = false;

  /** Absolute position in the topic's queue of the next message for this channel. */
  cursor: number;
  /** Where message_count is counted from. */
  private readonly startPosition: number;

  readonly consumers: Subscriber[] = [];
  private nextConsumer = 0;
  /** Consumers that are standbys (see Subscriber.standby), and where their round robin stands. */
  private standbyCount = 0;
  private nextStandby = 0;
  /** Set by deliverRound: it stopped because no message was left. */
  private outOfMessages = false;

  /** Messages to deliver before new ones: timed out, requeued, or out of deferral. */
  private readonly requeued = new RingBuffer<Delivery>();
  private readonly inFlight = new InFlightTable();
  private readonly deferred = new PriorityQueue<Delivery>();

  requeueCount = 0;
  timeoutCount = 0;
  /** Messages this ephemeral channel lost because it fell behind the memory limit. */
  dropCount = 0;
  /** Messages that reached this channel without passing through the topic's memory queue. */
  private directCount = 0;
  private pumping = false;
  /** A pump is queued for the end of the current task (see schedulePump). */
  private pumpQueued = false;
  /** Created at the first schedulePump() (an idle channel has none). */
  private pumpQueuedNow: (() => void) | null = null;
  /** Null when this channel or its topic is ephemeral: they never touch disk. */
  readonly disk: DiskQueue | null;
  /** Set with --e2e-processing-latency-percentile: FINs are timed. */
  private readonly timesFins: boolean;
  /** End-to-end latencies of finished messages; created at the first timed FIN. */
  private latency: LatencyWindow | null = null;

  constructor(
    readonly name: string,
    readonly topic: Topic,
    startPosition: number,
  ) {
    this.ephemeral = isEphemeralName(name);
    this.cursor = startPosition;
    this.startPosition = startPosition;
    this.disk = this.ephemeral || topic.ephemeral ? null : topic.nsqd.openDiskQueue(`${topic.name}:${name}`);
    this.timesFins = topic.nsqd.options.e2eProcessingLatencyPercentiles.length > 0;
    if (this.disk !== null) this.recover(this.disk.retainReads(this));
  }

  /** Takes back what was held (in flight, requeued, deferred) when the channel last stopped. */
  private recover(records: RecoveredRecord[]): void {
    const now = Date.now();
    for (const r of records) {
      const d = this.fromRecord(r.payload, r.key, r.attempts);
      if (r.dueMs > now) this.defer(d, r.dueMs);
      else this.requeued.push(d);
    }
  }

  private fromRecord(payload: Uint8Array, key: number, attempts: number): Delivery {
    const d = readMessageRecord(payload, this.topic.nsqd.newSequence, this.topic.nsqd.ids.node);
    d.diskKey = key;
    if (attempts >= 0) d.attempts = attempts;
    return d;
  }

  /** The records of this channel's disk queue it holds, for the queue's journal snapshots (HeldRecords). */
  forEachHeld(each: (key: number, dueMs: number, attempts: number) => void): void {
    for (const d of this.inFlight.values()) if (d.diskKey >= 0) each(d.diskKey, 0, d.attempts);
    for (const d of this.requeued) if (d.diskKey >= 0) each(d.diskKey, 0, d.attempts);
    this.deferred.forEach((d) => {
      if (d.diskKey >= 0) each(d.diskKey, d.priority, d.attempts);
    });
  }

  // ---- stats ----

  get depth(): number {
    return this.topic.visibleEnd - this.cursor + this.requeued.length + this.backendDepth;
  }
  /** Messages of this channel on disk (nsqd's backend_depth). */
  get backendDepth(): number {
    return this.disk?.depth ?? 0;
  }
  get inFlightCount(): number {
    return this.inFlight.size;
  }
  get deferredCount(): number {
    return this.deferred.length;
  }
  get messageCount(): number {
    return this.topic.endPosition - this.startPosition + this.directCount;
  }
  /** Messages that left the channel for good (finished, or emptied): what consumers got through. */
  get consumedCount(): number {
    const left = this.messageCount - this.depth - this.inFlight.size - this.deferred.length;
    return left > 0 ? left : 0;
  }
  /** The window of end-to-end latencies; null before the first timed FIN. */
  get latencyWindow(): LatencyWindow | null {
    return this.latency;
  }
  /** nsqd's e2e_processing_latency of this channel. */
  e2eLatency(now = Date.now()): LatencyResult {
    return latencyResult(this.topic.nsqd.options.e2eProcessingLatencyPercentiles, [this.latency], now);
  }

  // ---- consumers ----

  addConsumer(consumer: Subscriber): void {
    this.consumers.push(consumer);
    if (consumer.standby) this.standbyCount++;
  }

  /** Removes a consumer and gives its in-flight messages to the others at once. */
  removeConsumer(consumer: Subscriber): void {
    const i = this.consumers.indexOf(consumer);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    if (consumer.standby) this.standbyCount--;
    if (this.nextConsumer >= this.consumers.length) this.nextConsumer = 0;
    if (this.nextStandby >= this.consumers.length) this.nextStandby = 0;
    if (this.inFlight.size > 0) {
      const held = [...this.inFlight.values()].filter((d) => d.consumer === consumer);
      for (const d of held) {
        this.takeOutOfFlight(d);
        this.requeueCount++;
        this.requeued.push(d);
      }
    }
    if (this.consumers.length === 0 && this.ephemeral) {
      this.topic.deleteChannel(this.name);
      return;
    }
    this.pump();
  }

  // ---- delivery ----

  /**
   * Hands messages to ready consumers, round robin, until none is ready or none is
   * left. Standby consumers get a round of their own, only with what the others
   * were not ready for.
   */
  pump(): void {
    if (this.pumping || this.paused || this.deleted) return;
    if (this.consumers.length === 0) return;
    this.pumping = true;
    const now = Date.now();
    if (this.standbyCount === 0) {
      this.nextConsumer = this.deliverRound(now, this.nextConsumer, Round.All);
    } else {
      this.nextConsumer = this.deliverRound(now, this.nextConsumer, Round.Direct);
      if (!this.outOfMessages) this.nextStandby = this.deliverRound(now, this.nextStandby, Round.Standby);
    }
    this.pumping = false;
    this.topic.release();
  }

  /** One round robin over the consumers of `round`, from `start`; returns where the next one starts. */
  private deliverRound(now: number, start: number, round: Round): number {
    const consumers = this.consumers;
    this.outOfMessages = false;
    let idle = 0;
    let i = start;
    // the length is re-read each turn: a consumer can disconnect while we write to it
    while (idle < consumers.length) {
      if (i >= consumers.length) i = 0;
      const consumer = consumers[i];
      if ((round !== Round.All && consumer.standby !== (round === Round.Standby)) || !consumer.isReady()) {
        idle++;
        i++;
        continue;
      }
      const d = this.next(now);
      if (d === null) {
        this.outOfMessages = true;
        break; // this consumer stays first in line for the next message
      }
      i++;
      idle = 0;
      if (consumer.sampleRate > 0 && Math.random() * 100 >= consumer.sampleRate) {
        this.forget(d); // sampled out: as good as finished
        continue;
      }
      this.startInFlight(d, consumer, now);
      consumer.send(d);
    }
    return i;
  }

  /**
   * Pumps once at the end of the current task instead of now. A consumer's read
   * can carry thousands of FINs; pumping after each cost a Date.now(), a pass over
   * the consumers and a topic release per message.
   */
  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(
      (this.pumpQueuedNow ??= () => {
        this.pumpQueued = false;
        this.pump();
      }),
    );
  }

  /** The next message to deliver, or null. Deferred topic messages are parked here. */
  private next(now: number): Delivery | null {
    if (this.requeued.length > 0) return this.requeued.shift()!;
    const disk = this.disk;
    while (disk !== null && disk.depth > 0) {
      const payload = disk.readNext();
      if (payload === null) break;
      const d = this.fromRecord(payload, disk.lastReadKey, disk.lastReadAttempts);
      if (disk.lastReadRedelivered) d.attempts++; // it was in flight when nsqd stopped
      const due = disk.lastReadDueMs;
      if (due <= now) return d;
      this.defer(d, due);
    }
    const topic = this.topic;
    while (this.cursor < topic.visibleEnd) {
      const m = topic.slotAt(this.cursor++);
      const d = Delivery.of(m);
      if (m.deferMs > 0) {
        this.defer(d, now + m.deferMs);
        continue;
      }
      return d;
    }
    return null;
  }

  private startInFlight(d: Delivery, consumer: Subscriber, now: number): void {
    d.attempts++;
    d.consumer = consumer;
    d.deliveredAt = now;
    d.priority = now + consumer.msgTimeout;
    this.inFlight.add(d, consumer.msgTimeout);
    if (this.inFlight.size === 1) this.topic.nsqd.watchTimeouts(this);
  }

  private takeOutOfFlight(d: Delivery): void {
    this.inFlight.remove(d);
    d.consumer = null;
  }

  private defer(d: Delivery, until: number): void {
    d.priority = until;
    this.deferred.push(d);
    if (this.deferred.length === 1) this.topic.nsqd.watchTimeouts(this);
  }

  // Publishing writes in two steps: write*() puts records in the disk queue inside
  // the store's write unit; once the unit is committed, the matching accept*()
  // updates what is in memory. A unit that fails leaves the channel as it was.

  /** A DPUB while this channel exists, step 1: its record, with its due time, in the disk queue. */
  writeDeferred(message: MessageData, dueMs: number): void {
    if (this.disk !== null) writeMessageRecord(this.disk, message, 0, dueMs);
  }

  /** Step 2 of a DPUB: straight into the deferred set, held on disk until it is finished. */
  acceptDeferred(message: MessageData, dueMs: number): void {
    this.directCount++;
    const d = Delivery.of(message);
    const disk = this.disk;
    if (disk !== null) {
      disk.takeLastWritten();
      d.diskKey = disk.lastWriteKey;
    }
    this.defer(d, dueMs);
  }

  /** A message that did not fit in the topic's memory queue: to disk (ephemeral: dropped). */
  writeOverflow(message: MessageData, dueMs: number): void {
    this.directCount++;
    if (this.disk !== null) writeMessageRecord(this.disk, message, 0, dueMs);
    else this.dropCount++;
  }

  /**
   * Falls behind the memory limit, step 1: writes the messages from the cursor
   * to `position` to disk (ephemeral: nothing to write).
   */
  writeSpill(position: number): void {
    const disk = this.disk;
    if (disk === null) return;
    const topic = this.topic;
    for (let p = this.cursor; p < position; p++) writeMessageRecord(disk, topic.slotAt(p), 0);
  }

  /** Step 2 of a spill: the cursor moves past what is now on disk (ephemeral: dropped). */
  acceptSpill(position: number): void {
    if (this.cursor >= position) return;
    if (this.disk === null) this.dropCount += position - this.cursor;
    this.cursor = position;
  }

  /** A delivery that leaves without a FIN (sampled out): its record is done. */
  private forget(d: Delivery): void {
    if (d.diskKey >= 0) this.disk!.finish(d.diskKey);
  }

  /** Finds a message this consumer holds; a Refusal says why not. */
  private owned(consumer: Subscriber, sequence: number, node: number): Delivery {
    const d = this.inFlight.get(sequence);
    if (d === undefined || d.node !== node) throw new Refusal(NOT_IN_FLIGHT);
    if (d.consumer !== consumer) throw new Refusal(NOT_OWNER);
    return d;
  }

  /** FIN (a Refusal when the consumer does not hold the message). */
  finish(consumer: Subscriber, sequence: number, node: number): void {
    const d = this.owned(consumer, sequence, node);
    this.takeOutOfFlight(d);
    if (d.diskKey >= 0) this.disk!.finish(d.diskKey);
    consumer.finished(d);
    if (this.timesFins) this.recordLatency(d.timestamp);
    this.schedulePump();
  }

  private recordLatency(timestampNs: number): void {
    const now = Date.now();
    this.latency ??= new LatencyWindow(this.topic.nsqd.options.e2eProcessingLatencyWindowTime / 2, now);
    this.latency.record(timestampNs, now);
  }

  /** REQ: back to the front of the line now, or after delayMs (a Refusal when not held). */
  requeue(consumer: Subscriber, sequence: number, node: number, delayMs: number): void {
    const d = this.owned(consumer, sequence, node);
    this.takeOutOfFlight(d);
    this.requeueCount++;
    consumer.requeued();
    const dueMs = delayMs > 0 ? Date.now() + delayMs : 0;
    if (d.diskKey >= 0) this.disk!.requeue(d.diskKey, dueMs, d.attempts);
    if (dueMs > 0) this.defer(d, dueMs);
    else this.requeued.push(d);
    this.schedulePump();
  }

  /** TOUCH: restarts the message's timeout, never past max-msg-timeout after delivery (a Refusal when not held). */
  touch(consumer: Subscriber, sequence: number, node: number, maxMsgTimeout: number): void {
    const d = this.owned(consumer, sequence, node);
    const deadline = Math.min(Date.now() + consumer.msgTimeout, d.deliveredAt + maxMsgTimeout);
    this.inFlight.touch(d, deadline, consumer.msgTimeout);
  }

  /**
   * Called by the nsqd's scan timer: requeues timed-out messages and releases
   * deferred ones whose time has come. Returns false when nothing is left to watch.
   */
  processTimeouts(now: number): boolean {
    let moved = false;
    let d: Delivery | undefined;
    while ((d = this.inFlight.popIfDue(now)) !== undefined) {
      const consumer = d.consumer!;
      d.consumer = null;
      this.timeoutCount++;
      if (d.diskKey >= 0) this.disk!.requeue(d.diskKey, 0, d.attempts); // keeps the attempts across a restart
      consumer.timedOut();
      this.requeued.push(d);
      moved = true;
    }
    while ((d = this.deferred.popIfDue(now)) !== undefined) {
      this.requeued.push(d);
      moved = true;
    }
    if (moved) this.pump();
    this.inFlight.compact();
    return this.inFlight.size > 0 || this.deferred.length > 0;
  }

  // ---- administration ----

  pause(): void {
    this.paused = true;
    this.topic.nsqd.metadataChanged();
  }

  unpause(): void {
    this.paused = false;
    this.topic.nsqd.metadataChanged();
    this.pump();
  }

  /** Drops every message this channel holds or has yet to read (nsqd's channel empty). */
  empty(): void {
    for (const d of this.inFlight.values()) d.consumer?.emptied();
    this.inFlight.clear();
    this.deferred.clear();
    this.requeued.clear();
    this.cursor = this.topic.visibleEnd;
    this.disk?.empty();
    this.topic.release();
  }

  /**
   * Shutdown: writes what this channel holds only in memory (in flight,
   * deferred with its due time, requeued, and its unread part of the topic's
   * memory queue) to its disk queue. What came from the disk queue is still
   * there: the queue's journal snapshot at close() keeps its state.
   */
  persist(): void {
    const disk = this.disk;
    if (disk === null) return;
    for (const d of this.inFlight.values()) if (d.diskKey < 0) writeMessageRecord(disk, d, d.attempts);
    for (const d of this.requeued) if (d.diskKey < 0) writeMessageRecord(disk, d, d.attempts);
    this.deferred.forEach((d) => {
      if (d.diskKey < 0) writeMessageRecord(disk, d, d.attempts, d.priority);
    });
    this.writeSpill(this.topic.visibleEnd);
    this.acceptSpill(this.topic.visibleEnd);
  }

  /** Closes consumers and forgets everything; `deleteData` also removes its disk queue. */
  close(deleteData: boolean): void {
    this.deleted = true;
    for (const consumer of this.consumers.slice()) consumer.close();
    this.consumers.length = 0;
    this.standbyCount = 0;
    // the queue's close() snapshots what is held, so it goes before the held sets are cleared
    if (this.disk !== null) this.topic.nsqd.closeDiskQueue(this.disk, deleteData);
    this.inFlight.clear();
    this.deferred.clear();
    this.requeued.clear();
  }
}
