import { Elysia, t } from "elysia";
import type { HttpContext } from "../context.ts";
import { jsonResponse, textResponse } from "../errors.ts";
import { nsqHandler, queryOf } from "../handler.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "../metrics.ts";
import { queryBool } from "../query.ts";
import { collectHistory } from "../history.ts";
import { ErrorBody, HistoryBody, HistoryQuery, StatsBody, StatsQuery } from "../schemas.ts";
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
        response: { 200: t.Union([StatsBody, t.String()]), 400: ErrorBody },
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
        response: { 200: HistoryBody, 400: ErrorBody },
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
        response: { 200: t.String({ description: "Prometheus text exposition format 0.0.4" }) },
        detail: { tags: ["nsqd"], summary: "Prometheus metrics per topic and channel" },
      },
    );
}
