/**
 * A log-linear histogram of latencies in nanoseconds: exact below 64 ns, then 64
 * buckets per power of two (values within 1.6 %). Fixed size, O(1) inserts, and
 * mergeable, which is what end-to-end latency percentiles need.
 */
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
/** Up to 2^53 ns (about 104 days). */
const BUCKETS = SUB + (53 - SUB_BITS) * SUB;

function bucketOf(ns: number): number {
  if (ns < SUB) return ns < 0 ? 0 : Math.floor(ns);
  const exp = ns < 2 ** 32 ? 31 - Math.clz32(ns) : Math.floor(Math.log2(ns));
  const sub = Math.floor(ns / 2 ** (exp - SUB_BITS)) - SUB;
  return Math.min(BUCKETS - 1, SUB + (exp - SUB_BITS) * SUB + sub);
}

/** The middle of a bucket's range. */
function valueOf(bucket: number): number {
  if (bucket < SUB) return bucket;
  const exp = Math.floor((bucket - SUB) / SUB) + SUB_BITS;
  const sub = (bucket - SUB) % SUB;
  const width = 2 ** (exp - SUB_BITS);
  return (SUB + sub) * width + width / 2;
}

export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  count = 0;

  insert(ns: number): void {
    this.counts[bucketOf(ns)]++;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
  }

  mergeFrom(other: LatencyHistogram): void {
    if (other.count === 0) return;
    const mine = this.counts;
    const theirs = other.counts;
    for (let i = 0; i < BUCKETS; i++) mine[i] += theirs[i];
    this.count += other.count;
  }

  /** The non-empty buckets as [bucket, count, bucket, count, ...]: a few numbers to hand to another process. */
  sparse(): number[] {
    const out: number[] = [];
    const counts = this.counts;
    for (let i = 0; i < BUCKETS; i++) if (counts[i] !== 0) out.push(i, counts[i]);
    return out;
  }

  /** Adds a histogram given as sparse() made it; pairs that are not a bucket and a count are skipped. */
  mergeSparse(pairs: readonly number[]): void {
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const bucket = pairs[i];
      const count = pairs[i + 1];
      if (!Number.isInteger(bucket) || bucket < 0 || bucket >= BUCKETS || !Number.isInteger(count) || count <= 0) continue;
      this.counts[bucket] += count;
      this.count += count;
    }
  }

  /** The latency at quantile q (0 < q <= 1); 0 when empty. */
  query(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return valueOf(i);
    }
    return valueOf(BUCKETS - 1);
  }
}
