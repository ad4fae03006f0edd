/**
 * GET /stats/history: what the nsqd's HistorySampler keeps, per topic and
 * channel, filtered like /stats (a topic that lacks the requested channel is left out).
 */
import type { NSQD } from "../core/nsqd.ts";
import type { NsqdHistory } from "../schemas/nsqd-history.ts";

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function collectHistory(nsqd: NSQD, topicName: string, channelName: string): NsqdHistory {
  const history = nsqd.history;
  const topics: NsqdHistory["topics"] = [];
  const names = topicName === "" ? [...nsqd.topics.keys()].sort(byName) : [topicName];
  for (const name of names) {
    const topic = nsqd.getExistingTopic(name);
    if (topic === undefined) continue;
    const channelNames = channelName === "" ? [...topic.channels.keys()].sort(byName) : [channelName];
    const channels = [];
    for (const cname of channelNames) {
      const channel = topic.getExistingChannel(cname);
      if (channel !== undefined) channels.push({ channel_name: cname, ...history.channelSeries(channel) });
    }
    if (channelName !== "" && channels.length === 0) continue;
    topics.push({ topic_name: name, ...history.topicSeries(topic), channels });
  }
  return {
    interval_ms: history.interval,
    capacity: history.capacity,
    end: history.end,
    bytes: history.bytesHeld(),
    topics,
  };
}
