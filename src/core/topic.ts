import type { DiskQueue } from "../diskqueue/disk-queue.ts";
import { readMessageRecord, writeMessageRecord } from "../diskqueue/message-record.ts";
import { MessageRing } from "../ringbuffer/message-ring.ts";
import { isEphemeralName } from "../protocol/names.ts";
import { Channel } from "./channel.ts";
import { MessageSlot, type MessageData } from "./message.ts";
import type { NSQD } from "./nsqd.ts";

/** Why a publish was refused; the TCP and HTTP layers add their own error codes. */
export class PublishError extends Error {}

/** Records moved from the topic's disk queue to its channels per event-loop turn. */
const DRAIN_BATCH = 1000;

/**
 * A topic owns the shared memory queue: each message is stored once and every
 * channel reads it by position. Positions are absolute (they only grow); the queue
 * holds the messages from the slowest channel's position to `endPosition`, at most
 * --mem-queue-size of them. A channel that falls further behind spills its oldest
 * messages to its own disk queue. The topic's own disk queue holds what it keeps
 * while it has no channel (or is paused) and memory is full.
 */
export class Topic {
  readonly ephemeral: boolean;
  paused = false;
  deleted = false;
  /**
   * Channel discovery is running (see beginDiscovery): the topic holds every
   * message as if it had no channel, and its channels start at the held base.
   */
  discovering = false;

  private readonly queue = new MessageRing();
  /** Hands a queued message to the disk writers without allocating. */
  private readonly slot = new MessageSlot();
  /** Absolute position of queue.at(0). */
  private basePosition = 0;
  /** While paused, channels see only what was published before the pause. */
  private pausedAt = 0;
  /** Null for ephemeral topics, which never touch disk. */
  readonly disk: DiskQueue | null;
  private drainScheduled = false;
  private readonly drainNow = () => this.drain();

  readonly channels = new Map<string, Channel>();
  private channelList: Channel[] = [];

  messageCount = 0;
  messageBytes = 0;
  /** Messages an ephemeral topic dropped because its memory queue was full. */
  dropCount = 0;

  constructor(
    readonly name: string,
    readonly nsqd: NSQD,
  ) {
    this.ephemeral = isEphemeralName(name);
    this.disk = this.ephemeral ? null : nsqd.openDiskQueue(name);
  }

  get endPosition(): number {
    return this.basePosition + this.queue.length;
  }

  /** End of what channels may read: everything, or what came before a pause. */
  get visibleEnd(): number {
    if (this.discovering) return this.basePosition;
    return this.paused ? this.pausedAt : this.basePosition + this.queue.length;
  }

  /** Messages of this topic on disk (nsqd's backend_depth). */
  get backendDepth(): number {
    return this.disk?.depth ?? 0;
  }

  /** Messages waiting in the topic itself (nsqd reports these as the topic's depth). */
  get depth(): number {
    const inMemory = this.channelList.length === 0 ? this.queue.length : this.endPosition - this.visibleEnd;
    return inMemory + this.backendDepth;
  }

  /**
   * The queued message at `position`, in a slot that the next call reuses (its
   * `deferMs` tells a DPUB held before the topic had a channel).
   */
  slotAt(position: number): MessageSlot {
    this.queue.read(position - this.basePosition, this.slot);
    return this.slot;
  }

  private get memoryLimit(): number {
    return this.nsqd.options.memQueueSize;
  }

  // ---- publishing ----

