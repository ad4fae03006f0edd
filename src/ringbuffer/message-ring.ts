// The topic's shared memory queue, stored as columns rather than one object per
// message: a queued message costs ~38 bytes of typed-array slots and one array
// reference instead of a Message object plus a Uint8Array view (~130 bytes), and
// publishing allocates nothing per message, so the garbage collector has less to do.

const INITIAL_CAPACITY = 16;
/** Below this capacity the ring never shrinks: small queues keep their columns. */
const SHRINK_FLOOR = 4096;
// Keeps every index and mask inside the int32 range used by `&`.
const MAX_CAPACITY = 2 ** 30;

/**
 * FIFO of messages with absolute positions left to its owner. A body is the range
 * [offset, offset + length) of `source`, the byte array it arrived in (an MPUB's
 * 200 messages share one source). Indices passed to the readers count from the
 * head (0 = oldest).
 */
export class MessageRing {
  private sequences = new Float64Array(INITIAL_CAPACITY);
  /** Publish time in ns since the epoch (a double, as everywhere in bunsq). */
  private timestamps = new Float64Array(INITIAL_CAPACITY);
  private nodes = new Uint16Array(INITIAL_CAPACITY);
  /** DPUB delay in ms, for messages a topic holds before it has a channel. */
  private defers = new Int32Array(INITIAL_CAPACITY);
  private offsets = new Int32Array(INITIAL_CAPACITY);
  private lengths = new Int32Array(INITIAL_CAPACITY);
  private sources: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(INITIAL_CAPACITY).fill(undefined);
  private head = 0;
  private size = 0;
  private mask = INITIAL_CAPACITY - 1;

  get length(): number {
    return this.size;
  }

  /** Slots allocated per column. */
  get capacity(): number {
    return this.mask + 1;
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
    if (this.size > this.mask) this.resize((this.mask + 1) * 2);
    const i = (this.head + this.size) & this.mask;
    this.sequences[i] = sequence;
    this.timestamps[i] = timestamp;
    this.nodes[i] = node;
    this.defers[i] = deferMs;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.sources[i] = source;
    this.size++;
  }

  /**
   * Drops the oldest message (and its reference to its source bytes). A ring
   * left a quarter full halves its capacity, so the columns of a drained backlog
   * (38 bytes a slot) do not stay allocated.
   */
  shift(): void {
    if (this.size === 0) return;
    this.sources[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.size--;
    const capacity = this.mask + 1;
    if (capacity > SHRINK_FLOOR && this.size < capacity >>> 2) this.resize(capacity >>> 1);
  }

  /** Drops the newest message. */
  pop(): void {
    if (this.size === 0) return;
    this.size--;
    this.sources[(this.head + this.size) & this.mask] = undefined;
  }

  clear(): void {
    if (this.mask + 1 > INITIAL_CAPACITY) this.allocate(INITIAL_CAPACITY);
    else this.sources.fill(undefined);
    this.head = 0;
    this.size = 0;
  }

  // Readers: `index` must be in [0, length).

  sequenceAt(index: number): number {
    return this.sequences[(this.head + index) & this.mask];
  }
  nodeAt(index: number): number {
    return this.nodes[(this.head + index) & this.mask];
  }
  timestampAt(index: number): number {
    return this.timestamps[(this.head + index) & this.mask];
  }
  deferAt(index: number): number {
    return this.defers[(this.head + index) & this.mask];
  }
  sourceAt(index: number): Uint8Array {
    return this.sources[(this.head + index) & this.mask]!;
  }
  offsetAt(index: number): number {
    return this.offsets[(this.head + index) & this.mask];
  }
  lengthAt(index: number): number {
    return this.lengths[(this.head + index) & this.mask];
  }

  private allocate(capacity: number): void {
    this.sequences = new Float64Array(capacity);
    this.timestamps = new Float64Array(capacity);
    this.nodes = new Uint16Array(capacity);
    this.defers = new Int32Array(capacity);
    this.offsets = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
    this.sources = new Array<Uint8Array | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
  }

  /** Moves the messages to the start of new columns of `capacity` slots. */
  private resize(capacity: number): void {
    if (capacity > MAX_CAPACITY) throw new RangeError("MessageRing capacity exceeded");
    const { sequences, timestamps, nodes, defers, offsets, lengths, sources, head, size, mask } = this;
    this.allocate(capacity);
    // the live part is [head, end) then, if it wraps, [0, head + size - old capacity)
    const firstPart = Math.min(size, mask + 1 - head);
    const columns: [Float64Array | Uint16Array | Int32Array, Float64Array | Uint16Array | Int32Array][] = [
      [sequences, this.sequences],
      [timestamps, this.timestamps],
      [nodes, this.nodes],
      [defers, this.defers],
      [offsets, this.offsets],
      [lengths, this.lengths],
    ];
    for (const [from, to] of columns) {
      to.set(from.subarray(head, head + firstPart), 0);
      to.set(from.subarray(0, size - firstPart), firstPart);
    }
    const newSources = this.sources;
    for (let i = 0, j = head; i < size; i++, j = (j + 1) & mask) newSources[i] = sources[j];
    this.head = 0;
  }
}
