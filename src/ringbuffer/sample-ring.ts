// A fixed window of the newest samples of a few unsigned counters, in one typed
// array allocated once: pushing past the capacity overwrites the oldest sample.

const MAX_VALUE = 0xffff_ffff;

export class SampleRing {
  /** Field-major: field f's slots are data[f * capacity .. (f + 1) * capacity). */
  private readonly data: Uint32Array;
  /** Slot the next sample is written to. */
  private next = 0;
  private count = 0;
  /** Samples pushed in a row, up to the newest, whose every field was 0. */
  private zeroRun = 0;

  constructor(
    readonly fields: number,
    readonly capacity: number,
  ) {
    if (!Number.isInteger(fields) || fields < 1) throw new RangeError(`fields must be a positive integer, got ${fields}`);
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
    this.data = new Uint32Array(fields * capacity);
  }

  /** Samples held, at most the capacity. */
  get length(): number {
    return this.count;
  }

  /** Bytes of sample storage. */
  get byteLength(): number {
    return this.data.byteLength;
  }

  /** True once every sample held is all zeros (the window saw nothing). */
  get allZero(): boolean {
    return this.zeroRun >= this.count;
  }

  /**
   * Appends one sample: `values[f]` for each field, truncated to an integer and
   * clamped into 0..2^32-1 (NaN is 0).
   */
  push(values: ArrayLike<number>): void {
    let zero = true;
    const slot = this.next;
    for (let f = 0; f < this.fields; f++) {
      const v = values[f] ?? 0;
      const clamped = v > MAX_VALUE ? MAX_VALUE : v > 0 ? v : 0;
      this.data[f * this.capacity + slot] = clamped;
      if (clamped >= 1) zero = false;
    }
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    if (this.count < this.capacity) this.count++;
    this.zeroRun = zero ? Math.min(this.zeroRun + 1, this.capacity) : 0;
  }

  /** One field's samples, oldest first. */
  series(field: number): number[] {
    if (!(field >= 0 && field < this.fields)) throw new RangeError(`no field ${field} in ${this.fields}`);
    const out = new Array<number>(this.count);
    const base = field * this.capacity;
    let slot = this.count < this.capacity ? 0 : this.next;
    for (let i = 0; i < this.count; i++) {
      out[i] = this.data[base + slot]!;
      slot = slot + 1 === this.capacity ? 0 : slot + 1;
    }
    return out;
  }
}
