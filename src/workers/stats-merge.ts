/**
 * The shared address's /stats and /metrics: every worker's document merged into
 * one nsqd's (/metrics is rendered from the merged document). Counts of the same topic and channel are summed, clients and
 * producers listed together, and a relay link (a sibling's view of a subscriber
 * of the shared address) folded into the subscriber it serves. End-to-end
 * latency percentiles are not merged here: /stats reads them from the workers'
 * histograms added up (latency-merge.ts); /metrics shows none.
 */
import type { ChannelStats, ClientStats, MemStats, NsqdStats, TopicStats } from "../schemas/nsqd-stats.ts";
import { RELAY_AGENT_MARK } from "../tcp/relay-hook.ts";

function mergeChannel(a: ChannelStats, b: ChannelStats): ChannelStats {
  return {
    channel_name: a.channel_name,
    depth: a.depth + b.depth,
    backend_depth: a.backend_depth + b.backend_depth,
    in_flight_count: a.in_flight_count + b.in_flight_count,
    deferred_count: a.deferred_count + b.deferred_count,
    message_count: a.message_count + b.message_count,
    requeue_count: a.requeue_count + b.requeue_count,
    timeout_count: a.timeout_count + b.timeout_count,
    client_count: a.client_count + b.client_count,
    clients: a.clients === null && b.clients === null ? null : [...(a.clients ?? []), ...(b.clients ?? [])],
    paused: a.paused || b.paused,
    // percentiles of parts cannot be added: the shared /stats sets them from the merged histograms (latency-merge.ts)
    e2e_processing_latency: a.e2e_processing_latency,
    message_rate_1m: a.message_rate_1m + b.message_rate_1m,
    consume_rate_1m: a.consume_rate_1m + b.consume_rate_1m,
  };
}

function mergeTopic(a: TopicStats, b: TopicStats): TopicStats {
  const channels = new Map<string, ChannelStats>();
  for (const c of [...a.channels, ...b.channels]) {
    const seen = channels.get(c.channel_name);
    channels.set(c.channel_name, seen === undefined ? c : mergeChannel(seen, c));
  }
  return {
    topic_name: a.topic_name,
    channels: [...channels.values()].sort((x, y) => x.channel_name.localeCompare(y.channel_name)),
    depth: a.depth + b.depth,
    backend_depth: a.backend_depth + b.backend_depth,
    message_count: a.message_count + b.message_count,
    message_bytes: a.message_bytes + b.message_bytes,
    paused: a.paused || b.paused,
    e2e_processing_latency: a.e2e_processing_latency, // as a channel's
    message_rate_1m: a.message_rate_1m + b.message_rate_1m,
  };
}

function sumMemory(a: MemStats, b: MemStats): MemStats {
  const out = { ...a };
  for (const key of Object.keys(out) as (keyof MemStats)[]) out[key] = a[key] + b[key];
  return out;
}

/** A relay link's client entry adds its counts to the subscriber it serves, and is left out. */
function foldRelays(channel: ChannelStats): ChannelStats {
  const clients = channel.clients;
  if (clients === null || !clients.some((c) => c.user_agent.startsWith(RELAY_AGENT_MARK))) return channel;
  const byAddress = new Map<string, ClientStats>();
  const kept: ClientStats[] = [];
  for (const c of clients) {
    if (c.user_agent.startsWith(RELAY_AGENT_MARK)) continue;
    const copy = { ...c };
    kept.push(copy);
    byAddress.set(c.remote_address, copy);
  }
  let relays = 0;
  for (const c of clients) {
    if (!c.user_agent.startsWith(RELAY_AGENT_MARK)) continue;
    const address = c.user_agent.slice(RELAY_AGENT_MARK.length).split(" ")[0];
    const subscriber = byAddress.get(address);
    if (subscriber === undefined) {
      kept.push(c); // its subscriber has just left: still a connection of this nsqd
      continue;
    }
    relays++;
    subscriber.in_flight_count += c.in_flight_count;
    subscriber.message_count += c.message_count;
    subscriber.finish_count += c.finish_count;
    subscriber.requeue_count += c.requeue_count;
  }
  return { ...channel, clients: kept, client_count: channel.client_count - relays };
}

/** One nsqd's /stats document from its workers' documents. */
export function mergeStats(parts: readonly NsqdStats[]): NsqdStats {
  const first = parts[0];
  let topics: Map<string, TopicStats> | null = null;
  let producers: ClientStats[] | null = null;
  let memory: MemStats | undefined;
  let health = first.health;
  let startTime = first.start_time;
  for (const part of parts) {
    if (part.health !== "OK") health = part.health;
    startTime = Math.min(startTime, part.start_time);
    if (part.topics !== null) {
      topics ??= new Map();
      for (const t of part.topics) {
        const seen = topics.get(t.topic_name);
        topics.set(t.topic_name, seen === undefined ? t : mergeTopic(seen, t));
      }
    }
    if (part.producers !== null) producers = [...(producers ?? []), ...part.producers];
    if (part.memory !== undefined) memory = memory === undefined ? part.memory : sumMemory(memory, part.memory);
  }
  const merged =
    topics === null
      ? null
      : [...topics.values()]
          .sort((a, b) => a.topic_name.localeCompare(b.topic_name))
          .map((t) => ({ ...t, channels: t.channels.map(foldRelays) }));
  const head = { version: first.version, health, start_time: startTime, topics: merged };
  return memory === undefined ? { ...head, producers } : { ...head, memory, producers };
}
