/**
 * nsqd's /stats?format=json document, declared once: nsqd 1.3's field names and
 * null conventions plus bunsq's message rates. The nsqd builds it (core/stats.ts),
 * its HTTP API documents it in OpenAPI, nsqadmin and nsq_stat read it. This
 * folder holds only the JSON shapes programs exchange, so a tool can import
 * them without loading the broker.
 */
import { z } from "zod";

/** nsqd's quantile result: count 0 and null percentiles unless --e2e-processing-latency-percentile is set. */
export const e2eLatencySchema = z.object({
  count: z.int(),
  percentiles: z.array(z.object({ quantile: z.number(), value: z.number().describe("nanoseconds") })).nullable(),
});

export const pubCountSchema = z.object({ topic: z.string(), count: z.int() });

export const clientStatsSchema = z.object({
  client_id: z.string(),
  hostname: z.string(),
  version: z.string(),
  remote_address: z.string(),
  state: z.int().describe("0 init, 1 disconnected, 2 connected, 3 subscribed, 4 closing"),
  ready_count: z.int(),
  in_flight_count: z.int(),
  message_count: z.int(),
  finish_count: z.int(),
  requeue_count: z.int(),
  connect_ts: z.int().describe("Unix seconds"),
  sample_rate: z.int(),
  deflate: z.boolean(),
  snappy: z.boolean(),
  user_agent: z.string(),
  pub_counts: z.array(pubCountSchema).optional().describe("Messages published per topic; left out when none"),
  tls: z.boolean(),
  tls_cipher_suite: z.string(),
  tls_version: z.string(),
  tls_negotiated_protocol: z.string(),
  tls_negotiated_protocol_is_mutual: z.boolean(),
});

export const channelStatsSchema = z.object({
  channel_name: z.string(),
  depth: z.int(),
  backend_depth: z.int(),
  in_flight_count: z.int(),
  deferred_count: z.int(),
  message_count: z.int(),
  requeue_count: z.int(),
  timeout_count: z.int(),
  client_count: z.int(),
  clients: z.array(clientStatsSchema).nullable().describe("null with include_clients=false"),
  paused: z.boolean(),
  e2e_processing_latency: e2eLatencySchema,
  message_rate_1m: z.number().describe("bunsq: messages/s reaching the channel over the last minute"),
  consume_rate_1m: z.number().describe("bunsq: messages/s finished (or emptied) over the last minute"),
});

export const topicStatsSchema = z.object({
  topic_name: z.string(),
  channels: z.array(channelStatsSchema),
  depth: z.int(),
  backend_depth: z.int(),
  message_count: z.int(),
  message_bytes: z.int(),
  paused: z.boolean(),
  e2e_processing_latency: e2eLatencySchema,
  message_rate_1m: z.number().describe("bunsq: messages/s published over the last minute"),
});

/** Go's runtime figures, as far as Bun has them (the rest is 0). */
export const memStatsSchema = z.object({
  heap_objects: z.int(),
  heap_idle_bytes: z.int(),
  heap_in_use_bytes: z.int(),
  heap_released_bytes: z.int(),
  gc_pause_usec_100: z.int(),
  gc_pause_usec_99: z.int(),
  gc_pause_usec_95: z.int(),
  next_gc_bytes: z.int(),
  gc_total_runs: z.int(),
});

export const nsqdStatsSchema = z
  .object({
    version: z.string(),
    health: z.string(),
    start_time: z.int().describe("Unix seconds"),
    topics: z.array(topicStatsSchema).nullable().describe("null when the topic asked for does not exist"),
    memory: memStatsSchema.optional().describe("left out with include_mem=false"),
    producers: z.array(clientStatsSchema).nullable().describe("null with include_clients=false"),
  })
  .describe("JSON with format=json; nsqd's text report otherwise");

export type E2eLatency = z.infer<typeof e2eLatencySchema>;
export type PubCount = z.infer<typeof pubCountSchema>;
export type ClientStats = z.infer<typeof clientStatsSchema>;
export type ChannelStats = z.infer<typeof channelStatsSchema>;
export type TopicStats = z.infer<typeof topicStatsSchema>;
export type MemStats = z.infer<typeof memStatsSchema>;
export type NsqdStats = z.infer<typeof nsqdStatsSchema>;
