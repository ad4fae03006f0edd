/**
 * Exact end-to-end latency percentiles on the shared /stats: percentiles of
 * parts cannot be combined, their histograms can. Each worker hands over its
 * windows' histograms (sparse buckets) on an internal route of its PRIVATE
 * port; the shared address adds them up per topic and channel and reads the
 * percentiles from the sum exactly as a single nsqd reads them from its own.
 */
import { mergedWindows, percentilesOf } from "../core/e2e-latency.ts";
import { LatencyHistogram } from "../core/latency-histogram.ts";
import type { NSQD } from "../core/nsqd.ts";
import type { NsqdStats } from "../schemas/nsqd-stats.ts";

/** The internal route (siblings only: the shared address refuses it, and the OpenAPI document leaves it out). */
export const LATENCY_HISTOGRAMS_PATH = "/workers/e2e-latency-histograms";

/** Buckets as LatencyHistogram.sparse() gives them. */
type Sparse = number[];

/** One worker's histograms: each topic's (its channels' windows merged, as its /stats latency) and each channel's. */
export interface LatencyHistograms {
  topics: { topic_name: string; histogram: Sparse; channels: { channel_name: string; histogram: Sparse }[] }[];
}

/** This worker's histograms of the topics and channels /stats would list with the same `topic=` and `channel=`. */
export function collectLatencyHistograms(nsqd: NSQD, topicName: string, channelName: string): LatencyHistograms {
  const now = Date.now();
  const topics: LatencyHistograms["topics"] = [];
  const chosen = topicName === "" ? nsqd.topics.values() : [nsqd.getExistingTopic(topicName)];
  for (const topic of chosen) {
    if (topic === undefined) continue;
    const channels = [];
    for (const channel of topic.channels.values()) {
      if (channelName !== "" && channel.name !== channelName) continue;
      channels.push({ channel_name: channel.name, histogram: mergedWindows([channel.latencyWindow], now).sparse() });
    }
    topics.push({ topic_name: topic.name, histogram: mergedWindows(topic.latencyWindows, now).sparse(), channels });
  }
  return { topics };
}

/** Every worker's histograms added up, per topic and per topic and channel. */
class HistogramSums {
  private readonly sums = new Map<string, LatencyHistogram>();

  add(key: string, sparse: Sparse): void {
    let sum = this.sums.get(key);
    if (sum === undefined) this.sums.set(key, (sum = new LatencyHistogram()));
    sum.mergeSparse(sparse);
  }

  get(key: string): LatencyHistogram {
    return this.sums.get(key) ?? new LatencyHistogram();
  }
}

// topic and channel names never hold a space, so "topic channel" names one channel unambiguously
const channelKey = (topic: string, channel: string) => `${topic} ${channel}`;

/**
 * The merged /stats document with every topic's and channel's
 * e2e_processing_latency read from the sum of the workers' histograms.
 */
export function withMergedLatency(
  stats: NsqdStats,
  parts: readonly LatencyHistograms[],
  percentiles: readonly number[],
): NsqdStats {
  if (stats.topics === null) return stats;
  const sums = new HistogramSums();
  for (const part of parts) {
    for (const t of part.topics) {
      sums.add(t.topic_name, t.histogram);
      for (const c of t.channels) sums.add(channelKey(t.topic_name, c.channel_name), c.histogram);
    }
  }
  const topics = stats.topics.map((t) => ({
    ...t,
    e2e_processing_latency: percentilesOf(percentiles, sums.get(t.topic_name)),
    channels: t.channels.map((c) => ({
      ...c,
      e2e_processing_latency: percentilesOf(percentiles, sums.get(channelKey(t.topic_name, c.channel_name))),
    })),
  }));
  return { ...stats, topics };
}
