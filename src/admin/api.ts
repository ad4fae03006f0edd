/**
 * nsqadmin's /api routes with NSQ 1.3's paths, bodies and JSON: reads aggregate
 * the cluster (a failing daemon becomes a "WARNING: ..." message, all failing a
 * 502), actions change it and send a notification.
 */
import { Elysia } from "elysia";
import { HttpError, jsonResponse } from "../http/errors.ts";
import { isValidChannelName, isValidTopicName } from "../protocol/names.ts";
import { actingUser, isAdmin } from "./access.ts";
import type { TopicAction } from "./actions.ts";
import { aggregateChannels, aggregateTopic } from "./aggregate.ts";
import { AllFailedError, Failures } from "./cluster.ts";
import type { AdminContext } from "./context.ts";
import { actionRequestOf, type ActionRequest } from "./notify.ts";
import {
  channelAnswer,
  counterAnswer,
  errors,
  messageAnswer,
  nodeAnswer,
  nodesAnswer,
  topicAnswer,
  topicsAnswer,
} from "./schemas.ts";

interface Peer {
  request: Request;
  server: { requestIP(r: Request): { address: string; port: number } | null } | null;
}

/** Go's JSON decoder on the request body: anything unparsable is a 400. */
async function jsonBody(request: Request): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(await request.text());
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new HttpError(400, "INVALID_BODY");
  return value as Record<string, unknown>;
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

/** Runs a read or an action: all daemons failing is NSQ's 502 UPSTREAM_ERROR. */
export async function upstream<T>(ctx: AdminContext, what: string, fn: (f: Failures) => Promise<T>): Promise<T> {
  const failures = new Failures();
  try {
    return await fn(failures);
  } catch (err) {
    if (!(err instanceof AllFailedError)) throw err;
    ctx.logger.error(`failed to ${what} - ${err.message}`);
    throw new HttpError(502, `UPSTREAM_ERROR: ${err.message}`);
  } finally {
    if (failures.errors.length > 0) ctx.logger.warn(failures.errors.join("; "));
  }
}

const docs = (summary: string, tag: string) => ({ detail: { summary, tags: [tag] } });

