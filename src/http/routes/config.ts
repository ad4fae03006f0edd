import { Elysia } from "elysia";
import { z } from "zod";
import { checkHostPort, configKeyOf } from "../../options/flags.ts";
import { isLogLevel, type LogLevel } from "../../common/logger.ts";
import type { NSQD } from "../../core/nsqd.ts";
import { nsqdOptionTable } from "../../core/options.ts";
import { readBodyLimited } from "../body.ts";
import type { HttpContext } from "../context.ts";
import { HttpError, jsonResponse, textResponse } from "../errors.ts";
import { nsqHandler } from "../handler.ts";
import { ErrorBody, textBody } from "../schemas.ts";

/** nsq's numeric log levels (lg.LogLevel), which nsqd's /config reports. */
const LOG_LEVEL_NUMBER: Readonly<Record<LogLevel, number>> = { debug: 1, info: 2, warn: 3, error: 4, fatal: 5 };

const specByConfigKey = new Map(nsqdOptionTable.map((spec) => [configKeyOf(spec), spec] as const));

/** An option as nsqd's /config/:opt writes it: strings raw, durations in ns, the rest as JSON. */
function optionResponse(nsqd: NSQD, opt: string): Response {
  const spec = specByConfigKey.get(opt);
  if (spec === undefined) throw new HttpError(400, "INVALID_OPTION");
  // the level in force, which an embedding program may have set on the logger
  if (spec.key === "logLevel") return jsonResponse(LOG_LEVEL_NUMBER[nsqd.logger.level]);
  const value = nsqd.options[spec.key];
  if (spec.kind === "duration") return jsonResponse((value as number) * 1_000_000);
  if (typeof value === "string") return textResponse(value);
  return jsonResponse(value);
}

function parseAddresses(body: Uint8Array): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new HttpError(400, "INVALID_VALUE");
  }
  if (parsed === null) return []; // Go decodes null into an empty list
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string" && checkHostPort(a) === undefined)) {
    throw new HttpError(400, "INVALID_VALUE");
  }
  return parsed;
}

function parseLevel(body: Uint8Array): LogLevel {
  const level = new TextDecoder().decode(body).toLowerCase();
  if (!isLogLevel(level)) throw new HttpError(400, "INVALID_VALUE");
  return level;
}

/** GET and PUT /config/:opt: read any option by its config-file name; change the two nsqd allows. */
export function configRoutes(ctx: HttpContext) {
  const nsqd = ctx.nsqd;
  const params = z.object({ opt: z.string().describe("Option name as in the config file, e.g. log_level") });
  return new Elysia()
    .get(
      "/config/:opt",
      nsqHandler(ctx, (_request, { opt }) => optionResponse(nsqd, opt)),
      {
        params,
        response: { 200: z.any().describe("The value: strings as text, durations in ns, others JSON"), 400: ErrorBody },
        detail: { tags: ["config"], summary: "Read an option" },
      },
    )
    .put(
      "/config/:opt",
      nsqHandler(ctx, async (request, { opt }) => {
        const body = await readBodyLimited(request, nsqd.options.maxMsgSize);
        // nsqd's status for both an empty and an oversized value
        if (body === null || body.length === 0) throw new HttpError(413, "INVALID_VALUE");
        const options = nsqd.options;
        if (opt === "nsqlookupd_tcp_addresses") {
          options.lookupdTcpAddresses = parseAddresses(body);
          ctx.onLookupdAddressesChanged?.(options.lookupdTcpAddresses);
        } else if (opt === "log_level") {
          options.logLevel = parseLevel(body);
          nsqd.logger.setLevel(options.logLevel);
        } else {
          throw new HttpError(400, "INVALID_OPTION");
        }
        return optionResponse(nsqd, opt);
      }),
      {
        parse: "none",
        params,
        response: { 200: z.any().describe("The new value"), 400: ErrorBody, 413: ErrorBody },
        detail: {
          tags: ["config"],
          summary: "Change nsqlookupd_tcp_addresses or log_level at run time",
          requestBody: textBody(
            'nsqlookupd_tcp_addresses: a JSON list of host:port, e.g. ["10.0.0.1:4160"]; log_level: debug, info, warn, error or fatal',
          ),
        },
      },
    );
}
