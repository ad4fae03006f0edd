/** nsqd's topic and channel query arguments and the errors it gives for them. */
import type { Channel } from "../../core/channel.ts";
import type { NSQD } from "../../core/nsqd.ts";
import type { Topic } from "../../core/topic.ts";
import { isValidChannelName, isValidTopicName } from "../../protocol/names.ts";
import { HttpError } from "../errors.ts";
import type { Query } from "../query.ts";

/** A valid topic name from ?topic= (publishing and topic routes). */
export function topicName(query: Query): string {
  const name = query.get("topic");
  if (name === undefined) throw new HttpError(400, "MISSING_ARG_TOPIC");
  if (!isValidTopicName(name)) throw new HttpError(400, "INVALID_TOPIC");
  return name;
}

/** ?topic= and ?channel= of the channel routes, with their own error codes. */
export function topicChannelNames(query: Query): [string, string] {
  const topic = query.get("topic");
  if (topic === undefined) throw new HttpError(400, "MISSING_ARG_TOPIC");
  if (!isValidTopicName(topic)) throw new HttpError(400, "INVALID_ARG_TOPIC");
  const channel = query.get("channel");
  if (channel === undefined) throw new HttpError(400, "MISSING_ARG_CHANNEL");
  if (!isValidChannelName(channel)) throw new HttpError(400, "INVALID_ARG_CHANNEL");
  return [topic, channel];
}

export function existingTopic(nsqd: NSQD, name: string): Topic {
  const topic = nsqd.getExistingTopic(name);
  if (topic === undefined) throw new HttpError(404, "TOPIC_NOT_FOUND");
  return topic;
}

export function existingChannel(topic: Topic, name: string): Channel {
  const channel = topic.getExistingChannel(name);
  if (channel === undefined) throw new HttpError(404, "CHANNEL_NOT_FOUND");
  return channel;
}