  /**
   * Stores `count` messages whose bodies are ranges of `source` (`spans` holds an
   * offset and a length per message) and hands them to the channels. The topic
   * keeps `source`: the caller must not reuse it. Returns false when an ephemeral
   * topic had to drop them (as nsqd, the publisher still gets OK); throws
   * PublishError when they cannot be stored.
   */
  publish(source: Uint8Array, spans: readonly number[], count: number, deferMs: number): boolean {
    if (this.deleted) throw new PublishError("exiting");
    const nsqd = this.nsqd;
    const nowMs = Date.now();
    const timestamp = nsqd.clock.nowNs();
    const node = nsqd.ids.node;
    const channels = this.channelList;
    const direct = deferMs > 0 && channels.length > 0 && !this.paused && !this.discovering;
    const holding = channels.length === 0 || this.paused || this.discovering || this.backendDepth > 0;
    if (!direct && holding && !this.canHold(count)) {
      this.dropCount += count;
      return false;
    }
    const toMemory = direct || (holding ? this.holdsInMemory(count) : this.makeRoom(count));
    let bytes = 0;
    const slot = this.slot;
    slot.node = node;
    slot.timestamp = timestamp;
    slot.source = source;
    for (let i = 0; i < count; i++) {
      const offset = spans[2 * i];
      const length = spans[2 * i + 1];
      const sequence = nsqd.ids.next(nowMs);
      bytes += length;
      if (toMemory && !direct) {
        this.queue.push(sequence, node, timestamp, deferMs, source, offset, length);
        continue;
      }
      slot.sequence = sequence;
      slot.offset = offset;
      slot.length = length;
      if (direct) {
        for (let c = 0; c < channels.length; c++) channels[c].putDeferred(slot, nowMs + deferMs);
      } else if (holding) {
        writeMessageRecord(this.disk!, slot, 0);
      } else {
        for (let c = 0; c < channels.length; c++) channels[c].overflow(slot);
      }
    }
    slot.forget();
    // written to disk now, not at the turn's barrier: a failed write must fail this publish
    if (!toMemory) this.writeToDisk();
    this.messageCount += count;
    this.messageBytes += bytes;
    if (holding) this.scheduleDrain();
    else if (!direct) for (let c = 0; c < channels.length; c++) channels[c].pump();
    return true;
  }

  /** Without channels (or paused) the topic keeps messages itself: in memory, else on disk. */
  private canHold(count: number): boolean {
    return this.disk !== null || this.holdsInMemory(count);
  }

  private holdsInMemory(count: number): boolean {
    if (this.backendDepth > 0) return false; // keep order: memory only refills once disk is drained
    if (this.queue.length + count <= this.memoryLimit) return true;
    this.release();
    return this.queue.length + count <= this.memoryLimit;
  }

  /**
   * Ensures the memory queue can take `count` more messages: lets go of what every
   * channel has read, then makes the channels furthest behind move their oldest
   * messages to disk (ephemeral ones drop them). False only when `count` exceeds
   * the memory limit itself (e.g. --mem-queue-size=0).
   */
  private makeRoom(count: number): boolean {
    const limit = this.memoryLimit;
    if (this.queue.length + count <= limit) return true;
    this.release();
    if (this.queue.length + count <= limit) return true;
    if (count > limit) return false;
    const keepFrom = this.basePosition + (this.queue.length + count - limit);
    const channels = this.channelList;
    const cursors = channels.map((c) => c.cursor);
    for (const channel of channels) channel.spillUntil(keepFrom);
    try {
      this.writeToDisk();
    } catch (err) {
      // nothing was spilled after all: the messages are still in memory
      for (let c = 0; c < channels.length; c++) channels[c].cursor = cursors[c];
      throw err;
    }
    this.release();
    return true;
  }

  /** Writes what publishing buffered for the disk queues; a failure refuses the publish. */
  private writeToDisk(): void {
    try {
      this.nsqd.store.writePending();
    } catch (err) {
      throw new PublishError(`disk write failed - ${(err as Error).message}`);
    }
  }

