/**
 * The web UI: one HTML shell for every page path of NSQ's nsqadmin (the page is
 * drawn in the browser from the /api answers), the hand-written assets in
 * static/ and the uPlot chart library from node_modules, served from this
 * process; nothing comes from a CDN.
 */
import { readdirSync } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { Elysia } from "elysia";
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "file" };
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "file" };
import { VERSION } from "../common/version.ts";
import { errorResponse } from "../http/errors.ts";
import { isAdmin } from "./access.ts";
import type { AdminContext } from "./context.ts";

// An executable built by scripts/build.ts carries this folder as an embedded asset
// (--asset) at the same place relative to import.meta.dir, so both ways read it alike.
const STATIC_DIR = join(import.meta.dir, "static");
const ASSETS = new Set(readdirSync(STATIC_DIR));
/**
 * The charting library from the installed uplot package, imported as files: paths
 * into node_modules from source, embedded in an executable built by scripts/build.ts.
 */
const VENDOR = new Map([
  ["uPlot.iife.min.js", uplotJs],
  ["uPlot.min.css", uplotCss],
]);
const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

export const PAGE_PATHS = [
  "/",
  "/topics",
  "/topics/:topic",
  "/topics/:topic/:channel",
  "/nodes",
  "/nodes/:node",
  "/counter",
  "/lookup",
];

const escapeJson = (value: unknown) => JSON.stringify(value).replaceAll("<", "\\u003c");

function shell(base: string, config: unknown): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nsqadmin</title>
<link rel="icon" href="${base}/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${base}/vendor/uPlot.min.css">
<link rel="stylesheet" href="${base}/static/style.css">
<script src="${base}/vendor/uPlot.iife.min.js"></script>
<script>window.NSQADMIN = ${escapeJson(config)};</script>
<script type="module" src="${base}/static/app.js"></script>
</head>
<body>
<header class="bar">
  <a class="brand" href="${base}/" data-nav>nsqadmin</a>
  <nav>
    <a href="${base}/" data-nav data-section="topics">Streams</a>
    <a href="${base}/nodes" data-nav data-section="nodes">Nodes</a>
    <a href="${base}/counter" data-nav data-section="counter">Counter</a>
    <a href="${base}/lookup" data-nav data-section="lookup">Lookup</a>
  </nav>
</header>
<main id="page"><p class="muted">Loading…</p></main>
<div id="modal" hidden></div>
</body>
</html>
`;
}

function asset(file: Bun.BunFile | null, name: string, headers: Record<string, string>): Response {
  if (file === null) return errorResponse(404, "NOT_FOUND");
  const type = TYPES[name.slice(name.lastIndexOf("."))] ?? "application/octet-stream";
  return new Response(file, { headers: { "Content-Type": type, ...headers } });
}

/** A built-in asset, or with --dev-static-dir whatever that directory holds under the name (as NSQ does). */
async function staticFile(devStaticDir: string, name: string): Promise<Bun.BunFile | null> {
  if (devStaticDir === "") return ASSETS.has(name) ? Bun.file(join(STATIC_DIR, name)) : null;
  if (name !== basename(name) || name.startsWith(".")) return null;
  const path = join(devStaticDir, name);
  const isFile = await stat(path).then((s) => s.isFile(), () => false);
  return isFile ? Bun.file(path) : null;
}

function vendorFile(name: string): Bun.BunFile | null {
  const path = VENDOR.get(name);
  return path === undefined ? null : Bun.file(path);
}

export function uiRoutes(ctx: AdminContext, base: string) {
  const page = ({ request }: { request: Request }) => {
    const o = ctx.options();
    const config = {
      version: VERSION,
      basePath: base,
      isAdmin: isAdmin(request, o.adminUsers, o.aclHttpHeader),
      lookupds: o.lookupdHttpAddresses,
      graphiteUrl: o.graphiteUrl,
    };
    return new Response(shell(base, config), { headers: { "Content-Type": "text/html; charset=utf-8" } });
  };
  const hidden = { detail: { hide: true } };
  let app = new Elysia();
  for (const path of PAGE_PATHS) app = app.get(path, page, hidden);
  return app
    .get(
      "/static/:asset",
      async ({ params }) => asset(await staticFile(ctx.options().devStaticDir, params.asset), params.asset, {}),
      hidden,
    )
    .get(
      "/vendor/:asset",
      ({ params }) => asset(vendorFile(params.asset), params.asset, { "Cache-Control": "public, max-age=86400" }),
      hidden,
    );
}
