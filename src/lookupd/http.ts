/**
 * nsqlookupd's HTTP API, with NSQ 1.3's routes, status codes and JSON shapes:
 * lookups for consumers (/lookup, /topics, /channels, /nodes) and administration
 * (create, delete, tombstone). Every route has a typed schema; the OpenAPI
 * document is at /openapi/json and its Swagger UI, served offline, at /openapi.
 */
import { Elysia } from "elysia";
import { z } from "zod";
import type { Logger } from "../common/logger.ts";
import { accessLog } from "../http/access-log.ts";
import { HttpError, emptyOk, errorResponse, jsonResponse, textResponse } from "../http/errors.ts";
import { parseQuery } from "../http/query.ts";
import { apiDocs } from "../http/swagger-ui.ts";
import { isValidChannelName, isValidTopicName } from "../protocol/names.ts";
import type { PeerInfo, Producer, RegistrationDB } from "./registration-db.ts";

export interface LookupdHttpContext {
  readonly db: RegistrationDB;
  readonly logger: Logger;
  readonly version: string;
  readonly inactiveProducerTimeout: number;
  readonly tombstoneLifetime: number;
}

// ---- schemas ----

const peerSchema = z.object({
  remote_address: z.string(),
  hostname: z.string(),
  broadcast_address: z.string(),
  tcp_port: z.number().int(),
  http_port: z.number().int(),
  version: z.string(),
});
const nodeSchema = peerSchema.extend({
  tombstones: z.array(z.boolean()).describe("per topic, in the order of `topics`: tombstoned for this node"),
  topics: z.array(z.string()),
});
const lookupSchema = z.object({ channels: z.array(z.string()), producers: z.array(peerSchema) });
const topicsSchema = z.object({ topics: z.array(z.string()) });
const channelsSchema = z.object({ channels: z.array(z.string()) });
const nodesSchema = z.object({ producers: z.array(nodeSchema) });
const infoSchema = z.object({ version: z.string() });
const debugSchema = z.record(
  z.string().describe('"category:key:subkey"'),
  z.array(
    z.object({
      id: z.string(),
      hostname: z.string(),
      broadcast_address: z.string(),
      tcp_port: z.number().int(),
      http_port: z.number().int(),
      version: z.string(),
      last_update: z.number().describe("nanoseconds since the epoch"),
      tombstoned: z.boolean(),
      tombstoned_at: z.number().describe("nanoseconds since the epoch"),
    }),
  ),
);
const errorSchema = z.object({ message: z.string() }).describe("NSQ error code, e.g. TOPIC_NOT_FOUND");
const okSchema = z.literal("").describe("empty body");

// Go reads the first of repeated query keys; Elysia hands over an array.
const param = (description: string) =>
  z.preprocess((v) => (Array.isArray(v) ? v[0] : v), z.string().optional()).describe(description);
const topicQuery = z.object({ topic: param("topic name") });
const topicChannelQuery = z.object({ topic: param("topic name"), channel: param("channel name") });
const tombstoneQuery = z.object({ topic: param("topic name"), node: param("broadcast_address:http_port of the nsqd") });

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, errorSchema]));

// ---- helpers ----

const NS_PER_MS = 1_000_000;

function peerJson(p: PeerInfo): z.infer<typeof peerSchema> {
  return {
    remote_address: p.remoteAddress,
    hostname: p.hostname,
    broadcast_address: p.broadcastAddress,
    tcp_port: p.tcpPort,
    http_port: p.httpPort,
    version: p.version,
  };
}

function requireTopic(topic: string | undefined): string {
  if (topic === undefined) throw new HttpError(400, "MISSING_ARG_TOPIC");
  return topic;
}

function validTopic(topic: string | undefined): string {
  if (!isValidTopicName(requireTopic(topic))) throw new HttpError(400, "INVALID_ARG_TOPIC");
  return topic!;
}

function validTopicChannel(q: { topic?: string; channel?: string }): [string, string] {
  const topic = validTopic(q.topic);
  if (q.channel === undefined) throw new HttpError(400, "MISSING_ARG_CHANNEL");
  if (!isValidChannelName(q.channel)) throw new HttpError(400, "INVALID_ARG_CHANNEL");
  return [topic, q.channel];
}

