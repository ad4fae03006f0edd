/** Helpers for the client tests: nsqd stats over HTTP and message collection. */
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";

export interface ChannelStats {
  channel_name: string;
  depth: number;
  in_flight_count: number;
  deferred_count: number;
  message_count: number;
  requeue_count: number;
  timeout_count: number;
  client_count: number;
  clients: { ready_count: number; in_flight_count: number; finish_count: number }[];
}

/** The channel's entry in nsqd's /stats, or undefined while it does not exist. */
export async function channelStats(s: NsqdDaemon, topic: string, channel: string): Promise<ChannelStats | undefined> {
  const res = await fetch(`http://127.0.0.1:${s.httpPort}/stats?format=json&topic=${topic}&channel=${channel}`);
  const json = (await res.json()) as { topics: { topic_name: string; channels: ChannelStats[] }[] | null };
  return json.topics?.find((t) => t.topic_name === topic)?.channels.find((c) => c.channel_name === channel);
}

let counter = 0;
/** A topic name no other test uses. */
export function uniqueTopic(prefix = "t"): string {
  return `${prefix}_${process.pid}_${Date.now()}_${counter++}`;
}
