/**
 * nsqd's /stats document: field names, order and null/empty conventions as Go's
 * encoding/json writes nsqd 1.3's structs, plus bunsq's message rates. The text
 * format follows nsqd's printStats.
 */
import type { Channel } from "../core/channel.ts";
import { formatDuration } from "../options/duration.ts";
import { VERSION } from "../core/nsqd.ts";
import type { Topic } from "../core/topic.ts";
import { ClientV2 } from "../tcp/client-v2.ts";
import type { HttpContext } from "./context.ts";

export interface StatsFilter {
  topic: string;
  channel: string;
  includeClients: boolean;
  includeMem: boolean;
}

interface PubCount {
  topic: string;
  count: number;
}

export interface ClientStats {
  client_id: string;
  hostname: string;
  version: string;
  remote_address: string;
  state: number;
  ready_count: number;
  in_flight_count: number;
  message_count: number;
  finish_count: number;
  requeue_count: number;
  connect_ts: number;
  sample_rate: number;
  deflate: boolean;
  snappy: boolean;
  user_agent: string;
  pub_counts?: PubCount[];
  tls: boolean;
  tls_cipher_suite: string;
  tls_version: string;
  tls_negotiated_protocol: string;
  tls_negotiated_protocol_is_mutual: boolean;
}

/** nsqd's quantile result: count 0 and null percentiles unless --e2e-processing-latency-percentile is set. */
export interface E2eLatency {
  count: number;
  percentiles: { quantile: number; value: number }[] | null;
}

export interface ChannelStats {
  channel_name: string;
  depth: number;
  backend_depth: number;
  in_flight_count: number;
  deferred_count: number;
  message_count: number;
  requeue_count: number;
  timeout_count: number;
  client_count: number;
  clients: ClientStats[] | null;
  paused: boolean;
  e2e_processing_latency: E2eLatency;
  /** bunsq: messages per second reaching / leaving the channel over the last minute. */
  message_rate_1m: number;
  consume_rate_1m: number;
}

export interface TopicStats {
  topic_name: string;
  channels: ChannelStats[];
  depth: number;
  backend_depth: number;
  message_count: number;
  message_bytes: number;
  paused: boolean;
  e2e_processing_latency: E2eLatency;
  /** bunsq: messages per second published over the last minute. */
  message_rate_1m: number;
}

export interface MemStats {
  heap_objects: number;
  heap_idle_bytes: number;
  heap_in_use_bytes: number;
  heap_released_bytes: number;
  gc_pause_usec_100: number;
  gc_pause_usec_99: number;
  gc_pause_usec_95: number;
  next_gc_bytes: number;
  gc_total_runs: number;
}

export interface NsqdStats {
  version: string;
  health: string;
  start_time: number;
  topics: TopicStats[] | null;
  memory?: MemStats;
  producers: ClientStats[] | null;
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

type TlsStats = Pick<
  ClientStats,
  "tls" | "tls_cipher_suite" | "tls_version" | "tls_negotiated_protocol" | "tls_negotiated_protocol_is_mutual"
>;

/** Go's names for TLS versions, as nsqd reports them. */
const TLS_VERSION_NAMES: Record<string, string> = {
  TLSv1: "TLS1.0",
  "TLSv1.1": "TLS1.1",
  "TLSv1.2": "TLS1.2",
  "TLSv1.3": "TLS1.3",
};

function tlsStats(client: ClientV2): TlsStats {
  const session = client.tlsSession();
  if (session === null) {
    return { tls: false, tls_cipher_suite: "", tls_version: "", tls_negotiated_protocol: "", tls_negotiated_protocol_is_mutual: false };
  }
  const { version, cipher } = session;
  return {
    tls: true,
    tls_cipher_suite: cipher?.standardName ?? cipher?.name ?? "",
    tls_version: TLS_VERSION_NAMES[version] ?? version,
    tls_negotiated_protocol: "",
    tls_negotiated_protocol_is_mutual: true,
  };
}

export function clientStats(client: ClientV2, topicFilter: string): ClientStats {
  const stats: ClientStats = {
    client_id: client.clientId,
    hostname: client.hostname,
    version: "V2",
    remote_address: client.remoteAddress,
    state: client.state,
    ready_count: client.readyCount,
    in_flight_count: client.inFlightCount,
    message_count: client.messageCount,
    finish_count: client.finishCount,
    requeue_count: client.requeueCount,
    connect_ts: Math.floor(client.connectTime / 1000),
    sample_rate: client.settings.sampleRate,
    deflate: client.compression === "deflate",
    snappy: client.compression === "snappy",
    user_agent: client.userAgent,
    ...tlsStats(client),
  };
  const pubCounts: PubCount[] = [];
  for (const [topic, count] of client.pubCounts) {
    if (topicFilter === "" || topic === topicFilter) pubCounts.push({ topic, count });
  }
  if (pubCounts.length > 0) {
    // omitempty: the key sits where Go puts it, before the TLS fields
    const { tls, tls_cipher_suite, tls_version, tls_negotiated_protocol, tls_negotiated_protocol_is_mutual, ...head } =
      stats;
    return {
      ...head,
      pub_counts: pubCounts,
      tls,
      tls_cipher_suite,
      tls_version,
      tls_negotiated_protocol,
      tls_negotiated_protocol_is_mutual,
    };
  }
  return stats;
}

function channelStats(ctx: HttpContext, channel: Channel, filter: StatsFilter): ChannelStats {
  let clients: ClientStats[] | null = null;
  if (filter.includeClients) {
    clients = [];
    for (const consumer of channel.consumers) {
      if (consumer instanceof ClientV2) clients.push(clientStats(consumer, filter.topic));
    }
  }
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
    clients,
    paused: channel.paused,
    e2e_processing_latency: ctx.tcp.latency.channel(channel),
    message_rate_1m: ctx.rates.channelRate(channel),
    consume_rate_1m: ctx.rates.consumeRate(channel),
  };
}

