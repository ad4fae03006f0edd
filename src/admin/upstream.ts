/**
 * HTTP calls from nsqadmin to nsqds and nsqlookupds, with nsqadmin's client
 * timeouts. Failures become UpstreamError naming the address, so a page can list
 * what went wrong per node.
 */
export class UpstreamError extends Error {}

function describe(err: unknown): string {
  if (err instanceof DOMException && err.name === "TimeoutError") return "timed out";
  return err instanceof Error ? err.message : String(err);
}

export class Upstream {
  /** requestTimeout(): ms allowed for a whole request, read per call (it can change at run time). */
  constructor(private readonly requestTimeout: () => number) {}

  /** One request to http://<address><path>; throws UpstreamError on failure or a non-200 status. */
  async request(address: string, path: string, method = "GET", body?: string): Promise<string> {
    const url = `http://${address}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        body,
        headers: { Accept: "application/vnd.nsq; version=1.0" },
        signal: AbortSignal.timeout(this.requestTimeout()),
      });
    } catch (err) {
      throw new UpstreamError(`${method} ${url} failed - ${describe(err)}`);
    }
    const text = await res.text().catch((err) => {
      throw new UpstreamError(`${method} ${url} failed reading the answer - ${describe(err)}`);
    });
    if (res.status !== 200) throw new UpstreamError(`${method} ${url} answered ${res.status} ${text.trim()}`);
    return text;
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
