/**
 * nsqd's /stats/history document (bunsq): per-interval counts and depths of each
 * topic and channel, served by nsqd and read by nsqadmin's charts.
 */
import { z } from "zod";

const samples = (description: string) => z.array(z.int().min(0)).describe(description);
const perInterval = (what: string) => samples(`${what} during each interval, oldest first`);
const atEnd = (what: string) => samples(`${what} at the end of each interval, oldest first`);

export const channelHistorySchema = z.object({
  channel_name: z.string(),
  messages_in: perInterval("Messages that reached the channel"),
  messages_out: perInterval("Messages that left the channel for good (finished, or emptied)"),
  requeued: perInterval("Messages requeued (REQ, or handed back by a consumer that left)"),
  timed_out: perInterval("Messages that timed out in flight"),
  memory_depth: atEnd("Messages queued in memory"),
  backend_depth: atEnd("Messages queued on disk"),
  in_flight: atEnd("Messages in flight"),
});

export const topicHistorySchema = z.object({
  topic_name: z.string(),
  messages_in: perInterval("Messages published"),
  memory_depth: atEnd("Messages waiting in the topic's memory queue"),
  backend_depth: atEnd("Messages waiting in the topic's disk queue"),
  channels: z.array(channelHistorySchema),
});

export const nsqdHistorySchema = z
  .object({
    interval_ms: z.int().describe("Milliseconds between samples (10000)"),
    capacity: z.int().describe("Samples kept per topic and channel (360: an hour)"),
    end: z
      .int()
      .describe(
        "Unix ms of the newest sample, a multiple of interval_ms; every series ends there (sample i of n is at end - (n-1-i) * interval_ms). 0 before the first sample",
      ),
    bytes: z.int().describe("Bytes of sample storage this nsqd holds over all its topics and channels"),
    topics: z.array(topicHistorySchema),
  })
  .describe(
    "bunsq: per-interval counts and depths of each topic and channel. A series is shorter than capacity while the " +
      "topic or channel is younger than the window, and empty while it has been idle (no message and no depth) for the whole window",
  );

export type NsqdHistory = z.infer<typeof nsqdHistorySchema>;
