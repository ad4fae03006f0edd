/**
 * nsqd's end-to-end processing latency (publish to FIN) of one channel over
 * --e2e-processing-latency-window-time: like nsqd's quantile stream, two
 * half-window histograms, the older one dropped as time moves on. A topic's
 * latency is the merge of its channels' windows.
 */
import { LatencyHistogram } from "./latency-histogram.ts";

/** nsqd's quantile result: count 0 and null percentiles unless percentiles are configured. */
export interface LatencyResult {
  count: number;
  percentiles: { quantile: number; value: number }[] | null;
}

const DISABLED: Readonly<LatencyResult> = Object.freeze({ count: 0, percentiles: null });

export class LatencyWindow {
  private readonly halves = [new LatencyHistogram(), new LatencyHistogram()];
  private current = 0;
  private lastMove: number;

  constructor(
    private readonly halfWindowMs: number,
    now: number,
  ) {
    this.lastMove = now;
  }

  /** Moves the window on as far as `now` (nsqd's moveWindow). */
  private advance(now: number): void {
    while (now > this.lastMove + this.halfWindowMs) {
      this.current ^= 1;
      this.halves[this.current].reset();
      this.lastMove += this.halfWindowMs;
    }
  }

  /** A message published at timestampNs (ns since the epoch) was finished at `now` (ms). */
  record(timestampNs: number, now: number): void {
    this.advance(now);
    this.halves[this.current].insert(now * 1e6 - timestampNs);
  }

  addTo(sum: LatencyHistogram, now: number): void {
    this.advance(now);
    sum.mergeFrom(this.halves[0]);
    sum.mergeFrom(this.halves[1]);
  }
}

/** The windows merged into one histogram (a topic's latency is its channels' windows merged). */
export function mergedWindows(windows: Iterable<LatencyWindow | null>, now: number): LatencyHistogram {
  const sum = new LatencyHistogram();
  for (const w of windows) w?.addTo(sum, now);
  return sum;
}

/** nsqd's result for a histogram: the percentiles (quantiles in (0, 1]) read from it; the empty result when none are configured. */
export function percentilesOf(percentiles: readonly number[], histogram: LatencyHistogram): LatencyResult {
  if (percentiles.length === 0) return { ...DISABLED };
  const values = percentiles.map((quantile) => ({ quantile, value: histogram.query(quantile) }));
  return { count: histogram.count, percentiles: values };
}

/** The percentiles of the windows merged; nsqd's empty result (nothing merged) when none are configured. */
export function latencyResult(
  percentiles: readonly number[],
  windows: Iterable<LatencyWindow | null>,
  now: number,
): LatencyResult {
  if (percentiles.length === 0) return { ...DISABLED };
  return percentilesOf(percentiles, mergedWindows(windows, now));
}
