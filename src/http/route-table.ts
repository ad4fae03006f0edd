import { errorResponse } from "./errors.ts";

interface Route {
  pattern: RegExp;
  path: string;
  methods: Set<string>;
}

/**
 * What nsqd's router (httprouter) does when no route matches: 405 with an Allow
 * header when the path exists for other methods, a redirect for a path that only
 * differs by a trailing slash or letter case (301 for GET, 307 otherwise), an
 * OPTIONS answer, or 404.
 */
export class RouteTable {
  private readonly routes: Route[] = [];

  load(list: readonly { method: string; path: string }[]): void {
    const byPath = new Map<string, Route>();
    for (const { method, path } of list) {
      if (method === "OPTIONS" || path.includes("*")) continue;
      let route = byPath.get(path);
      if (route === undefined) {
        const source = path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[^/]+/g, "[^/]+");
        route = { pattern: new RegExp(`^${source}$`, "i"), path, methods: new Set() };
        byPath.set(path, route);
        this.routes.push(route);
      }
      route.methods.add(method);
    }
  }

  private find(path: string): Route | undefined {
    return this.routes.find((r) => r.pattern.test(path) && (r.path.includes(":") || r.path === path));
  }

  private findFixed(path: string): Route | undefined {
    return this.routes.find((r) => r.pattern.test(path));
  }

  unmatched(request: Request): Response {
    // null when Bun no longer has the URL (the client has gone): nobody reads the answer
    const url = URL.parse(request.url);
    if (url === null) return errorResponse(404, "NOT_FOUND");
    const path = url.pathname;
    const method = request.method;
    const route = this.find(path);
    if (route !== undefined) {
      const allow = [...route.methods, "OPTIONS"].join(", ");
      if (method === "OPTIONS") return new Response(null, { status: 200, headers: { Allow: allow } });
      return errorResponse(405, "METHOD_NOT_ALLOWED", { Allow: allow });
    }
    const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
    const fixed = this.findFixed(trimmed);
    if (fixed !== undefined && method !== "OPTIONS") {
      const location = (fixed.path.includes(":") ? trimmed : fixed.path) + url.search;
      const status = method === "GET" ? 301 : 307;
      return errorResponse(status, status === 301 ? "MOVED_PERMANENTLY" : "TEMPORARY_REDIRECT", { Location: location });
    }
    return errorResponse(404, "NOT_FOUND");
  }
}