export function createLookupdHttp(ctx: LookupdHttpContext) {
  const { db, logger } = ctx;

  /** Producers that pinged within the inactive timeout and, with a lifetime, are not tombstoned. */
  function active(producers: Iterable<Producer>, tombstoneLifetime: number): Producer[] {
    const now = Date.now();
    const out: Producer[] = [];
    for (const p of producers) {
      if (now - p.peer.lastUpdate > ctx.inactiveProducerTimeout) continue;
      if (tombstoneLifetime > 0 && p.isTombstoned(tombstoneLifetime, now)) continue;
      out.push(p);
    }
    return out;
  }

  /** `path` is Elysia's, taken from the URL when the request arrived. */
  function errorFor(code: unknown, error: unknown, request: Request, path: string): Response {
    if (error instanceof HttpError) return errorResponse(error.status, error.message);
    if (code === "NOT_FOUND") {
      return routePaths.has(path) ? errorResponse(405, "METHOD_NOT_ALLOWED") : errorResponse(404, "NOT_FOUND");
    }
    if (code === "VALIDATION" || code === "PARSE") return errorResponse(400, "INVALID_REQUEST");
    logger.error(`panic in HTTP handler ${request.method} ${path} - ${error instanceof Error ? error.stack : String(error)}`);
    return errorResponse(500, "INTERNAL_ERROR");
  }

  const app = new Elysia()
    .use(accessLog(logger))
    .use(
      apiDocs({
        title: "nsqlookupd (bunsq)",
        version: ctx.version,
        description: "NSQ 1.3's nsqlookupd HTTP API: discovery of the nsqds producing a topic.",
        pageTitle: "bunsq nsqlookupd HTTP API",
      }),
    )
    .onRequest(({ request }) => {
      // Go's url.ParseQuery refuses what it cannot decode: nsqlookupd answers 400
      if (parseQuery(request.url) === null) return errorResponse(400, "INVALID_REQUEST");
    })
    .onError(({ code, error, request, set, path }) => {
      const response = errorFor(code, error, request, path);
      set.status = response.status;
      return response;
    })
    .get("/ping", () => textResponse("OK"), {
      response: { 200: z.literal("OK") },
      detail: { summary: "Liveness: answers OK" },
    })
    .get("/info", () => jsonResponse({ version: ctx.version }), {
      response: { 200: infoSchema },
      detail: { summary: "Version of this nsqlookupd" },
    })
    .get(
      "/lookup",
      ({ query }) => {
        const topic = requireTopic(query.topic);
        const producers = db.topicProducers(topic);
        if (producers === undefined) throw new HttpError(404, "TOPIC_NOT_FOUND");
        const body: z.infer<typeof lookupSchema> = {
          channels: db.channelNames(topic),
          producers: active(producers.values(), ctx.tombstoneLifetime).map((p) => peerJson(p.peer)),
        };
        return jsonResponse(body);
      },
      {
        query: topicQuery,
        response: { 200: lookupSchema, ...errors(400, 404) },
        detail: { summary: "The topic's channels and the active, untombstoned nsqds producing it" },
      },
    )
    .get("/topics", () => jsonResponse({ topics: db.topicNames() } satisfies z.infer<typeof topicsSchema>), {
      response: { 200: topicsSchema },
      detail: { summary: "Every registered topic" },
    })
    .get(
      "/channels",
      ({ query }) => {
        const topic = requireTopic(query.topic);
        return jsonResponse({ channels: db.channelNames(topic) } satisfies z.infer<typeof channelsSchema>);
      },
      {
        query: topicQuery,
        response: { 200: channelsSchema, ...errors(400) },
        detail: { summary: "The topic's registered channels" },
      },
    )
    .get(
      "/nodes",
      () => {
        const now = Date.now();
        const producers = active(db.clientProducers(), 0).map((client) => {
          const topics = db.peerTopics(client.peer.id);
          const tombstones = topics.map(
            (t) => db.topicProducers(t)?.get(client.peer.id)?.isTombstoned(ctx.tombstoneLifetime, now) ?? false,
          );
          return { ...peerJson(client.peer), tombstones, topics };
        });
        return jsonResponse({ producers } satisfies z.infer<typeof nodesSchema>);
      },
      {
        response: { 200: nodesSchema },
        detail: { summary: "Every active nsqd with its topics and their tombstones" },
      },
    )
    .get(
      "/debug",
      () => {
        const out: z.infer<typeof debugSchema> = {};
        for (const [category, key, subkey, producers] of db.entries()) {
          out[`${category}:${key}:${subkey}`] = [...producers.values()].map((p) => ({
            id: p.peer.id,
            hostname: p.peer.hostname,
            broadcast_address: p.peer.broadcastAddress,
            tcp_port: p.peer.tcpPort,
            http_port: p.peer.httpPort,
            version: p.peer.version,
            last_update: p.peer.lastUpdate * NS_PER_MS,
            tombstoned: p.tombstonedAt !== 0,
            tombstoned_at: p.tombstonedAt * NS_PER_MS,
          }));
        }
        return jsonResponse(out);
      },
      {
        response: { 200: debugSchema },
        detail: { summary: "The whole registration database" },
      },
    )
    .post(
      "/topic/create",
      ({ query }) => {
        const topic = validTopic(query.topic);
        logger.info(`DB: adding topic(${topic})`);
        db.addTopic(topic);
        return emptyOk();
      },
      {
        query: topicQuery,
        response: { 200: okSchema, ...errors(400) },
        detail: { summary: "Registers a topic without producers" },
      },
    )
    .post(
      "/topic/delete",
      ({ query }) => {
        const topic = requireTopic(query.topic);
        for (const channel of db.channelNames(topic)) {
          logger.info(`DB: removing channel(${channel}) from topic(${topic})`);
          db.removeChannel(topic, channel);
        }
        if (db.hasTopic(topic)) {
          logger.info(`DB: removing topic(${topic})`);
          db.removeTopic(topic);
        }
        return emptyOk();
      },
      {
        query: topicQuery,
        response: { 200: okSchema, ...errors(400) },
        detail: { summary: "Removes the topic and its channels with all their producers" },
      },
    )
    .post(
      "/topic/tombstone",
      ({ query }) => {
        const topic = requireTopic(query.topic);
        if (query.node === undefined) throw new HttpError(400, "MISSING_ARG_NODE");
        logger.info(`DB: setting tombstone for producer@${query.node} of topic(${topic})`);
        const now = Date.now();
        for (const p of db.topicProducers(topic)?.values() ?? []) {
          if (`${p.peer.broadcastAddress}:${p.peer.httpPort}` === query.node) p.tombstone(now);
        }
        return emptyOk();
      },
      {
        query: tombstoneQuery,
        response: { 200: okSchema, ...errors(400) },
        detail: { summary: "Hides one nsqd from the topic's lookups for --tombstone-lifetime" },
      },
    )
    .post(
      "/channel/create",
      ({ query }) => {
        const [topic, channel] = validTopicChannel(query);
        logger.info(`DB: adding channel(${channel}) in topic(${topic})`);
        db.addChannel(topic, channel);
        logger.info(`DB: adding topic(${topic})`);
        db.addTopic(topic);
        return emptyOk();
      },
      {
        query: topicChannelQuery,
        response: { 200: okSchema, ...errors(400) },
        detail: { summary: "Registers a channel (and its topic) without producers" },
      },
    )
    .post(
      "/channel/delete",
      ({ query }) => {
        const [topic, channel] = validTopicChannel(query);
        if (!db.hasChannel(topic, channel)) throw new HttpError(404, "CHANNEL_NOT_FOUND");
        logger.info(`DB: removing channel(${channel}) from topic(${topic})`);
        db.removeChannel(topic, channel);
        return emptyOk();
      },
      {
        query: topicChannelQuery,
        response: { 200: okSchema, ...errors(400, 404) },
        detail: { summary: "Removes a channel with all its producers" },
      },
    );

  const routePaths = new Set(app.routes.map((r) => r.path));
  return app;
}

export type LookupdHttpApp = ReturnType<typeof createLookupdHttp>;