export function apiRoutes(ctx: AdminContext) {
  function requireAdmin(request: Request): void {
    const o = ctx.options();
    if (!isAdmin(request, o.adminUsers, o.aclHttpHeader)) throw new HttpError(403, "FORBIDDEN");
  }

  /** Read before the action's first await: by the time it is done, the client may be gone. */
  function actionRequest({ request, server }: Peer): ActionRequest {
    const ip = server?.requestIP(request);
    return actionRequestOf(request, ip ? `${ip.address}:${ip.port}` : "", actingUser(request, ctx.options().aclHttpHeader));
  }

  async function topicOrChannelAction(peer: Peer, topic: string, channel: string) {
    requireAdmin(peer.request);
    const from = actionRequest(peer);
    const body = await jsonBody(peer.request);
    const action = str(body.action);
    if (action !== "pause" && action !== "unpause" && action !== "empty") throw new HttpError(400, "INVALID_ACTION");
    const failures = await upstream(ctx, `${action} topic/channel`, async (f) => {
      if (channel === "") await ctx.actions.topicAction(action as TopicAction, topic, f);
      else await ctx.actions.channelAction(action as TopicAction, topic, channel, f);
      return f;
    });
    ctx.notifier.notify(`${action}_${channel === "" ? "topic" : "channel"}`, topic, channel, "", from);
    return jsonResponse({ message: failures.message() });
  }

  return new Elysia()
    .get(
      "/api/topics",
      async ({ query }) => {
        const inactive = query.inactive === "true";
        return upstream(ctx, "get topics", async (f) => {
          const topics = await ctx.cluster.topics(f);
          if (!inactive) return jsonResponse({ topics, message: f.message() });
          const map: Record<string, string[]> = {};
          if (ctx.options().lookupdHttpAddresses.length > 0) {
            for (const topic of topics) {
              const producers = await ctx.cluster.topicProducers(topic, new Failures());
              if (producers.length === 0) map[topic] = await ctx.cluster.lookupdChannels(topic, new Failures());
            }
          }
          return jsonResponse({ topics: map, message: f.message() });
        });
      },
      { response: { 200: topicsAnswer, ...errors(502) }, ...docs("Every topic in the cluster", "topics") },
    )
    .get(
      "/api/topics/:topic",
      ({ params }) =>
        upstream(ctx, "get topic", async (f) => {
          const producers = await ctx.cluster.topicProducers(params.topic, f);
          const perNode = await ctx.cluster.nodeTopicStats(producers, params.topic, f);
          return jsonResponse({ ...aggregateTopic(params.topic, perNode), message: f.message() });
        }),
      { response: { 200: topicAnswer, ...errors(502) }, ...docs("A topic summed over its nodes, with each node", "topics") },
    )
    .get(
      "/api/topics/:topic/:channel",
      ({ params }) =>
        upstream(ctx, "get channel", async (f) => {
          const producers = await ctx.cluster.topicProducers(params.topic, f);
          const perNode = await ctx.cluster.nodeTopicStats(producers, params.topic, f);
          const channel = aggregateChannels(params.topic, perNode).find((c) => c.channel_name === params.channel);
          return jsonResponse({ ...(channel ?? {}), message: f.message() });
        }),
      {
        response: { 200: channelAnswer, ...errors(502) },
        ...docs("A channel summed over its nodes, with each node and every client", "channels"),
      },
    )
    .get(
      "/api/nodes",
      () =>
        upstream(ctx, "get nodes", async (f) => jsonResponse({ nodes: await ctx.cluster.producers(f), message: f.message() })),
      { response: { 200: nodesAnswer, ...errors(502) }, ...docs("Every nsqd in the cluster", "nodes") },
    )
    .get(
      "/api/nodes/:node",
      ({ params }) =>
        upstream(ctx, "get node", async (f) => {
          const producer = (await ctx.cluster.producers(f)).find(
            (p) => `${p.broadcast_address}:${p.http_port}` === params.node,
          );
          if (producer === undefined) throw new HttpError(404, "NODE_NOT_FOUND");
          const nodeFailures = new Failures();
          const topics = (await ctx.cluster.nodeTopicStats([producer], "", nodeFailures)).sort((a, b) =>
            a.topic_name < b.topic_name ? -1 : a.topic_name > b.topic_name ? 1 : 0,
          );
          return jsonResponse({
            node: params.node,
            topics,
            total_messages: topics.reduce((n, t) => n + t.message_count, 0),
            total_clients: topics.reduce((n, t) => n + t.channels.reduce((m, c) => m + c.clients.length, 0), 0),
            message: f.message(),
          });
        }),
      { response: { 200: nodeAnswer, ...errors(404, 502) }, ...docs("One nsqd with its topics and channels", "nodes") },
    )
    .get(
      "/api/counter",
      () =>
        upstream(ctx, "get counter", async (f) => {
          const producers = await ctx.cluster.producers(f);
          const perNode = await ctx.cluster.nodeTopicStats(producers, "", f, false);
          const stats: Record<string, { node: string; topic_name: string; channel_name: string; message_count: number }> = {};
          for (const t of perNode) {
            for (const c of t.channels) {
              const key = `${t.topic_name}:${c.channel_name}:${c.node}`;
              const s = (stats[key] ??= { node: c.node, topic_name: t.topic_name, channel_name: c.channel_name, message_count: 0 });
              s.message_count += c.message_count;
            }
          }
          return jsonResponse({ stats, message: f.message() });
        }),
      { response: { 200: counterAnswer, ...errors(502) }, ...docs("Messages handled per topic, channel and node", "counter") },
    )
    .post(
      "/api/topics",
      async (peer) => {
        requireAdmin(peer.request);
        const from = actionRequest(peer);
        const body = await jsonBody(peer.request);
        const topic = str(body.topic);
        const channel = str(body.channel);
        if (!isValidTopicName(topic)) throw new HttpError(400, "INVALID_TOPIC");
        if (channel !== "" && !isValidChannelName(channel)) throw new HttpError(400, "INVALID_CHANNEL");
        const f = await upstream(ctx, "create topic/channel", async (f) => {
          await ctx.actions.createTopicChannel(topic, channel, f);
          return f;
        });
        ctx.notifier.notify("create_topic", topic, "", "", from);
        if (channel !== "") ctx.notifier.notify("create_channel", topic, channel, "", from);
        return jsonResponse({ message: f.message() });
      },
      {
        parse: "none",
        response: { 200: messageAnswer, ...errors(400, 403, 502) },
        detail: {
          summary: 'Creates a topic (and a channel) on every nsqlookupd; body {"topic": "...", "channel": "..."}',
          tags: ["topics"],
        },
      },
    )
    .post("/api/topics/:topic", (peer) => topicOrChannelAction(peer, peer.params.topic, ""), {
      parse: "none",
      response: { 200: messageAnswer, ...errors(400, 403, 502) },
      detail: { summary: 'Pauses, unpauses or empties a topic on its nsqds; body {"action": "pause"|"unpause"|"empty"}', tags: ["topics"] },
    })
    .post("/api/topics/:topic/:channel", (peer) => topicOrChannelAction(peer, peer.params.topic, peer.params.channel), {
      parse: "none",
      response: { 200: messageAnswer, ...errors(400, 403, 502) },
      detail: { summary: 'Pauses, unpauses or empties a channel on its nsqds; body {"action": ...}', tags: ["channels"] },
    })
    .delete(
      "/api/topics/:topic",
      async (peer) => {
        requireAdmin(peer.request);
        const from = actionRequest(peer);
        const topic = peer.params.topic;
        const f = await upstream(ctx, "delete topic", async (f) => {
          await ctx.actions.deleteTopic(topic, f);
          return f;
        });
        ctx.notifier.notify("delete_topic", topic, "", "", from);
        return jsonResponse({ message: f.message() });
      },
      {
        response: { 200: messageAnswer, ...errors(403, 502) },
        ...docs("Deletes a topic on every nsqlookupd and nsqd", "topics"),
      },
    )
    .delete(
      "/api/topics/:topic/:channel",
      async (peer) => {
        requireAdmin(peer.request);
        const from = actionRequest(peer);
        const { topic, channel } = peer.params;
        const f = await upstream(ctx, "delete channel", async (f) => {
          await ctx.actions.deleteChannel(topic, channel, f);
          return f;
        });
        ctx.notifier.notify("delete_channel", topic, channel, "", from);
        return jsonResponse({ message: f.message() });
      },
      {
        response: { 200: messageAnswer, ...errors(403, 502) },
        ...docs("Deletes a channel on every nsqlookupd and nsqd", "channels"),
      },
    )
    .delete(
      "/api/nodes/:node",
      async (peer) => {
        requireAdmin(peer.request);
        const from = actionRequest(peer);
        const body = await jsonBody(peer.request).catch(() => {
          throw new HttpError(400, "INVALID_BODY");
        });
        const topic = str(body.topic);
        if (!isValidTopicName(topic)) throw new HttpError(400, "INVALID_TOPIC");
        const node = peer.params.node;
        const f = await upstream(ctx, "tombstone node for topic", async (f) => {
          await ctx.actions.tombstoneTopicOnNode(topic, node, f);
          return f;
        });
        ctx.notifier.notify("tombstone_topic_producer", topic, "", node, from);
        return jsonResponse({ message: f.message() });
      },
      {
        parse: "none",
        response: { 200: messageAnswer, ...errors(400, 403, 502) },
        ...docs('Tombstones a topic on one nsqd (lookupds) and deletes it there; body {"topic": "..."}', "nodes"),
      },
    );
}