  /** Frees the messages every channel has read. Without channels the topic keeps all. */
  release(): void {
    const channels = this.channelList;
    if (channels.length === 0) return;
    let min = channels[0].cursor;
    for (let c = 1; c < channels.length; c++) if (channels[c].cursor < min) min = channels[c].cursor;
    this.dropUntil(min);
    if (this.backendDepth > 0) this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.backendDepth === 0 || this.channelList.length === 0 || this.paused || this.discovering) {
      return;
    }
    this.drainScheduled = true;
    setImmediate(this.drainNow);
  }

  /**
   * Moves messages from the topic's disk queue to its channels, a batch per turn:
   * into memory while there is room, or (--mem-queue-size=0) to each channel's disk.
   */
  private drain(): void {
    this.drainScheduled = false;
    const disk = this.disk;
    if (disk === null || this.deleted || this.paused || this.discovering || this.channelList.length === 0) return;
    const limit = this.memoryLimit;
    let moved = 0;
    while (moved < DRAIN_BATCH && disk.depth > 0) {
      // memory full: the channels furthest behind move their oldest messages to their own
      // disks, as when publishing; waiting for them instead would starve the channels that read
      if (limit > 0 && this.queue.length >= limit && !this.spillForDrain()) break;
      const payload = disk.readNext();
      if (payload === null) break;
      const m = readMessageRecord(payload, this.nsqd.newSequence, this.nsqd.ids.node);
      moved++;
      if (limit > 0) {
        this.enqueue(m);
        continue;
      }
      try {
        for (const channel of this.channelList) channel.overflow(m);
        this.nsqd.store.writePending();
      } catch {
        // the channels' disks refused it: keep it in memory rather than lose it, and pause draining
        this.enqueue(m);
        break;
      }
    }
    for (const channel of this.channelList) channel.pump();
    if (moved === DRAIN_BATCH) this.scheduleDrain();
  }

  /** makeRoom for one drained message; false (logged) when a channel's disk refused the spill. */
  private spillForDrain(): boolean {
    try {
      return this.makeRoom(1);
    } catch (err) {
      this.nsqd.logger.error(`TOPIC(${this.name}): ${(err as Error).message}`);
      return false;
    }
  }

  private enqueue(m: MessageData): void {
    this.queue.push(m.sequence, m.node, m.timestamp, 0, m.source, m.offset, m.length);
  }

  // ---- channels ----

  getChannel(name: string): Channel {
    let channel = this.channels.get(name);
    if (channel !== undefined) return channel;
    // the first channel takes over what the topic held; later ones start at the end,
    // except during discovery, when every channel gets all of it
    const start = this.channelList.length === 0 || this.discovering ? this.basePosition : this.endPosition;
    channel = new Channel(name, this, start);
    this.channels.set(name, channel);
    this.channelList = [...this.channels.values()];
    this.nsqd.notify("channel-created", this, channel);
    this.scheduleDrain();
    return channel;
  }

  getExistingChannel(name: string): Channel | undefined {
    return this.channels.get(name);
  }

  deleteChannel(name: string): boolean {
    const channel = this.channels.get(name);
    if (channel === undefined) return false;
    this.channels.delete(name);
    this.channelList = [...this.channels.values()];
    channel.close(true);
    if (this.channelList.length > 0) this.release();
    else this.dropUntil(this.visibleEnd); // what the last channel had not read went with it
    this.nsqd.notify("channel-deleted", this, channel);
    if (this.channelList.length === 0 && this.ephemeral) this.nsqd.deleteTopic(this.name);
    return true;
  }

  // ---- channel discovery ----
  // A new topic asks the cluster (nsqlookupd) which channels it has elsewhere, so
  // that its first messages reach every one of them. Publishing does not wait for
  // the answer: until endDiscovery the topic holds messages as it does without
  // channels (memory, then its own disk queue), and each channel created meanwhile
  // (by a SUB, or by endDiscovery) starts at the held base. Delivery starts at the end.

  /** Starts holding; called right after creation, before the first publish. */
  beginDiscovery(): void {
    this.discovering = true;
  }

  /** Creates the channels found (names already checked) and starts delivering to all channels. */
  endDiscovery(channelNames: readonly string[]): void {
    if (!this.discovering || this.deleted) return;
    try {
      for (const name of channelNames) this.getChannel(name);
    } finally {
      // whatever happened, the topic must not hold its messages for ever
      this.discovering = false;
      for (const channel of this.channelList) channel.pump();
      this.scheduleDrain();
    }
  }

  // ---- administration ----

  pause(): void {
    if (this.paused) return;
    this.pausedAt = this.endPosition;
    this.paused = true;
    this.nsqd.metadataChanged();
  }

  unpause(): void {
    if (!this.paused) return;
    this.paused = false;
    this.nsqd.metadataChanged();
    for (const channel of this.channelList) channel.pump();
    this.scheduleDrain();
  }

  /** Drops the messages waiting in the topic itself (not those channels already hold). */
  empty(): void {
    if (this.channelList.length === 0) this.dropUntil(this.endPosition);
    else while (this.endPosition > this.visibleEnd) this.queue.pop();
    this.disk?.empty();
  }

  private dropUntil(position: number): void {
    while (this.basePosition < position) {
      this.queue.shift();
      this.basePosition++;
    }
  }

  /**
   * Shutdown: every channel writes what it holds to its disk queue, and the topic
   * writes the messages no channel has seen yet to its own.
   */
  persist(): void {
    for (const channel of this.channelList) channel.persist();
    const disk = this.disk;
    if (disk === null) return;
    const from = this.channelList.length === 0 ? this.basePosition : this.visibleEnd;
    for (let p = from; p < this.endPosition; p++) writeMessageRecord(disk, this.slotAt(p), 0);
  }

  /** Stops everything; `deleteData` also removes the disk queues (topic deleted). */
  close(deleteData: boolean): void {
    this.deleted = true;
    for (const channel of this.channelList) channel.close(deleteData);
    this.channels.clear();
    this.channelList = [];
    this.queue.clear();
    if (this.disk !== null) this.nsqd.closeDiskQueue(this.disk, deleteData);
  }
}
