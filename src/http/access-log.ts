/**
 * Request logging that cannot fail: "<status> <method> <path?query>" at info level
 * once the answer has gone. The target is read when the request arrives: after the
 * answer, Bun may already have released the request, whose URL then reads as ""
 * (parsing that URL ended nsqlookupd and nsqadmin whenever a client hung up early).
 */
import { Elysia } from "elysia";
import type { Logger } from "../common/logger.ts";

/** "/path?query" of a request URL ("http://host/path?query"); "" when there is none. Never throws. */
export function requestTarget(url: string): string {
  const scheme = url.indexOf("//");
  if (scheme < 0) return "";
  const start = url.indexOf("/", scheme + 2);
  return start < 0 ? "" : url.slice(start);
}

/** An Elysia plugin logging every request of the app that uses it. */
export function accessLog(logger: Logger) {
  const targets = new WeakMap<Request, string>();
  return new Elysia({ name: "access-log" })
    .onRequest(({ request }) => {
      if (logger.enabled("info")) targets.set(request, requestTarget(request.url));
    })
    .onAfterResponse({ as: "global" }, ({ request, responseValue, set, path }) => {
      if (!logger.enabled("info")) return;
      const status = responseValue instanceof Response ? responseValue.status : (set.status ?? 200);
      logger.info(`${status} ${request.method} ${targets.get(request) ?? path}`);
    });
}
