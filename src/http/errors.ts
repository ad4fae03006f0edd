/**
 * nsqd's HTTP response conventions (internal/http_api "V1"): a 200 carries a raw
 * text body or JSON, anything else `{"message": "CODE"}`, always with the
 * X-NSQ-Content-Type header that NSQ's clients look for.
 */
export const NSQ_CONTENT_TYPE = "nsq; version=1.0";
const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json; charset=utf-8";

/** A refusal with nsqd's status and message code, e.g. 404 TOPIC_NOT_FOUND. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function textResponse(body: string | Uint8Array, status = 200, contentType = TEXT): Response {
  const headers: Record<string, string> = { "X-NSQ-Content-Type": NSQ_CONTENT_TYPE };
  // Go sets no content type on an empty body
  if (body.length > 0) headers["Content-Type"] = contentType;
  return new Response(body, { status, headers });
}

export function jsonResponse(data: unknown, status = 200): Response {
  return textResponse(JSON.stringify(data), status, JSON_TYPE);
}

export function errorResponse(status: number, message: string, headers?: Record<string, string>): Response {
  const res = jsonResponse({ message }, status);
  if (headers !== undefined) for (const [k, v] of Object.entries(headers)) res.headers.set(k, v);
  return res;
}

/** The empty 200 nsqd answers to topic and channel administration. */
export const emptyOk = (): Response => textResponse("");
