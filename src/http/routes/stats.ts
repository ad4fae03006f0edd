import { Elysia, t } from "elysia";
import type { HttpContext } from "../context.ts";
import { jsonResponse, textResponse } from "../errors.ts";
import { nsqHandler, queryOf } from "../handler.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "../metrics.ts";
import { queryBool } from "../query.ts";
import { ErrorBody, StatsBody, StatsQuery } from "../schemas.ts";
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
      "/metrics",
      nsqHandler(ctx, () => textResponse(renderMetrics(ctx), 200, METRICS_CONTENT_TYPE), false),
      {
        response: { 200: t.String({ description: "Prometheus text exposition format 0.0.4" }) },
        detail: { tags: ["nsqd"], summary: "Prometheus metrics per topic and channel" },
      },
    );
}