function topicStats(ctx: HttpContext, topic: Topic, filter: StatsFilter): TopicStats | null {
  let channels: Channel[];
  if (filter.channel === "") {
    channels = [...topic.channels.values()].sort(byName);
  } else {
    const channel = topic.getExistingChannel(filter.channel);
    // nsqd leaves out a topic that lacks the requested channel
    if (channel === undefined) return null;
    channels = [channel];
  }
  return {
    topic_name: topic.name,
    channels: channels.map((c) => channelStats(ctx, c, filter)),
    depth: topic.depth,
    backend_depth: topic.backendDepth,
    message_count: topic.messageCount,
    message_bytes: topic.messageBytes,
    paused: topic.paused,
    e2e_processing_latency: ctx.tcp.latency.topic(topic),
    message_rate_1m: ctx.rates.topicRate(topic),
  };
}

function memStats(): MemStats {
  const mem = process.memoryUsage();
  return {
    heap_objects: 0,
    heap_idle_bytes: Math.max(0, mem.heapTotal - mem.heapUsed),
    heap_in_use_bytes: mem.heapUsed,
    heap_released_bytes: 0,
    gc_pause_usec_100: 0,
    gc_pause_usec_99: 0,
    gc_pause_usec_95: 0,
    next_gc_bytes: 0,
    gc_total_runs: 0,
  };
}

export function producers(ctx: HttpContext): ClientV2[] {
  const out: ClientV2[] = [];
  for (const client of ctx.tcp.clients) if (client.pubCounts.size > 0) out.push(client);
  return out;
}

export function collectStats(ctx: HttpContext, filter: StatsFilter): NsqdStats {
  const nsqd = ctx.nsqd;
  let topics: TopicStats[] | null;
  if (filter.topic === "") {
    topics = [];
    for (const topic of [...nsqd.topics.values()].sort(byName)) {
      const stats = topicStats(ctx, topic, filter);
      if (stats !== null) topics.push(stats);
    }
  } else {
    const topic = nsqd.getExistingTopic(filter.topic);
    const stats = topic === undefined ? null : topicStats(ctx, topic, filter);
    // nsqd: an unknown topic leaves the list empty (null), a missing channel an empty list
    topics = topic === undefined ? null : stats === null ? [] : [stats];
  }
  const result: NsqdStats = {
    version: VERSION,
    health: nsqd.health,
    start_time: Math.floor(nsqd.startTime / 1000),
    topics,
    producers: filter.includeClients ? producers(ctx).map((c) => clientStats(c, filter.topic)) : null,
  };
  if (filter.includeMem) {
    const { producers: p, ...head } = result;
    return { ...head, memory: memStats(), producers: p };
  }
  return result;
}

