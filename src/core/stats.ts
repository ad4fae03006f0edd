/**
 * One walk over an nsqd's topics, channels and clients: nsqd's /stats document
 * as plain data (field order and null conventions included), which /stats,
 * /metrics and statsd format. Process memory figures are left to them.
 */
import type { ChannelStats, ClientStats, NsqdStats, TopicStats } from "../schemas/nsqd-stats.ts";
import type { Channel } from "./channel.ts";
import { VERSION } from "../common/version.ts";
import type { NSQD } from "./nsqd.ts";
import type { Topic } from "./topic.ts";

/** A client connection that reports its own stats (the TCP door's ClientV2). */
export interface StatsReporter {
  /** nsqd's client stats; pub_counts lists every topic published to, and is left out when there is none. */
  stats(): ClientStats;
}

/** Messages per second over the last minute (bunsq's rates; the HTTP door samples them). */
export interface RateSource {
  topicRate(topic: Topic): number;
  channelRate(channel: Channel): number;
  consumeRate(channel: Channel): number;
}

export interface SnapshotOptions {
  /** Only this topic (nsqd's ?topic=); "" for all. */
  topic?: string;
  /** Only this channel of each topic (?channel=); "" for all. */
  channel?: string;
  /** Each channel's clients, and the producers among `connections`; null lists without. */
  includeClients?: boolean;
  /** Every client connection of the nsqd: those that published are its producers. */
  connections?: Iterable<StatsReporter>;
  /** 0 for every rate without. */
  rates?: RateSource | null;
  /** Topics and channels in name order (nsqd's), or else in creation order. */
  sorted?: boolean;
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Client stats with pub_counts cut down to `topic` (nsqd's filter), the key left out when nothing is left. */
function forTopic(stats: ClientStats, topic: string): ClientStats {
  if (topic === "" || stats.pub_counts === undefined) return stats;
  const pubCounts = stats.pub_counts.filter((p) => p.topic === topic);
  if (pubCounts.length > 0) {
    stats.pub_counts = pubCounts; // the key keeps its place, before the TLS fields
    return stats;
  }
  const { pub_counts: _, ...rest } = stats;
  return rest;
}

/**
 * nsqd's stats document without `memory`: topics filtered as nsqd does (an
 * unknown topic gives null, a topic lacking the channel asked for is left out).
 */
export function statsSnapshot(nsqd: NSQD, options: SnapshotOptions = {}): NsqdStats {
  const { topic: topicFilter = "", includeClients = false, sorted = true } = options;
  const now = Date.now();
  let topics: TopicStats[] | null;
  if (topicFilter === "") {
    topics = [];
    const all = sorted ? [...nsqd.topics.values()].sort(byName) : nsqd.topics.values();
    for (const topic of all) {
      const stats = topicStats(topic, options, now);
      if (stats !== null) topics.push(stats);
    }
  } else {
    const topic = nsqd.getExistingTopic(topicFilter);
    const stats = topic === undefined ? null : topicStats(topic, options, now);
    topics = topic === undefined ? null : stats === null ? [] : [stats];
  }
  let producers: ClientStats[] | null = null;
  if (includeClients) {
    producers = [];
    for (const client of options.connections ?? []) {
      const stats = client.stats();
      if (stats.pub_counts !== undefined) producers.push(forTopic(stats, topicFilter));
    }
  }
  return {
    version: VERSION,
    health: nsqd.health,
    start_time: Math.floor(nsqd.startTime / 1000),
    topics,
    producers,
  };
}

function topicStats(topic: Topic, options: SnapshotOptions, now: number): TopicStats | null {
  const { channel: channelFilter = "", sorted = true } = options;
  let channels: Iterable<Channel>;
  if (channelFilter === "") {
    channels = sorted ? [...topic.channels.values()].sort(byName) : topic.channels.values();
  } else {
    const channel = topic.getExistingChannel(channelFilter);
    if (channel === undefined) return null;
    channels = [channel];
  }
  return {
    topic_name: topic.name,
    channels: Array.from(channels, (c) => channelStats(c, options, now)),
    depth: topic.depth,
    backend_depth: topic.backendDepth,
    message_count: topic.messageCount,
    message_bytes: topic.messageBytes,
    paused: topic.paused,
    e2e_processing_latency: topic.e2eLatency(now),
    message_rate_1m: options.rates?.topicRate(topic) ?? 0,
  };
}

function channelStats(channel: Channel, options: SnapshotOptions, now: number): ChannelStats {
  const { topic = "", includeClients = false, rates = null } = options;
  return {
    channel_name: channel.name,
    depth: channel.depth,
    backend_depth: channel.backendDepth,
    in_flight_count: channel.inFlightCount,
    deferred_count: channel.deferredCount,
    message_count: channel.messageCount,
    requeue_count: channel.requeueCount,
    timeout_count: channel.timeoutCount,
    client_count: channel.consumers.length,
    clients: includeClients ? channel.consumers.map((c) => forTopic(c.stats(), topic)) : null,
    paused: channel.paused,
    e2e_processing_latency: channel.e2eLatency(now),
    message_rate_1m: rates?.channelRate(channel) ?? 0,
    consume_rate_1m: rates?.consumeRate(channel) ?? 0,
  };
}
