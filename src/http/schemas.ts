/** zod schemas of nsqd's HTTP API, for the OpenAPI document (the routes read their queries themselves). */
import { z } from "zod";

export const ErrorBody = z
  .object({ message: z.string().describe("nsqd's error code, e.g. TOPIC_NOT_FOUND") })
  .describe("An error, as nsqd sends it");

export const OkText = z.literal("OK").describe("Plain text OK");
export const EmptyOk = z.string().max(0).describe("Empty body: done");

/** A query parameter; Go reads the first of repeated keys, where Elysia hands over an array. */
const param = (description: string) =>
  z.preprocess((v) => (Array.isArray(v) ? v[0] : v), z.string().optional()).describe(description);

const topicParam = () => param("Topic name: 1-64 of [.a-zA-Z0-9_-], optionally ending in #ephemeral");
const channelParam = () => param("Channel name, same rules as topics");

export const TopicQuery = z.object({ topic: topicParam() });
export const TopicChannelQuery = z.object({ topic: topicParam(), channel: channelParam() });

export const PubQuery = z.object({
  topic: topicParam(),
  defer: param("Deliver after this many milliseconds (0 to --max-req-timeout)"),
});

export const MpubQuery = z.object({
  topic: topicParam(),
  binary: param("true/1: body is [4-byte count]([4-byte size][bytes])*, big-endian; else one message per line"),
});

export const StatsQuery = z.object({
  format: param("json for JSON; text otherwise"),
  topic: param("Only this topic"),
  channel: param("Only this channel (of each topic)"),
  include_clients: param("false/0 to leave out clients and producers (default true)"),
  include_mem: param("false/0 to leave out memory statistics (default true)"),
});

export const InfoBody = z.object({
  version: z.string(),
  broadcast_address: z.string(),
  hostname: z.string(),
  http_port: z.int(),
  tcp_port: z.int(),
  start_time: z.int().describe("Unix seconds"),
  max_heartbeat_interval: z.int().describe("Nanoseconds"),
  max_output_buffer_size: z.int(),
  max_output_buffer_timeout: z.int().describe("Nanoseconds"),
  max_deflate_level: z.int(),
});

/** Request bodies are read raw (never parsed by the framework), so they are described here. */
export const textBody = (description: string) => ({
  description,
  content: {
    "text/plain": { schema: { type: "string" as const } },
    "application/octet-stream": { schema: { type: "string" as const, format: "binary" } },
  },
});

export const HistoryQuery = z.object({
  topic: param("Only this topic"),
  channel: param("Only this channel (of each topic)"),
});