// ---- text format ----

const pad = (value: string | number, width: number) => String(value).padEnd(width);

function connectedFor(client: ClientStats, now: number): string {
  return formatDuration(Math.max(0, Math.floor(now / 1000) - client.connect_ts) * 1000);
}

function clientLine(client: ClientStats, now: number): string {
  const port = client.remote_address.slice(client.remote_address.lastIndexOf(":") + 1);
  const id = `${client.hostname}:${port} ${client.user_agent}`;
  if (client.pub_counts !== undefined) {
    const total = client.pub_counts.reduce((n, p) => n + p.count, 0);
    const topics = client.pub_counts.map((p) => `${p.topic}=${p.count}`).join(",");
    return `[${client.version} ${pad(id, 21)}] msgs: ${pad(total, 8)} topics: ${topics} connected: ${connectedFor(client, now)}`;
  }
  return (
    `[${client.version} ${pad(id, 21)}] state: ${client.state} inflt: ${pad(client.in_flight_count, 4)} ` +
    `rdy: ${pad(client.ready_count, 4)} fin: ${pad(client.finish_count, 8)} re-q: ${pad(client.requeue_count, 8)} ` +
    `msgs: ${pad(client.message_count, 8)} connected: ${connectedFor(client, now)}`
  );
}

/** RFC 3339 in local time with its offset, like Go's time.Format(time.RFC3339). */
function rfc3339(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  const offset = -d.getTimezoneOffset();
  const zone =
    offset === 0 ? "Z" : `${offset > 0 ? "+" : "-"}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
  return (
    `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}${zone}`
  );
}

/** nsqd's text for percentile values (stringy.NanoSecondToHuman), comma-separated. */
function e2eText(latency: E2eLatency): string {
  const human = (ns: number) =>
    ns > 1e9 ? `${(ns / 1e9).toFixed(1)}s` : ns > 1e6 ? `${(ns / 1e6).toFixed(1)}ms` : ns > 1e3 ? `${(ns / 1e3).toFixed(1)}us` : `${ns.toFixed(1)}ns`;
  return (latency.percentiles ?? []).map((p) => human(p.value)).join(", ");
}

export function formatStatsText(stats: NsqdStats, startTime: number): string {
  const now = Date.now();
  const lines: string[] = [
    `nsqd v${stats.version} (bun ${Bun.version})`,
    `start_time ${rfc3339(startTime)}`,
    `uptime ${formatDuration(now - startTime)}`,
    "",
    `Health: ${stats.health}`,
  ];
  const mem = stats.memory;
  if (mem !== undefined) {
    lines.push("", "Memory:");
    for (const [key, value] of Object.entries(mem)) lines.push(`   ${pad(key, 25)}\t${value}`);
  }
  const topics = stats.topics ?? [];
  if (topics.length === 0) lines.push("", "Topics: None");
  else lines.push("", "Topics:");
  for (const [i, t] of topics.entries()) {
    if (i > 0) lines.push("");
    lines.push(
      `${t.paused ? "*P " : "   "}[${pad(t.topic_name, 15)}] depth: ${pad(t.depth, 5)} be-depth: ${pad(t.backend_depth, 5)} ` +
        `msgs: ${pad(t.message_count, 8)} e2e%: ${e2eText(t.e2e_processing_latency)}`,
    );
    for (const c of t.channels) {
      lines.push(
        `${c.paused ? "   *P " : "      "}[${pad(c.channel_name, 25)}] depth: ${pad(c.depth, 5)} ` +
          `be-depth: ${pad(c.backend_depth, 5)} inflt: ${pad(c.in_flight_count, 4)} def: ${pad(c.deferred_count, 4)} ` +
          `re-q: ${pad(c.requeue_count, 5)} timeout: ${pad(c.timeout_count, 5)} msgs: ${pad(c.message_count, 8)} ` +
          `e2e%: ${e2eText(c.e2e_processing_latency)}`,
      );
      for (const client of c.clients ?? []) lines.push(`        ${clientLine(client, now)}`);
    }
  }
  const producerList = stats.producers ?? [];
  if (producerList.length === 0) lines.push("", "Producers: None");
  else {
    lines.push("", "Producers:");
    for (const client of producerList) lines.push(`   ${clientLine(client, now)}`);
  }
  return `${lines.join("\n")}\n`;
}
