import { Elysia } from "elysia";
import type { HttpContext } from "../context.ts";
import { HttpError, emptyOk } from "../errors.ts";
import { nsqHandler, queryOf } from "../handler.ts";
import { EmptyOk, ErrorBody, TopicChannelQuery, TopicQuery } from "../schemas.ts";
import { existingChannel, existingTopic, topicChannelNames, topicName } from "./args.ts";

const errors = { 400: ErrorBody, 404: ErrorBody, 500: ErrorBody };

/** ?topic= as topic/delete, pause and unpause read it: present, not validated. */
function anyTopicName(request: Request): string {
  const name = queryOf(request).get("topic");
  if (name === undefined) throw new HttpError(400, "MISSING_ARG_TOPIC");
  return name;
}

/** POST /topic/* and /channel/*: nsqd's administration of topics and channels. */
export function adminRoutes(ctx: HttpContext) {
  const nsqd = ctx.nsqd;
  const topicOp = (summary: string) => ({
    query: TopicQuery,
    response: { 200: EmptyOk, ...errors },
    detail: { tags: ["topics"], summary },
  });
  const channelOp = (summary: string) => ({
    query: TopicChannelQuery,
    response: { 200: EmptyOk, ...errors },
    detail: { tags: ["channels"], summary },
  });
  /** The channel named by the query, in a topic that must exist. */
  const channelArgs = (request: Request) => {
    const [topic, channel] = topicChannelNames(queryOf(request));
    return { topic: existingTopic(nsqd, topic), channel };
  };

  return new Elysia()
    .post(
      "/topic/create",
      nsqHandler(ctx, (request) => {
        nsqd.getTopic(topicName(queryOf(request)));
        return emptyOk();
      }),
      topicOp("Create a topic (no-op if it exists)"),
    )
    .post(
      "/topic/delete",
      nsqHandler(ctx, (request) => {
        if (!nsqd.deleteTopic(anyTopicName(request))) throw new HttpError(404, "TOPIC_NOT_FOUND");
        return emptyOk();
      }),
      topicOp("Delete a topic, its channels and their messages"),
    )
    .post(
      "/topic/empty",
      nsqHandler(ctx, (request) => {
        existingTopic(nsqd, topicName(queryOf(request))).empty();
        return emptyOk();
      }),
      topicOp("Drop the messages waiting in the topic itself"),
    )
    .post(
      "/topic/pause",
      nsqHandler(ctx, (request) => {
        existingTopic(nsqd, anyTopicName(request)).pause();
        return emptyOk();
      }),
      topicOp("Stop handing the topic's messages to its channels"),
    )
    .post(
      "/topic/unpause",
      nsqHandler(ctx, (request) => {
        existingTopic(nsqd, anyTopicName(request)).unpause();
        return emptyOk();
      }),
      topicOp("Resume a paused topic"),
    )
    .post(
      "/channel/create",
      nsqHandler(ctx, (request) => {
        const { topic, channel } = channelArgs(request);
        topic.getChannel(channel);
        return emptyOk();
      }),
      channelOp("Create a channel of an existing topic"),
    )
    .post(
      "/channel/delete",
      nsqHandler(ctx, (request) => {
        const { topic, channel } = channelArgs(request);
        if (!topic.deleteChannel(channel)) throw new HttpError(404, "CHANNEL_NOT_FOUND");
        return emptyOk();
      }),
      channelOp("Delete a channel and its messages; its consumers are disconnected"),
    )
    .post(
      "/channel/empty",
      nsqHandler(ctx, (request) => {
        const { topic, channel } = channelArgs(request);
        existingChannel(topic, channel).empty();
        return emptyOk();
      }),
      channelOp("Drop every message of the channel, in flight and deferred included"),
    )
    .post(
      "/channel/pause",
      nsqHandler(ctx, (request) => {
        const { topic, channel } = channelArgs(request);
        existingChannel(topic, channel).pause();
        return emptyOk();
      }),
      channelOp("Stop delivering the channel's messages"),
    )
    .post(
      "/channel/unpause",
      nsqHandler(ctx, (request) => {
        const { topic, channel } = channelArgs(request);
        existingChannel(topic, channel).unpause();
        return emptyOk();
      }),
      channelOp("Resume a paused channel"),
    );
}
