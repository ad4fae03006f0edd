// The topic's shared memory queue, stored as columns rather than one object per
// message: a queued message costs 38 bytes of typed-array slots and one array
// reference instead of a Message object plus a Uint8Array view (~130 bytes), and
// publishing allocates nothing per message, so the garbage collector has less to do.
//
// The columns come in fixed segments of SEGMENT_SLOTS messages, added at the tail
// and dropped at the head as the queue moves. Growing never copies and never
// doubles: a doubling ring held up to 2x its messages in zero-filled slots, and
// the columns it outgrew stayed resident until a GC, so the memory per queued
// message swung between ~54 and ~113 bytes with the queue's length.

import { RingBuffer } from "./ring-buffer.ts";

const SEGMENT_SHIFT = 10;
/** 1024 slots: 38 KiB a segment (Go nsqd's topic channel buffer is 80 KiB). */
const SEGMENT_SLOTS = 1 << SEGMENT_SHIFT;
const SLOT_MASK = SEGMENT_SLOTS - 1;

/** Where `read` puts a message's fields (MessageSlot in core satisfies it). */
export interface MessageFields {
  sequence: number;
  node: number;
  /** Publish time in ns since the epoch (a double, as everywhere in bunsq). */
  timestamp: number;
  /** DPUB delay in ms, for messages a topic holds before it has a channel. */
  deferMs: number;
  source: Uint8Array;
  offset: number;
  length: number;
}

class Segment {
  readonly sequences = new Float64Array(SEGMENT_SLOTS);
  readonly timestamps = new Float64Array(SEGMENT_SLOTS);
  readonly nodes = new Uint16Array(SEGMENT_SLOTS);
  readonly defers = new Int32Array(SEGMENT_SLOTS);
  readonly offsets = new Int32Array(SEGMENT_SLOTS);
  readonly lengths = new Int32Array(SEGMENT_SLOTS);
  readonly sources: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SEGMENT_SLOTS).fill(undefined);
}

/**
 * FIFO of messages with absolute positions left to its owner. A body is the range
 * [offset, offset + length) of `source`, the byte array it arrived in (an MPUB's
 * 200 messages share one source). Indices passed to `read` count from the head
 * (0 = oldest).
 */
export class MessageRing {
  private readonly segments = new RingBuffer<Segment>();
  /** Slot of the oldest message in the first segment. */
  private head = 0;
  private size = 0;
  /** One emptied segment kept back, so a queue hovering at a boundary does not allocate. */
  private spare: Segment | null = null;

  get length(): number {
    return this.size;
  }

  /** Slots allocated (whole segments, the spare included). */
  get capacity(): number {
    return (this.segments.length + (this.spare === null ? 0 : 1)) * SEGMENT_SLOTS;
  }

  push(
    sequence: number,
    node: number,
    timestamp: number,
    deferMs: number,
    source: Uint8Array,
    offset: number,
    length: number,
  ): void {
    const end = this.head + this.size;
    const index = end >>> SEGMENT_SHIFT;
    if (index === this.segments.length) this.segments.push(this.newSegment());
    const seg = this.segments.at(index)!;
    const i = end & SLOT_MASK;
    seg.sequences[i] = sequence;
    seg.timestamps[i] = timestamp;
    seg.nodes[i] = node;
    seg.defers[i] = deferMs;
    seg.offsets[i] = offset;
    seg.lengths[i] = length;
    seg.sources[i] = source;
    this.size++;
  }

  /** Copies the fields of the message at `index` (0 = oldest, < length) into `into`. */
  read(index: number, into: MessageFields): void {
    const at = this.head + index;
    const seg = this.segments.at(at >>> SEGMENT_SHIFT)!;
    const i = at & SLOT_MASK;
    into.sequence = seg.sequences[i];
    into.timestamp = seg.timestamps[i];
    into.node = seg.nodes[i];
    into.deferMs = seg.defers[i];
    into.offset = seg.offsets[i];
    into.length = seg.lengths[i];
    into.source = seg.sources[i]!;
  }

  /** Drops the oldest message (and its reference to its source bytes). */
  shift(): void {
    if (this.size === 0) return;
    this.segments.peek()!.sources[this.head] = undefined;
    this.size--;
    if (++this.head === SEGMENT_SLOTS) {
      this.head = 0;
      this.release(this.segments.shift()!);
    } else if (this.size === 0) {
      this.head = 0; // start the next message at the segment's first slot
    }
  }

  /** Drops the newest message. */
  pop(): void {
    if (this.size === 0) return;
    this.size--;
    const end = this.head + this.size;
    this.segments.at(end >>> SEGMENT_SHIFT)!.sources[end & SLOT_MASK] = undefined;
    if ((end & SLOT_MASK) === 0 && this.segments.length > 1) this.release(this.segments.pop()!);
    if (this.size === 0) this.head = 0;
  }

  clear(): void {
    this.segments.clear();
    this.spare = null;
    this.head = 0;
    this.size = 0;
  }

  private newSegment(): Segment {
    const spare = this.spare;
    if (spare === null) return new Segment();
    this.spare = null;
    return spare;
  }

  /** An emptied segment (its sources are already cleared) becomes the spare or goes. */
  private release(seg: Segment): void {
    if (this.spare === null) this.spare = seg;
  }
}
