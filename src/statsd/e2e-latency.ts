/**
 * nsqd's end-to-end processing latency (publish to FIN) per channel, and per
 * topic as the merge of its channels, over --e2e-processing-latency-window-time:
 * like nsqd, two half-window histograms, the older one dropped as time moves on.
 */
import type { Channel } from "../core/channel.ts";
import type { Topic } from "../core/topic.ts";
import { LatencyHistogram } from "./latency-histogram.ts";

export interface LatencyResult {
  count: number;
  /** Null when no percentiles are configured (nsqd's JSON). */
  percentiles: { quantile: number; value: number }[] | null;
}

class LatencyWindow {
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
  advance(now: number): void {
    while (now > this.lastMove + this.halfWindowMs) {
      this.current ^= 1;
      this.halves[this.current].reset();
      this.lastMove += this.halfWindowMs;
    }
  }

  insert(ns: number, now: number): void {
    this.advance(now);
    this.halves[this.current].insert(ns);
  }

  addTo(sum: LatencyHistogram, now: number): void {
    this.advance(now);
    sum.mergeFrom(this.halves[0]);
    sum.mergeFrom(this.halves[1]);
  }
}

export class E2eLatency {
  private readonly windows = new WeakMap<Channel, LatencyWindow>();

  constructor(
    /** Quantiles in (0, 1]; empty turns tracking off. */
    readonly percentiles: readonly number[],
    private readonly windowMs: number,
  ) {}

  get enabled(): boolean {
    return this.percentiles.length > 0;
  }

  /** A message published at timestampNs was finished on the channel now. */
  record(channel: Channel, timestampNs: number, now = Date.now()): void {
    let w = this.windows.get(channel);
    if (w === undefined) {
      w = new LatencyWindow(this.windowMs / 2, now);
      this.windows.set(channel, w);
    }
    w.insert(now * 1e6 - timestampNs, now);
  }

  channel(channel: Channel, now = Date.now()): LatencyResult {
    const sum = new LatencyHistogram();
    this.windows.get(channel)?.addTo(sum, now);
    return this.result(sum);
  }

  topic(topic: Topic, now = Date.now()): LatencyResult {
    const sum = new LatencyHistogram();
    for (const channel of topic.channels.values()) this.windows.get(channel)?.addTo(sum, now);
    return this.result(sum);
  }

  private result(sum: LatencyHistogram): LatencyResult {
    if (!this.enabled) return { count: 0, percentiles: null };
    return {
      count: sum.count,
      percentiles: this.percentiles.map((quantile) => ({ quantile, value: sum.query(quantile) })),
    };
  }
}
