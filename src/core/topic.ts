import type { DiskQueue } from "../diskqueue/disk-queue.ts";
import { readMessageRecord, writeMessageRecord } from "./message-record.ts";
import { MessageRing } from "../ringbuffer/message-ring.ts";
import { isEphemeralName } from "../protocol/names.ts";
import { Channel } from "./channel.ts";
import { Refusal } from "./refusal.ts";
import { latencyResult, type LatencyResult, type LatencyWindow } from "./e2e-latency.ts";
import { Delivery, MessageSlot, type MessageData } from "./message.ts";
import type { NSQD } from "./nsqd.ts";


/** Records moved from the topic's disk queue to its channels per event-loop turn. */
const DRAIN_BATCH = 1000;

/** Where a publish stores its messages (see Topic.publish). */
const enum Route {
  Memory,
  TopicDisk,
  ChannelDisks,
  ChannelsDeferred,
}

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
  /** Created at the first scheduleDrain() (an idle topic has none). */
  private drainNow: (() => void) | null = null;

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

  /** Its channels' windows of end-to-end latencies (null for a channel that has timed no FIN yet). */
  get latencyWindows(): (LatencyWindow | null)[] {
    return Array.from(this.channels.values(), (c) => c.latencyWindow);
  }

  /** nsqd's e2e_processing_latency of the topic: its channels' windows merged. */
  e2eLatency(now = Date.now()): LatencyResult {
    return latencyResult(this.nsqd.options.e2eProcessingLatencyPercentiles, this.latencyWindows, now);
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
   * Refusal when they cannot be stored, and then nothing of them stays.
   *
   * Where they go: a deferred message (DPUB) straight to each channel, on disk;
   * while the topic holds messages itself (no channel yet, paused, or a backlog on
   * its disk) to its memory queue while there is room, else its disk; otherwise to
   * the shared memory queue, or with no room there (--mem-queue-size=0) to each
   * channel's disk.
   */
  publish(source: Uint8Array, spans: readonly number[], count: number, deferMs: number): boolean {
    if (this.deleted) throw new Refusal("exiting");
    const channels = this.channelList;
    const holding = channels.length === 0 || this.paused || this.discovering || this.backendDepth > 0;
    let route: Route;
    if (deferMs > 0 && count === 1 && channels.length > 0 && !this.paused && !this.discovering) route = Route.ChannelsDeferred;
    else if (!holding) route = this.makeRoom(count) ? Route.Memory : Route.ChannelDisks;
    else if (deferMs === 0 && this.holdsInMemory(count)) route = Route.Memory;
    else if (this.disk !== null) route = Route.TopicDisk; // a held DPUB too: on disk it keeps its due time
    else if (this.holdsInMemory(count)) route = Route.Memory;
    else {
      this.dropCount += count;
      return false;
    }
    const nsqd = this.nsqd;
    const nowMs = Date.now();
    const timestamp = nsqd.clock.nowNs();
    const node = nsqd.ids.node;
    let bytes = 0;
    if (route === Route.Memory) {
      for (let i = 0; i < count; i++) {
        const length = spans[2 * i + 1];
        bytes += length;
        this.queue.push(nsqd.ids.next(nowMs), node, timestamp, deferMs, source, spans[2 * i], length);
      }
    } else {
      bytes = this.store(route, source, spans, count, deferMs > 0 ? nowMs + deferMs : 0, nowMs, timestamp, node);
    }
    this.messageCount += count;
    this.messageBytes += bytes;
    if (holding) this.scheduleDrain();
    else if (route !== Route.ChannelsDeferred) for (let c = 0; c < channels.length; c++) channels[c].pump();
    return true;
  }

  /**
   * Writes messages to disk as one unit (see DiskStore.beginUnit): all of them
   * are stored, or none and Refusal is thrown. Returns their body bytes.
   */
  private store(
    route: Route,
    source: Uint8Array,
    spans: readonly number[],
    count: number,
    dueMs: number,
    nowMs: number,
    timestamp: number,
    node: number,
  ): number {
    const ids = this.nsqd.ids;
    const channels = this.channelList;
    const slot = this.slot;
    slot.node = node;
    slot.timestamp = timestamp;
    slot.source = source;
    let bytes = 0;
    const store = this.nsqd.store;
    store.beginUnit();
    try {
      for (let i = 0; i < count; i++) {
        slot.sequence = ids.next(nowMs);
        slot.offset = spans[2 * i];
        slot.length = spans[2 * i + 1];
        bytes += slot.length;
        if (route === Route.TopicDisk) writeMessageRecord(this.disk!, slot, 0, dueMs);
        else if (route === Route.ChannelDisks) for (let c = 0; c < channels.length; c++) channels[c].writeOverflow(slot, dueMs);
        else for (let c = 0; c < channels.length; c++) channels[c].writeDeferred(slot, dueMs);
      }
      store.commitUnit();
    } catch (err) {
      store.abortUnit();
      slot.forget();
      throw new Refusal(`disk write failed - ${(err as Error).message}`);
    }
    if (route === Route.ChannelsDeferred) {
      // a DPUB is one message, so each channel's last record is this one
      for (let c = 0; c < channels.length; c++) channels[c].acceptDeferred(slot, dueMs);
    }
    slot.forget();
    return bytes;
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
   * messages to disk (ephemeral ones drop them), as one unit: if the disk refuses,
   * nothing moved and Refusal is thrown. False only when `count` exceeds the
   * memory limit itself (e.g. --mem-queue-size=0).
   */
  private makeRoom(count: number): boolean {
    const limit = this.memoryLimit;
    if (this.queue.length + count <= limit) return true;
    this.release();
    if (this.queue.length + count <= limit) return true;
    if (count > limit) return false;
    const keepFrom = this.basePosition + (this.queue.length + count - limit);
    const channels = this.channelList;
    const store = this.nsqd.store;
    store.beginUnit();
    try {
      for (let c = 0; c < channels.length; c++) channels[c].writeSpill(keepFrom);
      store.commitUnit();
    } catch (err) {
      store.abortUnit();
      this.slot.forget();
      throw new Refusal(`disk write failed - ${(err as Error).message}`);
    }
    this.slot.forget();
    for (let c = 0; c < channels.length; c++) channels[c].acceptSpill(keepFrom);
    this.release();
    return true;
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
    setImmediate((this.drainNow ??= () => this.drain()));
  }

  /**
   * Moves messages from the topic's disk queue to its channels, a batch per turn:
   * into memory, where the channels furthest behind make room by spilling as when
   * publishing (waiting for them would starve the channels that read), or
   * (--mem-queue-size=0, and deferred messages, which stay on disk) to each
   * channel's disk. The topic's queue deletes a segment once read, so the batch's
   * records for the channels' disks are one unit: if the disks refuse them, they
   * stay in memory instead and draining pauses.
   */
  private drain(): void {
    this.drainScheduled = false;
    const disk = this.disk;
    if (disk === null || this.deleted || this.paused || this.discovering || this.channelList.length === 0) return;
    const limit = this.memoryLimit;
    const now = Date.now();
    const toDisk: Delivery[] = [];
    const dues: number[] = [];
    let moved = 0;
    while (moved < DRAIN_BATCH && disk.depth > 0) {
      if (limit > 0 && this.queue.length >= limit && !this.spillForDrain()) break;
      const payload = disk.readNext();
      if (payload === null) break;
      const m = readMessageRecord(payload, this.nsqd.newSequence, this.nsqd.ids.node);
      const dueMs = disk.lastReadDueMs > now ? disk.lastReadDueMs : 0;
      moved++;
      if (limit > 0 && dueMs === 0) {
        this.enqueue(m);
        continue;
      }
      toDisk.push(m);
      dues.push(dueMs);
    }
    if (toDisk.length > 0 && !this.drainToChannelDisks(toDisk, dues)) moved = 0;
    // what was read is in the channels' queues (or in memory, which a crash loses in any case)
    disk.deleteReadSegments();
    for (const channel of this.channelList) channel.pump();
    if (moved === DRAIN_BATCH) this.scheduleDrain();
  }

  /** Writes drained messages to every channel's disk as one unit; false (kept in memory) if refused. */
  private drainToChannelDisks(messages: Delivery[], dues: number[]): boolean {
    const channels = this.channelList;
    const store = this.nsqd.store;
    store.beginUnit();
    try {
      for (let i = 0; i < messages.length; i++) {
        for (let c = 0; c < channels.length; c++) channels[c].writeOverflow(messages[i], dues[i]);
      }
      store.commitUnit();
      // with --sync-every=1 the moved records are fsynced before the topic's segments go
      if (this.nsqd.options.syncEvery === 1) store.barrier();
      return true;
    } catch (err) {
      store.abortUnit();
      this.nsqd.logger.error(`TOPIC(${this.name}): cannot move messages to the channels' disks - ${(err as Error).message}`);
      for (const m of messages) this.enqueue(m);
      return false;
    }
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
    for (let p = from; p < this.endPosition; p++) {
      const slot = this.slotAt(p);
      // a deferred message keeps its due time: its publish time plus the delay
      writeMessageRecord(disk, slot, 0, slot.deferMs > 0 ? Math.floor(slot.timestamp / 1e6) + slot.deferMs : 0);
    }
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
