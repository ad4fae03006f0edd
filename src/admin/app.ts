/**
 * nsqadmin's HTTP server as one Elysia app under --base-path: the /api routes,
 * /config, Graphite, the live tail, the web UI, and the OpenAPI document with
 * its offline Swagger UI.
 */
import { Elysia } from "elysia";
import { z } from "zod";
import { VERSION } from "../common/version.ts";
import { accessLog } from "../http/access-log.ts";
import { HttpError, errorResponse, textResponse } from "../http/errors.ts";
import { apiDocs } from "../http/swagger-ui.ts";
import { apiRoutes } from "./api.ts";
import { configRoutes, graphiteRoutes } from "./config-routes.ts";
import type { AdminContext } from "./context.ts";
import { historyRoutes } from "./history.ts";
import { tailRoutes } from "./tail.ts";
import { uiRoutes } from "./ui-routes.ts";

export function createAdminApp(ctx: AdminContext) {
  const base = ctx.options().basePath === "/" ? "" : ctx.options().basePath;
  const { logger } = ctx;
  /** `path` is Elysia's, taken from the URL when the request arrived. */
  function errorFor(code: unknown, error: unknown, request: Request, path: string): Response {
    if (error instanceof HttpError) return errorResponse(error.status, error.message);
    if (code === "NOT_FOUND") return errorResponse(404, "NOT_FOUND");
    if (code === "VALIDATION" || code === "PARSE") return errorResponse(400, "INVALID_REQUEST");
    logger.error(`HTTP: ${request.method} ${path} failed - ${(error as Error)?.stack ?? error}`);
    return errorResponse(500, "INTERNAL_ERROR");
  }
  const app = new Elysia({ prefix: base })
    .use(accessLog(logger))
    .onError(({ code, error, request, path, set }) => {
      const response = errorFor(code, error, request, path);
      set.status = response.status; // for the access log
      return response;
    })
    .use(
      apiDocs({
        title: "nsqadmin (bunsq)",
        version: VERSION,
        description:
          "NSQ 1.3's nsqadmin HTTP API: the cluster aggregated from every nsqd found through the nsqlookupds, " +
          'and its administration. Errors are JSON `{"message": "CODE"}`.',
        pageTitle: "bunsq nsqadmin HTTP API",
      }),
    )
    .get("/ping", () => textResponse("OK"), {
      response: { 200: z.literal("OK") },
      detail: { summary: "Liveness: answers OK" },
    })
    .use(apiRoutes(ctx))
    .use(historyRoutes(ctx))
    .use(tailRoutes(ctx))
    .use(configRoutes(ctx))
    .use(graphiteRoutes(ctx))
    .use(uiRoutes(ctx, base));
  return app;
}
