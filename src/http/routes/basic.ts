import { Elysia } from "elysia";
import { VERSION } from "../../common/version.ts";
import type { HttpContext } from "../context.ts";
import { emptyOk, errorResponse, jsonResponse, textResponse } from "../errors.ts";
import { nsqHandler } from "../handler.ts";
import { EmptyOk, ErrorBody, InfoBody, OkText } from "../schemas.ts";

const NS_PER_MS = 1_000_000;

export function basicRoutes(ctx: HttpContext) {
  const nsqd = ctx.nsqd;
  return new Elysia()
    .get(
      "/ping",
      nsqHandler(ctx, () => (nsqd.health === "OK" ? textResponse("OK") : errorResponse(500, nsqd.health))),
      { response: { 200: OkText, 500: ErrorBody }, detail: { tags: ["nsqd"], summary: "Liveness: OK while healthy" } },
    )
    .get(
      "/info",
      nsqHandler(ctx, () =>
        jsonResponse({
          version: VERSION,
          broadcast_address: nsqd.options.broadcastAddress,
          hostname: nsqd.hostname,
          http_port: ctx.httpPort(),
          tcp_port: ctx.tcp.port,
          start_time: Math.floor(nsqd.startTime / 1000),
          max_heartbeat_interval: nsqd.options.maxHeartbeatInterval * NS_PER_MS,
          max_output_buffer_size: nsqd.options.maxOutputBufferSize,
          max_output_buffer_timeout: nsqd.options.maxOutputBufferTimeout * NS_PER_MS,
          max_deflate_level: nsqd.options.maxDeflateLevel,
        }),
      ),
      { response: { 200: InfoBody }, detail: { tags: ["nsqd"], summary: "Version, addresses, ports and limits" } },
    )
    .post(
      "/debug/freememory",
      // nsqd 1.3 runs Go's debug.FreeOSMemory(); the counterpart here is a full, synchronous collection
      nsqHandler(ctx, () => {
        Bun.gc(true);
        return emptyOk();
      }),
      {
        response: { 200: EmptyOk },
        detail: { tags: ["nsqd"], summary: "Collects garbage now and gives freed memory back (nsqd 1.3's /debug/freememory)" },
      },
    );
}
