/**
 * nsqd's /stats: the core's snapshot with the process memory figures, as JSON
 * (field names, order and null/empty conventions as Go's encoding/json writes
 * nsqd 1.3's structs, plus bunsq's message rates) or as the text of nsqd's printStats.
 */
import { statsSnapshot } from "../core/stats.ts";
import { formatDuration } from "../options/duration.ts";
import type { ClientStats, E2eLatency, MemStats, NsqdStats } from "../schemas/nsqd-stats.ts";
import type { HttpContext } from "./context.ts";

export interface StatsFilter {
  topic: string;
  channel: string;
  includeClients: boolean;
  includeMem: boolean;
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

export function collectStats(ctx: HttpContext, filter: StatsFilter): NsqdStats {
  const result = statsSnapshot(ctx.nsqd, {
    topic: filter.topic,
    channel: filter.channel,
    includeClients: filter.includeClients,
    connections: ctx.tcp.clients,
    rates: ctx.rates,
  });
  if (filter.includeMem) {
    // the key sits where Go puts it, before the producers
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
