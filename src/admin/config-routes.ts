/**
 * GET/PUT /config/:opt as nsqadmin answers it: any option by its config-file
 * name, and at run time nsqlookupd_http_addresses and log_level, from the
 * --allow-config-from-cidr range only. Also Graphite's rate API and proxy.
 */
import { Elysia } from "elysia";
import { z } from "zod";
import { configKeyOf } from "../options/flags.ts";
import { parseLogLevel } from "../common/logger.ts";
import { HttpError, jsonResponse } from "../http/errors.ts";
import { configAllowed } from "./access.ts";
import type { AdminContext } from "./context.ts";
import { adminOptionTable, type AdminOptions } from "./options.ts";
import { errors } from "./schemas.ts";

const MAX_VALUE = 1024 * 1024;

function optionValue(options: AdminOptions, name: string): unknown {
  const spec = adminOptionTable.find((s) => configKeyOf(s) === name);
  if (spec === undefined) throw new HttpError(400, "INVALID_OPTION");
  const value = options[spec.key as keyof AdminOptions];
  // Go reports durations in nanoseconds
  return spec.kind === "duration" ? (value as number) * 1_000_000 : value;
}

function changed(options: AdminOptions, name: string, body: string): AdminOptions {
  switch (name) {
    case "nsqlookupd_http_addresses": {
      const parsed = z.array(z.string()).safeParse(JSON.parse(body));
      if (!parsed.success) throw new HttpError(400, "INVALID_VALUE");
      return { ...options, lookupdHttpAddresses: parsed.data };
    }
    case "log_level":
      try {
        return { ...options, logLevel: parseLogLevel(body) };
      } catch {
        throw new HttpError(400, "INVALID_VALUE");
      }
    default:
      throw new HttpError(400, "INVALID_OPTION");
  }
}

export function configRoutes(ctx: AdminContext) {
  const guard = ({ request, server }: { request: Request; server: { requestIP(r: Request): { address: string } | null } | null }) => {
    const ip = server?.requestIP(request)?.address;
    if (ip === undefined) throw new HttpError(400, "INVALID_REMOTE_ADDR");
    if (!configAllowed(ip, ctx.options().allowConfigFromCidr)) throw new HttpError(403, "FORBIDDEN");
  };
  const detail = { tags: ["config"] };
  return new Elysia()
    .get(
      "/config/:opt",
      (c) => {
        guard(c);
        return jsonResponse(optionValue(ctx.options(), c.params.opt));
      },
      {
        response: { 200: z.unknown(), ...errors(400, 403) },
        detail: { ...detail, summary: "An option by its config-file name (durations in ns)" },
      },
    )
    .put(
      "/config/:opt",
      async (c) => {
        guard(c);
        const body = await c.request.text();
        if (body.length === 0 || body.length > MAX_VALUE) throw new HttpError(413, "INVALID_VALUE");
        let next: AdminOptions;
        try {
          next = changed(ctx.options(), c.params.opt, body);
        } catch (err) {
          if (err instanceof HttpError) throw err;
          throw new HttpError(400, "INVALID_VALUE");
        }
        ctx.setOptions(next);
        return jsonResponse(optionValue(next, c.params.opt));
      },
      {
        parse: "none",
        response: { 200: z.unknown(), ...errors(400, 403, 413) },
        detail: { ...detail, summary: "Changes nsqlookupd_http_addresses (JSON list) or log_level at run time" },
      },
    );
}

/** /api/graphite?metric=rate&target=...: the statsd rate of a target, per second. */
export function graphiteRoutes(ctx: AdminContext) {
  const app = new Elysia().get(
    "/api/graphite",
    async ({ query }) => {
      const o = ctx.options();
      if (query.metric !== "rate") throw new HttpError(400, "INVALID_ARG_METRIC");
      if (typeof query.target !== "string") throw new HttpError(400, "INVALID_ARG_TARGET");
      if (o.graphiteUrl === "") throw new HttpError(400, "GRAPHITE_NOT_CONFIGURED");
      const seconds = Math.floor(o.statsdInterval / 1000);
      const params = new URLSearchParams({
        from: `-${seconds * 2}sec`,
        until: `-${seconds}sec`,
        format: "json",
        target: query.target,
      });
      const url = `${o.graphiteUrl.replace(/\/$/, "")}/render?${params}`;
      ctx.logger.info(`GRAPHITE: ${url}`);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(o.httpClientRequestTimeout) });
        const data = (await res.json()) as { datapoints: [number | null, number][] }[];
        const rate = data[0]?.datapoints[0]?.[0] ?? -1;
        return jsonResponse({ rate: rate < 0 ? "N/A" : (rate / seconds).toFixed(2) });
      } catch (err) {
        ctx.logger.error(`graphite request failed - ${(err as Error).message}`);
        throw new HttpError(500, "INTERNAL_ERROR");
      }
    },
    {
      response: { 200: z.object({ rate: z.string() }), ...errors(400, 500) },
      detail: { summary: "Rate of a statsd counter from Graphite (needs --graphite-url)", tags: ["graphite"] },
    },
  );
  if (!ctx.options().proxyGraphite) return app;
  return app.get(
    "/render",
    async ({ request }) => {
      const search = new URL(request.url).search;
      const target = new URL(`${ctx.options().graphiteUrl.replace(/\/$/, "")}/render${search}`);
      const res = await fetch(target, { signal: AbortSignal.timeout(ctx.options().httpClientRequestTimeout) });
      return new Response(res.body, { status: res.status, headers: { "Content-Type": res.headers.get("Content-Type") ?? "" } });
    },
    { detail: { summary: "Graphite's /render, proxied (--proxy-graphite)", tags: ["graphite"] } },
  );
}
