/**
 * zod schemas of nsqadmin's API answers, for the OpenAPI document and the types
 * of types.ts. Its topics, channels and clients are nsqd's (schemas/nsqd-stats.ts)
 * tagged with their node and summed over nodes, as NSQ 1.3's clusterinfo does.
 */
import { z } from "zod";
import { channelStatsSchema, clientStatsSchema, topicStatsSchema } from "../schemas/nsqd-stats.ts";

const message = z.string().describe('"" or "WARNING: ..." listing the daemons that failed');
const rate = z.number().nullable().describe("bunsq: messages per second over the last minute (null from Go's nsqd)");
const node = z.string().describe('"*" for the sum over nodes');

export const clientSchema = clientStatsSchema.omit({ state: true, pub_counts: true }).extend({
  node: z.string(),
  connected: z.number().describe("nanoseconds"),
  authed: z.boolean(),
  auth_identity: z.string(),
  auth_identity_url: z.string(),
});

const channelFields = channelStatsSchema.omit({ clients: true, message_rate_1m: true, consume_rate_1m: true }).extend({
  node,
  hostname: z.string(),
  topic_name: z.string(),
  memory_depth: z.int(),
  clients: z.array(clientSchema),
  message_rate_1m: rate,
  consume_rate_1m: rate,
});
const nodeChannel = channelFields.extend({ nodes: z.null() });
export const channelSchema = channelFields.extend({ nodes: z.array(nodeChannel).nullable() });

const topicFields = topicStatsSchema.omit({ channels: true, message_bytes: true, message_rate_1m: true }).extend({
  node,
  hostname: z.string(),
  memory_depth: z.int(),
  channels: z.array(channelSchema),
  message_rate_1m: rate,
});
const nodeTopic = topicFields.extend({ nodes: z.null() });
export const topicSchema = topicFields.extend({ nodes: z.array(nodeTopic).nullable() });

export const producerSchema = z.object({
  remote_addresses: z.array(z.string()),
  remote_address: z.string(),
  hostname: z.string(),
  broadcast_address: z.string(),
  tcp_port: z.number(),
  http_port: z.number(),
  version: z.string(),
  topics: z.array(z.object({ topic: z.string(), tombstoned: z.boolean() })),
  out_of_date: z.boolean(),
});

export const topicsAnswer = z.object({
  topics: z.union([z.array(z.string()), z.record(z.string(), z.array(z.string()))]).describe(
    "topic names; with inactive=true, topics without producers mapped to their channels",
  ),
  message,
});
export const topicAnswer = topicSchema.extend({ message });
export const channelAnswer = channelSchema.partial().extend({ message });
export const nodesAnswer = z.object({ nodes: z.array(producerSchema), message });
export const nodeAnswer = z.object({
  node: z.string(),
  topics: z.array(nodeTopic),
  total_messages: z.number(),
  total_clients: z.number(),
  message,
});
export const counterAnswer = z.object({
  stats: z.record(
    z.string(),
    z.object({ node: z.string(), topic_name: z.string(), channel_name: z.string(), message_count: z.number() }),
  ),
  message,
});
export const messageAnswer = z.object({ message });
export const errorAnswer = z.object({ message: z.string() }).describe("error code, e.g. INVALID_ACTION");

export const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, errorAnswer]));

const perSample = (what: string) => z.array(z.number()).describe(`${what}, one value per time`);
export const historyAnswer = z.object({
  interval_ms: z.number().describe("milliseconds between samples (0 when no node keeps history)"),
  time: z.array(z.number()).describe("Unix seconds of each sample, oldest first"),
  message_rate: perSample("messages/s published to the topic (on a channel: reaching the channel)"),
  consume_rate: perSample("messages/s that left the channels for good (finished, or emptied)"),
  requeue_rate: perSample("messages/s requeued"),
  timeout_rate: perSample("messages/s timed out in flight"),
  memory_depth: perSample("messages queued in memory (topic and channels)"),
  backend_depth: perSample("messages queued on disk (topic and channels)"),
  in_flight_count: perSample("messages in flight"),
  nodes: z.array(z.string()).describe("nodes whose history is summed"),
  unsupported: z.array(z.string()).describe("nodes that keep no history (Go's nsqd): left out"),
  message,
});
