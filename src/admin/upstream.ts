/**
 * HTTP calls from nsqadmin to nsqds and nsqlookupds, with nsqadmin's client
 * timeouts. Failures become UpstreamError naming the address, so a page can list
 * what went wrong per node. As in NSQ, a node that requires TLS answers plain
 * HTTP with 403 and its HTTPS port; the call is then repeated over HTTPS with
 * the --http-client-tls-* settings.
 */
import type { HttpClientTls } from "./http-client-tls.ts";

export class UpstreamError extends Error {}

function describe(err: unknown): string {
  if (err instanceof DOMException && err.name === "TimeoutError") return "timed out";
  return err instanceof Error ? err.message : String(err);
}

export class Upstream {
  /** requestTimeout(): ms allowed for a whole request, read per call (it can change at run time). */
  constructor(
    private readonly requestTimeout: () => number,
    private readonly tls: HttpClientTls = { rejectUnauthorized: true },
  ) {}

  /** One request to http://<address><path> (or where its 403 points); throws UpstreamError on failure or a non-200 status. */
  async request(address: string, path: string, method = "GET", body?: string): Promise<string> {
    let url = `http://${address}${path}`;
    let answer = await this.send(url, method, body);
    const https = answer.status === 403 ? httpsUrl(url, answer.text) : null;
    if (https !== null) {
      url = https;
      answer = await this.send(url, method, body);
    }
    if (answer.status !== 200) throw new UpstreamError(`${method} ${url} answered ${answer.status} ${answer.text.trim()}`);
    return answer.text;
  }

  private async send(url: string, method: string, body: string | undefined): Promise<{ status: number; text: string }> {
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        body,
        headers: { Accept: "application/vnd.nsq; version=1.0" },
        signal: AbortSignal.timeout(this.requestTimeout()),
        tls: this.tls,
      });
    } catch (err) {
      throw new UpstreamError(`${method} ${url} failed - ${describe(err)}`);
    }
    const text = await res.text().catch((err) => {
      throw new UpstreamError(`${method} ${url} failed reading the answer - ${describe(err)}`);
    });
    return { status: res.status, text };
  }

  async json<T>(address: string, path: string): Promise<T> {
    const text = await this.request(address, path);
    try {
      // NSQ before 1.0 wrapped answers in {"status_code", "data"}
      const parsed = JSON.parse(text) as { status_code?: number; data?: T } & T;
      return parsed.status_code !== undefined && parsed.data !== undefined ? parsed.data : parsed;
    } catch {
      throw new UpstreamError(`GET http://${address}${path} answered invalid JSON`);
    }
  }
}

/** The HTTPS URL a TLS_REQUIRED answer ({"https_port": N}) points to, or null for any other 403. */
function httpsUrl(url: string, body: string): string | null {
  let port: unknown;
  try {
    port = (JSON.parse(body) as { https_port?: unknown }).https_port;
  } catch {
    return null;
  }
  if (typeof port !== "number" || !Number.isInteger(port) || port <= 0 || port > 65535) return null;
  const target = new URL(url);
  target.protocol = "https:";
  target.port = String(port);
  return target.href;
}
