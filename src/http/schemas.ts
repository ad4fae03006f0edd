/** Typed schemas of the API, for the OpenAPI document. */
import { t } from "elysia";

export const ErrorBody = t.Object(
  { message: t.String({ description: "nsqd's error code, e.g. TOPIC_NOT_FOUND" }) },
  { description: "An error, as nsqd sends it" },
);

export const OkText = t.Literal("OK", { description: "Plain text OK" });
export const EmptyOk = t.String({ description: "Empty body: done", maxLength: 0 });

const topicParam = t.String({ description: "Topic name: 1-64 of [.a-zA-Z0-9_-], optionally ending in #ephemeral" });
const channelParam = t.String({ description: "Channel name, same rules as topics" });

export const TopicQuery = t.Object({ topic: t.Optional(topicParam) });
export const TopicChannelQuery = t.Object({ topic: t.Optional(topicParam), channel: t.Optional(channelParam) });

export const PubQuery = t.Object({
  topic: t.Optional(topicParam),
  defer: t.Optional(t.String({ description: "Deliver after this many milliseconds (0 to --max-req-timeout)" })),
});

export const MpubQuery = t.Object({
  topic: t.Optional(topicParam),
  binary: t.Optional(
    t.String({ description: "true/1: body is [4-byte count]([4-byte size][bytes])*, big-endian; else one message per line" }),
  ),
});

export const StatsQuery = t.Object({
  format: t.Optional(t.String({ description: "json for JSON; text otherwise" })),
  topic: t.Optional(t.String({ description: "Only this topic" })),
  channel: t.Optional(t.String({ description: "Only this channel (of each topic)" })),
  include_clients: t.Optional(t.String({ description: "false/0 to leave out clients and producers (default true)" })),
  include_mem: t.Optional(t.String({ description: "false/0 to leave out memory statistics (default true)" })),
});

const E2e = t.Object({
  count: t.Integer(),
  percentiles: t.Union([t.Array(t.Object({ quantile: t.Number(), value: t.Number() })), t.Null()]),
});

const Client = t.Object({
  client_id: t.String(),
  hostname: t.String(),
  version: t.String(),
  remote_address: t.String(),
  state: t.Integer({ description: "0 init, 1 disconnected, 2 connected, 3 subscribed, 4 closing" }),
  ready_count: t.Integer(),
  in_flight_count: t.Integer(),
  message_count: t.Integer(),
  finish_count: t.Integer(),
  requeue_count: t.Integer(),
  connect_ts: t.Integer({ description: "Unix seconds" }),
  sample_rate: t.Integer(),
  deflate: t.Boolean(),
  snappy: t.Boolean(),
  user_agent: t.String(),
  pub_counts: t.Optional(t.Array(t.Object({ topic: t.String(), count: t.Integer() }))),
  tls: t.Boolean(),
  tls_cipher_suite: t.String(),
  tls_version: t.String(),
  tls_negotiated_protocol: t.String(),
  tls_negotiated_protocol_is_mutual: t.Boolean(),
});

const ChannelStats = t.Object({
  channel_name: t.String(),
  depth: t.Integer(),
  backend_depth: t.Integer(),
  in_flight_count: t.Integer(),
  deferred_count: t.Integer(),
  message_count: t.Integer(),
  requeue_count: t.Integer(),
  timeout_count: t.Integer(),
  client_count: t.Integer(),
  clients: t.Union([t.Array(Client), t.Null()]),
  paused: t.Boolean(),
  e2e_processing_latency: E2e,
  message_rate_1m: t.Number({ description: "bunsq: messages/s reaching the channel over the last minute" }),
  consume_rate_1m: t.Number({ description: "bunsq: messages/s finished (or emptied) over the last minute" }),
});

const TopicStats = t.Object({
  topic_name: t.String(),
  channels: t.Array(ChannelStats),
  depth: t.Integer(),
  backend_depth: t.Integer(),
  message_count: t.Integer(),
  message_bytes: t.Integer(),
  paused: t.Boolean(),
  e2e_processing_latency: E2e,
  message_rate_1m: t.Number({ description: "bunsq: messages/s published over the last minute" }),
});

export const StatsBody = t.Object(
  {
    version: t.String(),
    health: t.String(),
    start_time: t.Integer({ description: "Unix seconds" }),
    topics: t.Union([t.Array(TopicStats), t.Null()]),
    memory: t.Optional(t.Record(t.String(), t.Integer())),
    producers: t.Union([t.Array(Client), t.Null()]),
  },
  { description: "JSON with format=json; nsqd's text report otherwise" },
);

export const InfoBody = t.Object({
  version: t.String(),
  broadcast_address: t.String(),
  hostname: t.String(),
  http_port: t.Integer(),
  tcp_port: t.Integer(),
  start_time: t.Integer({ description: "Unix seconds" }),
  max_heartbeat_interval: t.Integer({ description: "Nanoseconds" }),
  max_output_buffer_size: t.Integer(),
  max_output_buffer_timeout: t.Integer({ description: "Nanoseconds" }),
  max_deflate_level: t.Integer(),
});

/** Request bodies are read raw (never parsed by the framework), so they are described here. */
export const textBody = (description: string) => ({
  description,
  content: {
    "text/plain": { schema: { type: "string" as const } },
    "application/octet-stream": { schema: { type: "string" as const, format: "binary" } },
  },
});

export const HistoryQuery = t.Object({
  topic: t.Optional(t.String({ description: "Only this topic" })),
  channel: t.Optional(t.String({ description: "Only this channel (of each topic)" })),
});

const samples = (description: string) => t.Array(t.Integer({ minimum: 0 }), { description });
const perInterval = (what: string) => samples(`${what} during each interval, oldest first`);
const atEnd = (what: string) => samples(`${what} at the end of each interval, oldest first`);

const ChannelHistory = t.Object({
  channel_name: t.String(),
  messages_in: perInterval("Messages that reached the channel"),
  messages_out: perInterval("Messages that left the channel for good (finished, or emptied)"),
  requeued: perInterval("Messages requeued (REQ, or handed back by a consumer that left)"),
  timed_out: perInterval("Messages that timed out in flight"),
  memory_depth: atEnd("Messages queued in memory"),
  backend_depth: atEnd("Messages queued on disk"),
  in_flight: atEnd("Messages in flight"),
});

const TopicHistory = t.Object({
  topic_name: t.String(),
  messages_in: perInterval("Messages published"),
  memory_depth: atEnd("Messages waiting in the topic's memory queue"),
  backend_depth: atEnd("Messages waiting in the topic's disk queue"),
  channels: t.Array(ChannelHistory),
});

export const HistoryBody = t.Object(
  {
    interval_ms: t.Integer({ description: "Milliseconds between samples (10000)" }),
    capacity: t.Integer({ description: "Samples kept per topic and channel (360: an hour)" }),
    end: t.Integer({
      description:
        "Unix ms of the newest sample, a multiple of interval_ms; every series ends there (sample i of n is at end - (n-1-i) * interval_ms). 0 before the first sample",
    }),
    bytes: t.Integer({ description: "Bytes of sample storage this nsqd holds over all its topics and channels" }),
    topics: t.Array(TopicHistory),
  },
  {
    description:
      "bunsq: per-interval counts and depths of each topic and channel. A series is shorter than capacity while the " +
      "topic or channel is younger than the window, and empty while it has been idle (no message and no depth) for the whole window",
  },
);
