import { RingBuffer } from "../ringbuffer/ring-buffer.ts";
import { isEphemeralName } from "../protocol/names.ts";
import { Channel } from "./channel.ts";
import { Message } from "./message.ts";
import type { NSQD } from "./nsqd.ts";

/** Why a publish was refused; the TCP and HTTP layers add their own error codes. */
export class PublishError extends Error {}

/**
 * A topic owns the shared memory queue: each message is stored once and every
 * channel reads it by position. Positions are absolute (they only grow); the queue
 * holds the messages from the slowest channel's position to `endPosition`.
 */
export class Topic {
  readonly ephemeral: boolean;
  paused = false;
  deleted = false;

  private readonly queue = new RingBuffer<Message>();
  /** Absolute position of queue.at(0). */
  private basePosition = 0;
  /** While paused, channels see only what was published before the pause. */
  private pausedAt = 0;

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
  }

  get endPosition(): number {
    return this.basePosition + this.queue.length;
  }

  /** End of what channels may read: everything, or what came before a pause. */
  get visibleEnd(): number {
    return this.paused ? this.pausedAt : this.basePosition + this.queue.length;
  }

  /** Messages of this topic on disk (nsqd's backend_depth). */
  get backendDepth(): number {
    return 0;
  }

  /** Messages waiting in the topic itself (nsqd reports these as the topic's depth). */
  get depth(): number {
    return this.channelList.length === 0 ? this.queue.length : this.endPosition - this.visibleEnd;
  }

  messageAt(position: number): Message {
    return this.queue.at(position - this.basePosition)!;
  }

  // ---- publishing ----

  /**
   * Stores messages with the given bodies (all or none) and hands them to the
   * channels. Returns false when an ephemeral topic dropped them; throws
   * PublishError when the memory queue cannot take them.
   */
  publish(bodies: readonly Uint8Array[], count: number, deferMs: number): boolean {
    if (this.deleted) throw new PublishError("exiting");
    if (!this.makeRoom(count)) {
      if (this.ephemeral) {
        this.dropCount += count;
        return false;
      }
      throw new PublishError(
        `mem-queue-size (${this.nsqd.options.memQueueSize}) reached; disk queue not available`,
      );
    }
    const nsqd = this.nsqd;
    const nowMs = Date.now();
    const timestamp = nsqd.clock.nowNs();
    const node = nsqd.ids.node;
    const channels = this.channelList;
    const direct = deferMs > 0 && channels.length > 0 && !this.paused;
    for (let i = 0; i < count; i++) {
      const body = bodies[i];
      const message = new Message(nsqd.ids.next(nowMs), node, timestamp, body, direct ? 0 : deferMs);
      this.messageBytes += body.length;
      if (direct) {
        for (let c = 0; c < channels.length; c++) channels[c].putDeferred(message, nowMs + deferMs);
      } else {
        this.queue.push(message);
      }
    }
    this.messageCount += count;
    if (!direct && !this.paused) {
      for (let c = 0; c < channels.length; c++) channels[c].pump();
    }
    return true;
  }

  /**
   * Ensures the memory queue can take `count` more messages: first lets go of what
   * every channel has read, then makes ephemeral channels at the back drop their
   * oldest messages.
   */
  private makeRoom(count: number): boolean {
    const limit = this.nsqd.options.memQueueSize;
    if (this.queue.length + count <= limit) return true;
    this.release();
    if (this.queue.length + count <= limit) return true;
    if (count > limit) return false;
    const channels = this.channelList;
    if (channels.length === 0) return false;
    for (let c = 0; c < channels.length; c++) if (!channels[c].ephemeral) return false;
    // every channel is ephemeral: each drops what it must to make room
    const need = this.queue.length + count - limit;
    const keepFrom = this.basePosition + need;
    for (let c = 0; c < channels.length; c++) {
      const ch = channels[c];
      while (ch.cursor < keepFrom) ch.dropOldest();
    }
    this.release();
    return this.queue.length + count <= limit;
  }

  /** Frees the messages every channel has read. Without channels the topic keeps all. */
  release(): void {
    const channels = this.channelList;
    if (channels.length === 0) return;
    let min = channels[0].cursor;
    for (let c = 1; c < channels.length; c++) if (channels[c].cursor < min) min = channels[c].cursor;
    this.dropUntil(min);
  }

  // ---- channels ----

  getChannel(name: string): Channel {
    let channel = this.channels.get(name);
    if (channel !== undefined) return channel;
    // the first channel takes over what the topic held; later ones start at the end
    const start = this.channelList.length === 0 ? this.basePosition : this.endPosition;
    channel = new Channel(name, this, start);
    this.channels.set(name, channel);
    this.channelList = [...this.channels.values()];
    this.nsqd.notify("channel-created", this, channel);
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
    channel.close();
    if (this.channelList.length > 0) this.release();
    else this.dropUntil(this.visibleEnd); // what the last channel had not read went with it
    this.nsqd.notify("channel-deleted", this, channel);
    if (this.channelList.length === 0 && this.ephemeral) this.nsqd.deleteTopic(this.name);
    return true;
  }

  // ---- administration ----

  pause(): void {
    if (this.paused) return;
    this.pausedAt = this.endPosition;
    this.paused = true;
  }

  unpause(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const channel of this.channelList) channel.pump();
  }

  /** Drops the messages waiting in the topic itself (not those channels already hold). */
  empty(): void {
    if (this.channelList.length === 0) this.dropUntil(this.endPosition);
    else while (this.endPosition > this.visibleEnd) this.queue.pop();
  }

  private dropUntil(position: number): void {
    while (this.basePosition < position) {
      this.queue.shift();
      this.basePosition++;
    }
  }

  close(): void {
    this.deleted = true;
    for (const channel of this.channelList) channel.close();
    this.channels.clear();
    this.channelList = [];
    this.queue.clear();
  }
}
