/**
 * From each nsqd's /stats to nsqadmin's view: per-node topic and channel stats
 * (tagged with the node), and their sums across nodes, as NSQ's clusterinfo
 * builds them.
 */
import type {
  ChannelStats,
  ClientStats,
  E2eLatency,
  NsqdChannelJson,
  NsqdClientJson,
  NsqdTopicJson,
  Producer,
  TopicStats,
} from "./types.ts";

const NS_PER_S = 1_000_000_000;

const byHostname = <T extends { hostname: string; node: string }>(a: T, b: T) =>
  a.hostname.localeCompare(b.hostname) || a.node.localeCompare(b.node);

function clientStats(node: string, c: NsqdClientJson, nowS: number): ClientStats {
  const remote = c.remote_address ?? "";
  const connectTs = c.connect_ts ?? 0;
  return {
    node,
    remote_address: remote,
    version: c.version ?? "",
    // NSQ before 1.0 only reported a name
    client_id: c.client_id || `${c.name ?? ""}:${remote.slice(remote.lastIndexOf(":") + 1) || "NA"}`,
    hostname: c.hostname ?? "",
    user_agent: c.user_agent ?? "",
    connect_ts: connectTs,
    connected: Math.max(0, nowS - connectTs) * NS_PER_S,
    in_flight_count: c.in_flight_count ?? 0,
    ready_count: c.ready_count ?? 0,
    finish_count: c.finish_count ?? 0,
    requeue_count: c.requeue_count ?? 0,
    message_count: c.message_count ?? 0,
    sample_rate: c.sample_rate ?? 0,
    deflate: c.deflate ?? false,
    snappy: c.snappy ?? false,
    authed: c.authed ?? false,
    auth_identity: c.auth_identity ?? "",
    auth_identity_url: c.auth_identity_url ?? "",
    tls: c.tls ?? false,
    tls_cipher_suite: c.tls_cipher_suite ?? "",
    tls_version: c.tls_version ?? "",
    tls_negotiated_protocol: c.tls_negotiated_protocol ?? "",
    tls_negotiated_protocol_is_mutual: c.tls_negotiated_protocol_is_mutual ?? false,
  };
}

const noLatency = (): E2eLatency => ({ count: 0, percentiles: null });

function nodeChannel(producer: Producer, topic: string, c: NsqdChannelJson, nowS: number): ChannelStats {
  const node = `${producer.broadcast_address}:${producer.http_port}`;
  const clients = (c.clients ?? []).map((client) => clientStats(node, client, nowS));
  return {
    node,
    hostname: producer.hostname,
    topic_name: topic,
    channel_name: c.channel_name,
    depth: c.depth,
    memory_depth: c.depth - c.backend_depth,
    backend_depth: c.backend_depth,
    in_flight_count: c.in_flight_count,
    deferred_count: c.deferred_count,
    requeue_count: c.requeue_count,
    timeout_count: c.timeout_count,
    message_count: c.message_count,
    client_count: c.client_count ?? clients.length,
    nodes: null,
    clients,
    paused: c.paused,
    e2e_processing_latency: c.e2e_processing_latency ?? noLatency(),
    message_rate_1m: c.message_rate_1m ?? null,
    consume_rate_1m: c.consume_rate_1m ?? null,
  };
}

/** One nsqd's topic, tagged with the node it came from. */
export function nodeTopic(producer: Producer, t: NsqdTopicJson, nowS: number): TopicStats {
  return {
    node: `${producer.broadcast_address}:${producer.http_port}`,
    hostname: producer.hostname,
    topic_name: t.topic_name,
    depth: t.depth,
    memory_depth: t.depth - t.backend_depth,
    backend_depth: t.backend_depth,
    message_count: t.message_count,
    nodes: null,
    channels: (t.channels ?? []).map((c) => nodeChannel(producer, t.topic_name, c, nowS)),
    paused: t.paused,
    e2e_processing_latency: t.e2e_processing_latency ?? noLatency(),
    message_rate_1m: t.message_rate_1m ?? null,
  };
}

/** Count-weighted merge of per-node percentiles (same quantiles on every node). */
function mergeLatency(parts: E2eLatency[]): E2eLatency {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const values = new Map<number, { weighted: number; weight: number }>();
  for (const part of parts) {
    for (const p of part.percentiles ?? []) {
      const v = values.get(p.quantile) ?? { weighted: 0, weight: 0 };
      v.weighted += p.value * part.count;
      v.weight += part.count;
      values.set(p.quantile, v);
    }
  }
  if (values.size === 0) return { count, percentiles: null };
  const percentiles = [...values.entries()]
    .sort((a, b) => b[0] - a[0])
    .map(([quantile, v]) => ({ quantile, value: v.weight === 0 ? 0 : v.weighted / v.weight }));
  return { count, percentiles };
}

/** Sum of rates, or null when no node reports one (Go's nsqd). */
function sumRates(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0);
}

const sum = <T>(items: T[], get: (item: T) => number) => items.reduce((n, item) => n + get(item), 0);

/** A channel summed over the nodes that have it; node "*". */
export function aggregateChannel(topic: string, channel: string, parts: ChannelStats[]): ChannelStats {
  const nodes = [...parts].sort(byHostname);
  return {
    node: "*",
    hostname: "",
    topic_name: topic,
    channel_name: channel,
    depth: sum(parts, (c) => c.depth),
    memory_depth: sum(parts, (c) => c.memory_depth),
    backend_depth: sum(parts, (c) => c.backend_depth),
    in_flight_count: sum(parts, (c) => c.in_flight_count),
    deferred_count: sum(parts, (c) => c.deferred_count),
    requeue_count: sum(parts, (c) => c.requeue_count),
    timeout_count: sum(parts, (c) => c.timeout_count),
    message_count: sum(parts, (c) => c.message_count),
    client_count: sum(parts, (c) => c.client_count),
    nodes,
    clients: nodes.flatMap((c) => c.clients).sort(byHostname),
    paused: parts.some((c) => c.paused),
    e2e_processing_latency: mergeLatency(parts.map((c) => c.e2e_processing_latency)),
    message_rate_1m: sumRates(parts.map((c) => c.message_rate_1m)),
    consume_rate_1m: sumRates(parts.map((c) => c.consume_rate_1m)),
  };
}

/** Channels of per-node topics grouped by name and summed, in name order. */
export function aggregateChannels(topic: string, perNode: TopicStats[]): ChannelStats[] {
  const groups = new Map<string, ChannelStats[]>();
  for (const t of perNode) {
    for (const c of t.channels) {
      const group = groups.get(c.channel_name);
      if (group === undefined) groups.set(c.channel_name, [c]);
      else group.push(c);
    }
  }
  return [...groups.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([name, parts]) => aggregateChannel(topic, name, parts));
}

/** A topic summed over its nodes; node "*", per-node stats under `nodes`. */
export function aggregateTopic(topic: string, perNode: TopicStats[]): TopicStats {
  return {
    node: "*",
    hostname: "",
    topic_name: topic,
    depth: sum(perNode, (t) => t.depth),
    memory_depth: sum(perNode, (t) => t.memory_depth),
    backend_depth: sum(perNode, (t) => t.backend_depth),
    message_count: sum(perNode, (t) => t.message_count),
    nodes: [...perNode].sort(byHostname),
    channels: aggregateChannels(topic, perNode),
    paused: perNode.some((t) => t.paused),
    e2e_processing_latency: mergeLatency(perNode.map((t) => t.e2e_processing_latency)),
    message_rate_1m: sumRates(perNode.map((t) => t.message_rate_1m)),
  };
}
