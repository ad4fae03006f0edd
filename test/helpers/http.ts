import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json<T = unknown>(): T;
}

/** One real HTTP request to the nsqd's HTTP port; redirects are not followed. */
export async function request(
  s: NsqdDaemon,
  method: string,
  path: string,
  body?: RequestInit["body"],
  headers?: Record<string, string>,
): Promise<HttpResult> {
  const res = await fetch(`http://127.0.0.1:${s.httpPort}${path}`, { method, body, headers, redirect: "manual" });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
}
