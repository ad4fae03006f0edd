/**
 * The HTTP API on the address the workers share: it answers for the whole nsqd.
 * /stats, /stats/history and /metrics merge every worker's figures (/stats its
 * end-to-end latency histograms too, which each worker serves its siblings on
 * an internal route of its private port); topic and channel administration and
 * PUT /config reach every worker; /info describes the shared ports; everything
 * else (/pub, /mpub, /ping, ...) is the accepting worker's own answer. Siblings
 * are asked on their private HTTP ports, which always answer for their own
 * worker alone, so a request is never fanned out twice.
 */
import type { Server, TLSOptions } from "bun";
import type { Logger } from "../common/logger.ts";
import { errorResponse, jsonResponse, textResponse } from "../http/errors.ts";
import { lastResortErrorHandler } from "../http/last-resort.ts";
import { METRICS_CONTENT_TYPE, metricsText } from "../http/metrics.ts";
import { formatStatsText } from "../http/stats.ts";
import type { NsqdDaemon } from "../nsqd/daemon.ts";
import type { NsqdHistory } from "../schemas/nsqd-history.ts";
import type { NsqdStats } from "../schemas/nsqd-stats.ts";
import { mergeHistories } from "./history-merge.ts";
import {
  LATENCY_HISTOGRAMS_PATH,
  collectLatencyHistograms,
  withMergedLatency,
  type LatencyHistograms,
} from "./latency-merge.ts";
import type { WorkerPeers } from "./peers.ts";
import { RELAY_AGENT_MARK } from "../tcp/relay-hook.ts";
import { mergeStats } from "./stats-merge.ts";

/** Requests every worker must see (nsqd's admin API, run-time config and /debug/freememory). */
const FAN_OUT = new Set([
  "/topic/create",
  "/topic/delete",
  "/topic/empty",
  "/topic/pause",
  "/topic/unpause",
  "/channel/create",
  "/channel/delete",
  "/channel/empty",
  "/channel/pause",
  "/channel/unpause",
  "/debug/freememory",
]);

export class SharedHttp {
  private server: Server<undefined> | null = null;
  /** The same API over TLS on the shared --https-address (when TLS is configured). */
  private secure: Server<undefined> | null = null;
  private readonly lastResort: (error: Error) => Response;

  constructor(
    private readonly daemon: NsqdDaemon,
    private readonly peers: WorkerPeers,
    private readonly logger: Logger,
    /**
     * With --tls-required siblings answer only over HTTPS (their plain port points
     * there): the ports they announce are their HTTPS ones, asked with these
     * client TLS options (see linkTlsOptions); null for plain HTTP.
     */
    private readonly siblingTls: TLSOptions | null = null,
  ) {
    this.lastResort = lastResortErrorHandler(logger);
    daemon.http.addInternalRoute(LATENCY_HISTOGRAMS_PATH, (query) =>
      jsonResponse(collectLatencyHistograms(daemon.nsqd, query.get("topic") ?? "", query.get("channel") ?? "")),
    );
  }

  get port(): number {
    return this.server?.port ?? 0;
  }

  listen(hostname: string, port: number): void {
    this.server = Bun.serve({
      hostname,
      port,
      reusePort: true,
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      fetch: (request) => this.handle(request),
      error: this.lastResort,
    });
    this.logger.info(`HTTP: listening on ${hostname}:${this.server.port} (shared by ${this.peers.count} workers)`);
  }

  /** Serves the same answers over TLS on the shared --https-address, as a single nsqd does. */
  listenHttps(hostname: string, port: number, tls: TLSOptions): void {
    this.secure = Bun.serve({
      hostname,
      port,
      tls,
      reusePort: true,
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      fetch: (request) => this.handle(request),
      error: this.lastResort,
    });
    this.logger.info(`HTTPS: listening on ${hostname}:${this.secure.port} (shared by ${this.peers.count} workers)`);
  }

  close(): void {
    this.server?.stop(true);
    this.server = null;
    this.secure?.stop(true);
    this.secure = null;
  }

