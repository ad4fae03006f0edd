/**
 * nsqd's HTTP API as one Elysia app: nsqd's routes and error conventions, bunsq's
 * metrics, the OpenAPI document and the offline Swagger UI.
 */
import { Elysia } from "elysia";
import { VERSION } from "../common/version.ts";
import type { HttpContext } from "./context.ts";
import { errorResponse } from "./errors.ts";
import { RouteTable } from "./route-table.ts";
import { adminRoutes } from "./routes/admin.ts";
import { basicRoutes } from "./routes/basic.ts";
import { configRoutes } from "./routes/config.ts";
import { publishRoutes } from "./routes/publish.ts";
import { statsRoutes } from "./routes/stats.ts";
import { apiDocs } from "./swagger-ui.ts";

export function createHttpApp(ctx: HttpContext) {
  const routes = new RouteTable();
  const app = new Elysia({ strictPath: true })
    .onError(({ code, error, request }) => {
      if (code === "NOT_FOUND") return routes.unmatched(request);
      if (code === "PARSE" || code === "VALIDATION") return errorResponse(400, "INVALID_REQUEST");
      ctx.nsqd.logger.error(`HTTP: ${request.method} ${request.url} failed - ${(error as Error).stack ?? error}`);
      return errorResponse(500, "INTERNAL_ERROR");
    })
    .use(
      apiDocs({
        title: "bunsq nsqd HTTP API",
        version: VERSION,
        description:
          "nsqd 1.3's HTTP API as bunsq serves it. Errors are JSON `{\"message\": \"CODE\"}` with nsqd's status codes; " +
          "every response carries `X-NSQ-Content-Type: nsq; version=1.0`.",
        tags: [
          { name: "publish", description: "Publishing messages" },
          { name: "topics", description: "Topic administration" },
          { name: "channels", description: "Channel administration" },
          { name: "nsqd", description: "Health, information, statistics and metrics" },
          { name: "config", description: "Options at run time" },
        ],
        pageTitle: "bunsq nsqd HTTP API",
      }),
    )
    .use(basicRoutes(ctx))
    .use(publishRoutes(ctx))
    .use(statsRoutes(ctx))
    .use(adminRoutes(ctx))
    .use(configRoutes(ctx))
    .options("/*", ({ request }) => routes.unmatched(request), { detail: { hide: true } });
  routes.load(app.routes);
  return app;
}

