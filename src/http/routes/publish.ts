import { Elysia } from "elysia";
import { Refusal } from "../../core/refusal.ts";
import type { Topic } from "../../core/topic.ts";
import { ClientError } from "../../protocol/errors.ts";
import { decodeMpub } from "../../protocol/mpub.ts";
import { readBodyLimited } from "../body.ts";
import type { HttpContext } from "../context.ts";
import { HttpError, textResponse } from "../errors.ts";
import { nsqHandler, queryOf } from "../handler.ts";
import { queryBool } from "../query.ts";
import { ErrorBody, MpubQuery, OkText, PubQuery, textBody } from "../schemas.ts";
import { topicName } from "./args.ts";

const NEWLINE = 0x0a;

/** Publishes and answers OK once the messages are stored as --sync-every asks. */
async function put(topic: Topic, body: Uint8Array, spans: number[], deferMs: number): Promise<Response> {
  const count = spans.length / 2;
  if (count > 0) {
    try {
      topic.publish(body, spans, count, deferMs);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      if (topic.deleted) throw new HttpError(503, "EXITING");
      topic.nsqd.logger.error(`HTTP: publish to TOPIC(${topic.name}) failed - ${err.message}`);
      throw new HttpError(500, "PUB_FAILED");
    }
  }
  if (!(await topic.nsqd.answers.settled())) throw new HttpError(500, "PUB_FAILED");
  return textResponse("OK");
}

/** Splits a newline-separated body into message spans (offset, length), skipping empty lines. */
function splitLines(body: Uint8Array, maxMsgSize: number): number[] {
  const spans: number[] = [];
  let start = 0;
  while (start <= body.length) {
    let end = body.indexOf(NEWLINE, start);
    if (end < 0) end = body.length;
    const size = end - start;
    if (size > maxMsgSize) throw new HttpError(413, "MSG_TOO_BIG");
    if (size > 0) spans.push(start, size);
    start = end + 1;
  }
  return spans;
}

export function publishRoutes(ctx: HttpContext) {
  const nsqd = ctx.nsqd;
  const errors = { 400: ErrorBody, 413: ErrorBody, 500: ErrorBody, 503: ErrorBody };
  return new Elysia()
    .post(
      "/pub",
      nsqHandler(
        ctx,
        async (request) => {
          const { maxMsgSize, maxReqTimeout } = nsqd.options;
          const body = await readBodyLimited(request, maxMsgSize);
          if (body === null) throw new HttpError(413, "MSG_TOO_BIG");
          if (body.length === 0) throw new HttpError(400, "MSG_EMPTY");
          const query = queryOf(request);
          const topic = nsqd.getTopic(topicName(query));
          let deferMs = 0;
          const deferText = query.get("defer");
          if (deferText !== undefined) {
            deferMs = /^[+-]?\d+$/.test(deferText) ? Number(deferText) : Number.NaN;
            if (!(deferMs >= 0 && deferMs <= maxReqTimeout)) throw new HttpError(400, "INVALID_DEFER");
          }
          return put(topic, body, [0, body.length], deferMs);
        },
        false,
      ),
      {
        parse: "none",
        query: PubQuery,
        response: { 200: OkText, ...errors },
        detail: {
          tags: ["publish"],
          summary: "Publish one message (the request body)",
          requestBody: textBody("The message, up to --max-msg-size bytes"),
        },
      },
    )
    .post(
      "/mpub",
      nsqHandler(
        ctx,
        async (request) => {
          const { maxMsgSize, maxBodySize } = nsqd.options;
          const declared = request.headers.get("content-length");
          if (declared !== null && Number(declared) > maxBodySize) throw new HttpError(413, "BODY_TOO_BIG");
          const query = queryOf(request);
          const topic = nsqd.getTopic(topicName(query));
          const binaryParam = query.get("binary");
          let binary = queryBool(binaryParam) ?? false;
          if (binaryParam !== undefined && queryBool(binaryParam) === undefined) {
            binary = true;
            nsqd.logger.warn(`deprecated value '${binaryParam}' used for /mpub binary param`);
          }
          const body = await readBodyLimited(request, maxBodySize);
          if (body === null) throw new HttpError(413, "BODY_TOO_BIG");
          if (!binary) {
            return put(topic, body, splitLines(body, maxMsgSize), 0);
          }
          const spans: number[] = [];
          try {
            decodeMpub(body, maxMsgSize, maxBodySize, spans);
          } catch (err) {
            // nsqd answers 413 with the TCP error code minus its "E_"
            if (err instanceof ClientError) throw new HttpError(413, err.code.slice(2));
            throw err;
          }
          return put(topic, body, spans, 0);
        },
        false,
      ),
      {
        parse: "none",
        query: MpubQuery,
        response: { 200: OkText, ...errors },
        detail: {
          tags: ["publish"],
          summary: "Publish several messages at once",
          requestBody: textBody(
            "One message per line (empty lines skipped), or with binary=true a 4-byte big-endian count followed by " +
              "each message as a 4-byte big-endian size and its bytes; up to --max-body-size bytes in all",
          ),
        },
      },
    );
}