  private async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    if (request.method === "GET" && path === "/stats") return this.stats(url);
    if (request.method === "GET" && path === "/stats/history") return this.history(url);
    // one worker's histograms are for its siblings, on its private port
    if (path === LATENCY_HISTOGRAMS_PATH) return errorResponse(404, "NOT_FOUND");
    if (request.method === "GET" && path === "/metrics") return this.metrics();
    if (request.method === "GET" && path === "/info") return this.info(request);
    if ((request.method === "POST" && FAN_OUT.has(path)) || (request.method === "PUT" && path.startsWith("/config/"))) {
      return this.fanOut(request, url);
    }
    return this.daemon.http.fetch(request);
  }

  /** The same request to this worker and every live sibling; the first success answers, else this worker's answer. */
  private async fanOut(request: Request, url: URL): Promise<Response> {
    const body = request.body === null ? null : new Uint8Array(await request.arrayBuffer());
    const init = { method: request.method, headers: request.headers, body };
    const local = this.daemon.http.fetch(new Request(url.href, init));
    const remote = this.peers.live().map(({ index, ports }) =>
      this.askSibling(ports.httpPort, url, init).catch((err: Error) => {
        this.logger.warn(`WORKERS: ${request.method} ${url.pathname} did not reach worker ${index} - ${err.message}`);
        return null;
      }),
    );
    const answers = await Promise.all([local, ...remote]);
    return answers.find((r) => r !== null && r.ok) ?? answers[0]!;
  }

  /** The same path and query on a sibling's private port. */
  private askSibling(port: number, url: URL, init: RequestInit = {}): Promise<Response> {
    const host = this.peers.host.includes(":") ? `[${this.peers.host}]` : this.peers.host;
    const scheme = this.siblingTls === null ? "http" : "https";
    const target = `${scheme}://${host}:${port}${url.pathname}${url.search}`;
    return this.siblingTls === null ? fetch(target, init) : fetch(target, { ...init, tls: this.siblingTls });
  }

  /**
   * Every worker's JSON answer to a GET of `path` (this one's through its own API,
   * siblings over HTTP); a worker that fails is left out.
   */
  private async fromEveryWorker<T>(path: string): Promise<T[]> {
    const local = this.daemon.http.fetch(new Request(`http://local${path}`));
    const remote = this.peers.live().map(({ index, ports }) =>
      this.askSibling(ports.httpPort, new URL(`http://x${path}`)).catch((err: Error) => {
        this.logger.warn(`WORKERS: GET ${path} of worker ${index} failed - ${err.message}`);
        return null;
      }),
    );
    const answers = await Promise.all([local, ...remote]);
    const docs: T[] = [];
    for (const r of answers) if (r !== null && r.ok) docs.push((await r.json()) as T);
    return docs;
  }

  /** Every worker's /stats as JSON. */
  private allStats(query: URLSearchParams): Promise<NsqdStats[]> {
    query.set("format", "json");
    return this.fromEveryWorker<NsqdStats>(`/stats?${query}`);
  }

  private async stats(url: URL): Promise<Response> {
    const query = new URLSearchParams(url.search);
    const format = query.get("format");
    const percentiles = this.daemon.nsqd.options.e2eProcessingLatencyPercentiles;
    const filter = new URLSearchParams({ topic: query.get("topic") ?? "", channel: query.get("channel") ?? "" });
    const [docs, histograms] = await Promise.all([
      this.allStats(query),
      percentiles.length === 0 ? [] : this.fromEveryWorker<LatencyHistograms>(`${LATENCY_HISTOGRAMS_PATH}?${filter}`),
    ]);
    if (docs.length === 0) return this.daemon.http.fetch(new Request(url.href));
    const merged = percentiles.length === 0 ? mergeStats(docs) : withMergedLatency(mergeStats(docs), histograms, percentiles);
    if (format === "json") return jsonResponse(merged);
    return textResponse(formatStatsText(merged, this.daemon.nsqd.startTime));
  }

  private async history(url: URL): Promise<Response> {
    const docs = await this.fromEveryWorker<NsqdHistory>(`${url.pathname}${url.search}`);
    if (docs.length === 0) return this.daemon.http.fetch(new Request(url.href));
    return jsonResponse(mergeHistories(docs));
  }

  private async metrics(): Promise<Response> {
    const [docs, counts] = await Promise.all([
      this.allStats(new URLSearchParams({ include_clients: "true", include_mem: "false" })),
      this.allConnections(),
    ]);
    // a subscriber of the shared address counts once, not once more per relay link
    let relays = 0;
    for (const d of docs) {
      for (const t of d.topics ?? []) {
        for (const c of t.channels) relays += c.clients?.filter((x) => x.user_agent.startsWith(RELAY_AGENT_MARK)).length ?? 0;
      }
    }
    return textResponse(metricsText(mergeStats(docs), counts - relays), 200, METRICS_CONTENT_TYPE);
  }

  /** Open TCP connections of every worker (their nsq_clients). */
  private async allConnections(): Promise<number> {
    let total = this.daemon.tcp.clients.size;
    const remote = this.peers.live().map(({ ports }) =>
      this.askSibling(ports.httpPort, new URL("http://x/metrics"))
        .then((r) => r.text())
        .catch(() => ""),
    );
    for (const text of await Promise.all(remote)) {
      const m = /^nsq_clients (\d+)$/m.exec(text);
      if (m !== null) total += Number(m[1]);
    }
    return total;
  }

  private async info(request: Request): Promise<Response> {
    const local = await this.daemon.http.fetch(request);
    if (!local.ok) return local;
    const info = (await local.json()) as Record<string, unknown>;
    return jsonResponse({ ...info, tcp_port: this.sharedTcpPort, http_port: this.port });
  }

  /** The shared TCP port (set by the worker once it listens there). */
  sharedTcpPort = 0;
}
