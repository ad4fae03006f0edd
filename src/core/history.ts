/**
 * The last hour of every topic and channel, kept by nsqd itself for nsqadmin's
 * charts: one timer reads the counters the stats already keep, every 10 s on the
 * wall clock's 10 s boundaries (so every nsqd samples at the same instants), into
 * a SampleRing per topic and per channel. Nothing is added to the message path.
 *
 * One resolution only: 360 samples of 10 s are an hour in 10 KiB per busy channel,
 * where adding a per-second tier for the last minutes would almost double that;
 * the pages' live rates and sparklines already show the last seconds.
 *
 * A topic or channel costs nothing until it first has a message or a depth; its
 * ring is allocated then and given back after a whole window (an hour) of zeros.
 */
import { SampleRing } from "../ringbuffer/sample-ring.ts";
import type { Channel } from "./channel.ts";
import type { NSQD } from "./nsqd.ts";
import type { Topic } from "./topic.ts";

export const HISTORY_INTERVAL_MS = 10_000;
export const HISTORY_SAMPLES = 360;

/** A topic's series: messages published during each interval, and its depth at the interval's end. */
export const TOPIC_SERIES = ["messages_in", "memory_depth", "backend_depth"] as const;
/**
 * A channel's series: messages that reached it, left it for good (finished or
 * emptied), were requeued and timed out during each interval; its depth and
 * in-flight count at the interval's end.
 */
export const CHANNEL_SERIES = [
  "messages_in",
  "messages_out",
  "requeued",
  "timed_out",
  "memory_depth",
  "backend_depth",
  "in_flight",
] as const;

export type TopicSeries = Record<(typeof TOPIC_SERIES)[number], number[]>;
export type ChannelSeries = Record<(typeof CHANNEL_SERIES)[number], number[]>;

/** The counters seen at the previous sample, to turn them into per-interval counts. */
interface TopicState {
  ring: SampleRing | null;
  messages: number;
}

interface ChannelState extends TopicState {
  consumed: number;
  requeued: number;
  timedOut: number;
}

const delta = (now: number, before: number) => (now > before ? now - before : 0);

export class HistorySampler {
  private topics = new WeakMap<Topic, TopicState>();
  private channels = new WeakMap<Channel, ChannelState>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private intervalMs = HISTORY_INTERVAL_MS;
  /** Unix ms of the newest sample (a multiple of the interval); 0 before the first. */
  private lastAt = 0;
  // one row per kind, reused by every sample
  private readonly topicRow = new Array<number>(TOPIC_SERIES.length).fill(0);
  private readonly channelRow = new Array<number>(CHANNEL_SERIES.length).fill(0);

  constructor(
    private readonly nsqd: NSQD,
    readonly capacity = HISTORY_SAMPLES,
  ) {}

  get interval(): number {
    return this.intervalMs;
  }

  /** Unix ms of the newest sample, where every series ends; 0 before the first. */
  get end(): number {
    return this.lastAt;
  }

  /**
   * Starts sampling. A different interval than the running one starts over with
   * nothing kept (its first samples then count from nsqd's start).
   */
  start(intervalMs = HISTORY_INTERVAL_MS): void {
    if (this.timer !== null && intervalMs === this.intervalMs) return;
    this.stop();
    if (intervalMs !== this.intervalMs) {
      this.topics = new WeakMap();
      this.channels = new WeakMap();
      this.lastAt = 0;
    }
    this.intervalMs = intervalMs;
    this.schedule();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * The next tick on the boundary after the last sample's (a timeout each time, so
   * it never drifts; a tick that fires a little early does not sample twice).
   */
  private schedule(): void {
    const now = Date.now();
    const next = this.lastAt + this.intervalMs;
    const wait = next > now ? next - now : this.intervalMs - (now % this.intervalMs);
    this.timer = setTimeout(() => {
      this.sample();
      this.schedule();
    }, wait);
    this.timer.unref();
  }

  private sample(): void {
    const interval = this.intervalMs;
    let at = Math.round(Date.now() / interval) * interval;
    if (at <= this.lastAt) at = this.lastAt + interval;
    for (const topic of this.nsqd.topics.values()) {
      this.sampleTopic(topic);
      for (const channel of topic.channels.values()) this.sampleChannel(channel);
    }
    this.lastAt = at;
  }

  private sampleTopic(topic: Topic): void {
    const messages = topic.messageCount;
    const backend = topic.backendDepth;
    let state = this.topics.get(topic);
    if (state === undefined) {
      if (messages === 0 && topic.depth === 0) return; // idle since it was created: nothing kept
      // its counters were 0 at the previous sample (or when nsqd started), else it would have a state
      state = { ring: null, messages: 0 };
      this.topics.set(topic, state);
    }
    const row = this.topicRow;
    row[0] = delta(messages, state.messages);
    row[1] = topic.depth - backend;
    row[2] = backend;
    state.messages = messages;
    state.ring = record(state.ring, row, this.capacity);
  }

  private sampleChannel(channel: Channel): void {
    const messages = channel.messageCount;
    const consumed = channel.consumedCount;
    const depth = channel.depth;
    const inFlight = channel.inFlightCount;
    let state = this.channels.get(channel);
    if (state === undefined) {
      if (messages === 0 && depth === 0 && inFlight === 0) return;
      state = { ring: null, messages: 0, consumed: 0, requeued: 0, timedOut: 0 };
      this.channels.set(channel, state);
    }
    const backend = channel.backendDepth;
    const row = this.channelRow;
    row[0] = delta(messages, state.messages);
    row[1] = delta(consumed, state.consumed);
    row[2] = delta(channel.requeueCount, state.requeued);
    row[3] = delta(channel.timeoutCount, state.timedOut);
    row[4] = depth - backend;
    row[5] = backend;
    row[6] = inFlight;
    state.messages = messages;
    // a count can step back (consumed, while a paused topic holds messages back): measure from where it is now
    state.consumed = consumed;
    state.requeued = channel.requeueCount;
    state.timedOut = channel.timeoutCount;
    state.ring = record(state.ring, row, this.capacity);
  }

  /** The topic's series, oldest first, ending at `end`; empty when it has been idle. */
  topicSeries(topic: Topic): TopicSeries {
    return seriesOf(this.topics.get(topic)?.ring ?? null, TOPIC_SERIES) as TopicSeries;
  }

  channelSeries(channel: Channel): ChannelSeries {
    return seriesOf(this.channels.get(channel)?.ring ?? null, CHANNEL_SERIES) as ChannelSeries;
  }

  /** Bytes of sample storage held now, over every topic and channel. */
  bytesHeld(): number {
    let bytes = 0;
    for (const topic of this.nsqd.topics.values()) {
      bytes += this.topics.get(topic)?.ring?.byteLength ?? 0;
      for (const channel of topic.channels.values()) bytes += this.channels.get(channel)?.ring?.byteLength ?? 0;
    }
    return bytes;
  }
}

/** Appends the row, allocating the ring for a first non-zero row and dropping it after a window of zeros. */
function record(ring: SampleRing | null, row: number[], capacity: number): SampleRing | null {
  if (ring === null) {
    if (row.every((v) => v === 0)) return null;
    ring = new SampleRing(row.length, capacity);
  }
  ring.push(row);
  return ring.length === capacity && ring.allZero ? null : ring;
}

function seriesOf(ring: SampleRing | null, names: readonly string[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  names.forEach((name, i) => {
    out[name] = ring === null ? [] : ring.series(i);
  });
  return out;
}
