/**
 * The shared address's /stats/history: every worker's history merged into one
 * nsqd's, sample by sample. Every series of the sampler adds up across workers:
 * the per-interval counts (messages_in, messages_out, requeued, timed_out) are
 * the nsqd's counts, and the depths and in-flight counts at an instant are the
 * nsqd's depths then, as /stats sums them. Of the document itself, interval_ms
 * and capacity are the same in every worker (the same options) and are kept,
 * bytes (storage held) adds up, and end is where the merged series end.
 */
import { CHANNEL_SERIES, TOPIC_SERIES } from "../core/history.ts";
import type { NsqdHistory } from "../schemas/nsqd-history.ts";

type TopicHistory = NsqdHistory["topics"][number];
type ChannelHistory = TopicHistory["channels"][number];

/** One worker's series of a topic or channel, and the grid slot of its newest sample. */
interface Part<K extends string> {
  series: Record<K, number[]>;
  endSlot: number;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The series summed slot by slot over the merged window: the `capacity` slots
 * ending at `endSlot`, starting at the oldest slot any part has a sample in. A
 * part without a sample in a slot counts 0 there: its sampler keeps nothing
 * while its topic or channel is idle. Empty when no part has a sample in the window.
 */
function sumSeries<K extends string>(
  names: readonly K[],
  parts: readonly Part<K>[],
  endSlot: number,
  capacity: number,
): Record<K, number[]> {
  let first = endSlot + 1;
  for (const { series, endSlot: partEnd } of parts) {
    const n = series[names[0]!].length;
    if (n > 0) first = Math.min(first, partEnd - n + 1);
  }
  first = Math.max(first, endSlot - capacity + 1);
  const length = Math.max(0, endSlot - first + 1);
  const out = {} as Record<K, number[]>;
  for (const name of names) {
    const sum = new Array<number>(length).fill(0);
    for (const { series, endSlot: partEnd } of parts) {
      const values = series[name];
      // where the part's first sample falls in the merged series (negative: before its start)
      const offset = partEnd - values.length + 1 - first;
      for (let i = Math.max(0, -offset); i < values.length && offset + i < length; i++) sum[offset + i]! += values[i]!;
    }
    out[name] = sum;
  }
  return out;
}

/** The parts' objects (topics, or one topic's channels) grouped by name, in name order. */
function groupByName<T>(items: readonly { name: string; part: T }[]): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const { name, part } of items) {
    const group = groups.get(name);
    if (group === undefined) groups.set(name, [part]);
    else group.push(part);
  }
  return [...groups.entries()].sort(([a], [b]) => byName(a, b));
}

/** One nsqd's /stats/history document from its workers' documents (filtered alike). */
export function mergeHistories(parts: readonly NsqdHistory[]): NsqdHistory {
  const { interval_ms: interval, capacity } = parts[0]!;
  // Each worker's sampler runs on its own timer in its own process and stamps a
  // sample with the interval boundary it belongs to, but one worker may have taken
  // the newest boundary's sample and another not yet (or a late tick stamped one a
  // boundary on). Samples are aligned by their slot on the interval grid
  // (round(t / interval)), so a sum always adds samples of the same instant, and
  // the merged series end at the newest slot EVERY worker has sampled: the last
  // sample is never a partial sum (a worker's newer samples show up next time).
  // A worker that has not sampled yet (end 0) holds no samples, only names.
  const slotOf = (end: number) => Math.round(end / interval);
  const sampled = parts.filter((p) => p.end > 0);
  const endSlot = sampled.length === 0 ? 0 : Math.min(...sampled.map((p) => slotOf(p.end)));
  const topicParts = parts.flatMap((p) =>
    p.topics.map((t) => ({ name: t.topic_name, part: { series: t, endSlot: slotOf(p.end) } })),
  );
  const topics = groupByName(topicParts).map(([topicName, group]): TopicHistory => {
    const channelParts = group.flatMap(({ series, endSlot: partEnd }) =>
      series.channels.map((c) => ({ name: c.channel_name, part: { series: c, endSlot: partEnd } })),
    );
    const channels = groupByName(channelParts).map(
      ([channelName, members]): ChannelHistory => ({
        channel_name: channelName,
        ...sumSeries(CHANNEL_SERIES, members, endSlot, capacity),
      }),
    );
    return { topic_name: topicName, ...sumSeries(TOPIC_SERIES, group, endSlot, capacity), channels };
  });
  return {
    interval_ms: interval,
    capacity,
    end: endSlot * interval,
    bytes: parts.reduce((sum, p) => sum + p.bytes, 0),
    topics,
  };
}
