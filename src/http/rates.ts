import type { Channel } from "../core/channel.ts";
import type { NSQD } from "../core/nsqd.ts";
import type { RateSource } from "../core/stats.ts";
import type { Topic } from "../core/topic.ts";

/** One reading of a counter. */
interface Sample {
  at: number;
  count: number;
}

/**
 * Per-topic publish rates and per-channel receive and consume rates over a sliding
 * window (a minute by default), from counters sampled once a second by one timer.
 * Nothing is added to the message path.
 */
export class RateTracker implements RateSource {
  private readonly samples = new WeakMap<object, Sample[]>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastSampleAt = 0;

  constructor(
    private readonly nsqd: NSQD,
    private readonly intervalMs = 1000,
    private readonly windowMs = 60_000,
  ) {}

  start(): void {
    if (this.timer !== null) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Messages per second published to the topic. */
  topicRate(topic: Topic): number {
    return this.rate(topic, topic.messageCount);
  }

  /** Messages per second reaching the channel. */
  channelRate(channel: Channel): number {
    return this.rate(channel, channel.messageCount);
  }

  /** Messages per second leaving the channel for good. */
  consumeRate(channel: Channel): number {
    return this.rate(consumeKey(channel), channel.consumedCount);
  }

  private sample(): void {
    const now = Date.now();
    for (const topic of this.nsqd.topics.values()) {
      this.record(topic, now, topic.messageCount);
      for (const channel of topic.channels.values()) {
        this.record(channel, now, channel.messageCount);
        this.record(consumeKey(channel), now, channel.consumedCount);
      }
    }
    this.lastSampleAt = now;
  }

  private record(key: object, at: number, count: number): void {
    let list = this.samples.get(key);
    if (list === undefined) {
      // created since the last sample, when its counter was still 0
      list = this.lastSampleAt > 0 ? [{ at: this.lastSampleAt, count: 0 }] : [];
      this.samples.set(key, list);
    }
    list.push({ at, count });
    // keep one sample at or beyond the window's start, so the rate spans the whole window
    const start = at - this.windowMs;
    while (list.length > 2 && list[1].at <= start) list.shift();
  }

  private rate(key: object, current: number): number {
    const list = this.samples.get(key);
    if (list === undefined) return 0;
    const oldest = list[0];
    const elapsed = (Date.now() - oldest.at) / 1000;
    if (elapsed <= 0) return 0;
    const delta = current - oldest.count;
    return delta > 0 ? Math.round((delta / elapsed) * 100) / 100 : 0;
  }
}

/** A second sample key per channel for its consume counter. */
const consumeKeys = new WeakMap<Channel, object>();
function consumeKey(channel: Channel): object {
  let key = consumeKeys.get(channel);
  if (key === undefined) {
    key = {};
    consumeKeys.set(channel, key);
  }
  return key;
}
