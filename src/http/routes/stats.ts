import { Elysia } from "elysia";
import { z } from "zod";
import { nsqdHistorySchema } from "../../schemas/nsqd-history.ts";
import { nsqdStatsSchema } from "../../schemas/nsqd-stats.ts";
import type { HttpContext } from "../context.ts";
import { jsonResponse, textResponse } from "../errors.ts";
import { nsqHandler, queryOf } from "../handler.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "../metrics.ts";
import { queryBool } from "../query.ts";
import { collectHistory } from "../history.ts";
import { ErrorBody, HistoryQuery, StatsQuery } from "../schemas.ts";
import { collectStats, formatStatsText } from "../stats.ts";

export function statsRoutes(ctx: HttpContext) {
  return new Elysia()
    .get(
      "/stats",
      nsqHandler(ctx, (request) => {
        const query = queryOf(request);
        const stats = collectStats(ctx, {
          topic: query.get("topic") ?? "",
          channel: query.get("channel") ?? "",
          includeClients: queryBool(query.get("include_clients")) ?? true,
          includeMem: queryBool(query.get("include_mem")) ?? true,
        });
        if (query.get("format") === "json") return jsonResponse(stats);
        return textResponse(formatStatsText(stats, ctx.nsqd.startTime));
      }),
      {
        query: StatsQuery,
        response: { 200: z.union([nsqdStatsSchema, z.string()]), 400: ErrorBody },
        detail: {
          tags: ["nsqd"],
          summary: "Topics, channels, clients and producers (nsqd's format, plus message rates)",
        },
      },
    )
    .get(
      "/stats/history",
      nsqHandler(ctx, (request) => {
        const query = queryOf(request);
        return jsonResponse(collectHistory(ctx.nsqd, query.get("topic") ?? "", query.get("channel") ?? ""));
      }),
      {
        query: HistoryQuery,
        response: { 200: nsqdHistorySchema, 400: ErrorBody },
        detail: {
          tags: ["nsqd"],
          summary: "bunsq: the last hour of each topic and channel in 10 s samples (nsqadmin's charts)",
        },
      },
    )
    .get(
      "/metrics",
      nsqHandler(ctx, () => textResponse(renderMetrics(ctx), 200, METRICS_CONTENT_TYPE), false),
      {
        response: { 200: z.string().describe("Prometheus text exposition format 0.0.4") },
        detail: { tags: ["nsqd"], summary: "Prometheus metrics per topic and channel" },
      },
    );
}
