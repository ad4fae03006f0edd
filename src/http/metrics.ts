/**
 * GET /metrics in the Prometheus text exposition format (version 0.0.4): the
 * gauges and counters of the core's stats snapshot per topic and channel, plus
 * the one-minute rates.
 */
import { statsSnapshot } from "../core/stats.ts";
import type { NsqdStats } from "../schemas/nsqd-stats.ts";
import type { HttpContext } from "./context.ts";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Kind = "gauge" | "counter";

/** Collects samples per metric so each family is written once with its HELP and TYPE. */
class Families {
  private readonly families = new Map<string, { help: string; kind: Kind; lines: string[] }>();

  add(name: string, kind: Kind, help: string, labels: string, value: number): void {
    let family = this.families.get(name);
    if (family === undefined) {
      family = { help, kind, lines: [] };
      this.families.set(name, family);
    }
    family.lines.push(`${name}${labels} ${value}`);
  }

  render(): string {
    let out = "";
    for (const [name, f] of this.families) {
      out += `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.kind}\n${f.lines.join("\n")}\n`;
    }
    return out;
  }
}

function escapeLabel(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

export function renderMetrics(ctx: HttpContext): string {
  // topics and channels in creation order, as /metrics has always listed them
  const stats = statsSnapshot(ctx.nsqd, { includeClients: true, connections: ctx.tcp.clients, rates: ctx.rates, sorted: false });
  return metricsText(stats, ctx.tcp.clients.size);
}

/** The metrics of a /stats document (with clients) and the number of open TCP connections. */
export function metricsText(stats: NsqdStats, connections: number): string {
  const m = new Families();
  const topics = stats.topics ?? [];
  m.add("nsq_start_time_seconds", "gauge", "Unix time nsqd started at.", "", stats.start_time);
  m.add("nsq_topics", "gauge", "Topics on this nsqd.", "", topics.length);
  m.add("nsq_clients", "gauge", "Open TCP client connections.", "", connections);
  m.add("nsq_producers", "gauge", "TCP connections that have published.", "", stats.producers?.length ?? 0);
  for (const topic of topics) {
    const t = `{topic="${escapeLabel(topic.topic_name)}"}`;
    m.add("nsq_topic_depth", "gauge", "Messages waiting in the topic.", t, topic.depth);
    m.add("nsq_topic_backend_depth", "gauge", "Messages of the topic on disk.", t, topic.backend_depth);
    m.add("nsq_topic_messages_total", "counter", "Messages published to the topic.", t, topic.message_count);
    m.add("nsq_topic_message_bytes_total", "counter", "Bytes of message bodies published.", t, topic.message_bytes);
    m.add("nsq_topic_channels", "gauge", "Channels of the topic.", t, topic.channels.length);
    m.add("nsq_topic_paused", "gauge", "1 while the topic is paused.", t, topic.paused ? 1 : 0);
    m.add("nsq_topic_publish_rate", "gauge", "Messages per second published over the last minute.", t, topic.message_rate_1m);
    for (const channel of topic.channels) {
      const c = `{topic="${escapeLabel(topic.topic_name)}",channel="${escapeLabel(channel.channel_name)}"}`;
      m.add("nsq_channel_depth", "gauge", "Messages waiting in the channel.", c, channel.depth);
      m.add("nsq_channel_backend_depth", "gauge", "Messages of the channel on disk.", c, channel.backend_depth);
      m.add("nsq_channel_in_flight", "gauge", "Messages delivered and not yet answered.", c, channel.in_flight_count);
      m.add("nsq_channel_deferred", "gauge", "Messages deferred for later delivery.", c, channel.deferred_count);
      m.add("nsq_channel_messages_total", "counter", "Messages that reached the channel.", c, channel.message_count);
      m.add("nsq_channel_requeues_total", "counter", "Messages requeued.", c, channel.requeue_count);
      m.add("nsq_channel_timeouts_total", "counter", "Messages that timed out in flight.", c, channel.timeout_count);
      m.add("nsq_channel_clients", "gauge", "Consumers subscribed to the channel.", c, channel.client_count);
      m.add("nsq_channel_paused", "gauge", "1 while the channel is paused.", c, channel.paused ? 1 : 0);
      m.add(
        "nsq_channel_message_rate",
        "gauge",
        "Messages per second reaching the channel over the last minute.",
        c,
        channel.message_rate_1m,
      );
      m.add(
        "nsq_channel_consume_rate",
        "gauge",
        "Messages per second consumed (finished or emptied) over the last minute.",
        c,
        channel.consume_rate_1m,
      );
    }
  }
  return m.render();
}
