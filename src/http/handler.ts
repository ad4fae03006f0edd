import type { Server } from "bun";
import { requestTarget } from "./access-log.ts";
import type { HttpContext } from "./context.ts";
import { HttpError, errorResponse } from "./errors.ts";
import { parseQuery, type Query } from "./query.ts";

/** The part of Elysia's context our handlers use. */
export interface RouteContext {
  request: Request;
  params: Record<string, string>;
  server: Server<unknown> | null;
}

export type RouteFn = (request: Request, params: Record<string, string>) => Response | Promise<Response>;

/** The request's query, or 400 INVALID_REQUEST as nsqd answers a query it cannot parse. */
export function queryOf(request: Request): Query {
  const query = parseQuery(request.url);
  if (query === null) throw new HttpError(400, "INVALID_REQUEST");
  return query;
}

function formatElapsed(ms: number): string {
  return ms < 1 ? `${Math.round(ms * 1000)}µs` : `${ms.toFixed(3)}ms`;
}

/**
 * Wraps a route: HttpError becomes nsqd's error body, anything unexpected a logged
 * 500 INTERNAL_ERROR, and the request is logged at info level the way nsqd does
 * (publishing routes are not, as in nsqd).
 */
export function nsqHandler(ctx: HttpContext, fn: RouteFn, log = true) {
  return async ({ request, params, server }: RouteContext): Promise<Response> => {
    const start = performance.now();
    let response: Response;
    try {
      response = await fn(request, params ?? {});
    } catch (err) {
      if (err instanceof HttpError) {
        response = errorResponse(err.status, err.message);
      } else {
        ctx.nsqd.logger.error(`panic in HTTP handler - ${(err as Error).stack ?? err}`);
        response = errorResponse(500, "INTERNAL_ERROR");
      }
    }
    const logger = ctx.nsqd.logger;
    if (log && logger.enabled("info")) {
      const path = requestTarget(request.url);
      const ip = server?.requestIP(request);
      const remote = ip ? `${ip.address}:${ip.port}` : "-";
      logger.info(`${response.status} ${request.method} ${path} (${remote}) ${formatElapsed(performance.now() - start)}`);
    }
    return response;
  };
}
