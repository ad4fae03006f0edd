#!/usr/bin/env bun
/** nsq_to_http: delivers a topic's messages to HTTP endpoints (GET or POST); a failed request requeues. */
import { Consumer, type Message } from "../client/index.ts";
import { VERSION } from "../common/version.ts";
import type { OptionsOf } from "../options/flags.ts";
import { aborted, toolMain, UsageError, type ToolContext } from "./tool.ts";
import {
  channelOption,
  checkSources,
  clientLog,
  connectConsumer,
  consumerOptOption,
  consumerOpts,
  lookupdHttpAddressOption,
  maxInFlightOption,
  nsqdTcpAddressOption,
  toolLogLevelOption,
} from "./tool-options.ts";

const MODES = ["multicast", "round-robin", "hostpool", "epsilon-greedy"] as const;
const DEFAULT_CONTENT_TYPE = "application/octet-stream";

export const nsqToHttpOptionTable = [
  { key: "topic", flag: "topic", kind: "string", default: "", help: "nsq topic" },
  channelOption("nsq_to_http"),
  maxInFlightOption(200),
  { key: "n", flag: "n", kind: "int", default: 100, min: 1, help: "number of concurrent publishers" },
  {
    key: "mode",
    flag: "mode",
    kind: "string",
    default: "hostpool",
    choices: MODES,
    help: "the upstream request mode options: multicast, round-robin, hostpool (default), epsilon-greedy",
  },
  { key: "sample", flag: "sample", kind: "float", default: 1.0, min: 0, max: 1, help: "% of messages to publish (float b/w 0 -> 1)" },
  {
    key: "httpClientConnectTimeout",
    flag: "http-client-connect-timeout",
    kind: "duration",
    default: 2000,
    help: "timeout for HTTP connect",
  },
  {
    key: "httpClientRequestTimeout",
    flag: "http-client-request-timeout",
    kind: "duration",
    default: 20_000,
    above: 0,
    help: "timeout for HTTP request",
  },
  {
    key: "statusEvery",
    flag: "status-every",
    kind: "int",
    default: 250,
    min: 0,
    help: "the # of requests between logging status (per handler), 0 disables",
  },
  { key: "contentType", flag: "content-type", kind: "string", default: DEFAULT_CONTENT_TYPE, help: "the Content-Type used for POST requests" },
  {
    key: "headers",
    flag: "header",
    kind: "list",
    default: [],
    help: "header sent with every request, as key:value (may be given multiple times)",
  },
  {
    key: "post",
    flag: "post",
    kind: "list",
    default: [],
    help: "HTTP address to make a POST request to.  data will be in the body (may be given multiple times)",
  },
  {
    key: "get",
    flag: "get",
    kind: "list",
    default: [],
    help: "HTTP address to make a GET request to. '%s' will be printf replaced with data (may be given multiple times)",
  },
  nsqdTcpAddressOption,
  lookupdHttpAddressOption,
  consumerOptOption,
  toolLogLevelOption,
] as const;

type Options = OptionsOf<typeof nsqToHttpOptionTable>;

/** How long hostpool mode avoids an endpoint after it failed (while another one is healthy). */
const HOST_RETRY_MS = 30_000;

/** --header values to headers, as NSQ reads them: split at the first ":", both sides trimmed and non-empty. */
function parseHeaders(values: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const value of values) {
    const colon = value.indexOf(":");
    const key = colon < 0 ? "" : value.slice(0, colon).trim();
    const val = colon < 0 ? "" : value.slice(colon + 1).trim();
    if (key === "" || val === "") throw new UsageError(`invalid --header ${JSON.stringify(value)}: expected key:value`);
    headers[key] = val;
  }
  return headers;
}

/** Like Go's url.QueryEscape (space as "+"). */
function queryEscape(text: string): string {
  return new URLSearchParams({ v: text }).toString().slice(2);
}

/** Picks endpoints per message by mode and sends the requests. */
class Publisher {
  private counter = 0;
  private readonly failedAt: number[];
  private requests = 0;
  private totalMs = 0;
  private readonly decoder = new TextDecoder();
  private readonly headers: Record<string, string>;

  constructor(
    private readonly o: Options,
    private readonly addresses: readonly string[],
    private readonly method: "GET" | "POST",
    private readonly log: (text: string) => void,
  ) {
    this.failedAt = addresses.map(() => 0);
    // as NSQ, --header values come last and so may replace the others
    this.headers = {
      "User-Agent": `nsq_to_http v${VERSION}`,
      ...(method === "POST" ? { "Content-Type": o.contentType } : {}),
      ...parseHeaders(o.headers),
    };
  }

  async handle(m: Message): Promise<void> {
    if (this.o.sample < 1 && Math.random() > this.o.sample) return;
    const started = performance.now();
    if (this.o.mode === "multicast") {
      for (let i = 0; i < this.addresses.length; i++) await this.send(i, m.body);
    } else {
      await this.send(this.o.mode === "round-robin" ? this.nextIndex() : this.healthyIndex(), m.body);
    }
    this.status(performance.now() - started);
  }

  private nextIndex(): number {
    return this.counter++ % this.addresses.length;
  }

  /** Round robin over endpoints that have not failed lately; all of them when none qualifies. */
  private healthyIndex(): number {
    const now = Date.now();
    for (let tries = 0; tries < this.addresses.length; tries++) {
      const i = this.nextIndex();
      if (now - this.failedAt[i]! > HOST_RETRY_MS) return i;
    }
    return this.nextIndex();
  }

  private async send(i: number, body: Uint8Array): Promise<void> {
    const addr = this.addresses[i]!;
    const url = this.method === "GET" ? addr.replace("%s", queryEscape(this.decoder.decode(body))) : addr;
    let res: Response;
    try {
      res = await fetch(url, {
        method: this.method,
        body: this.method === "POST" ? body : undefined,
        headers: this.headers,
        signal: AbortSignal.timeout(this.o.httpClientRequestTimeout),
      });
      await res.arrayBuffer();
    } catch (err) {
      this.failedAt[i] = Date.now();
      throw err;
    }
    const ok = this.method === "POST" ? res.status >= 200 && res.status < 300 : res.status === 200;
    if (!ok) {
      this.failedAt[i] = Date.now();
      throw new Error(`got status code ${res.status}`);
    }
  }

  private status(ms: number): void {
    if (this.o.statusEvery === 0) return;
    this.requests++;
    this.totalMs += ms;
    if (this.requests % this.o.statusEvery === 0) {
      this.log(`[aggregate]: ${this.requests} requests, avg ${(this.totalMs / this.requests).toFixed(3)}ms`);
    }
  }
}

async function run(o: Options, { logger, signal }: ToolContext): Promise<number> {
  if (o.topic === "" || o.channel === "") throw new UsageError("--topic and --channel are required");
  if (o.contentType !== DEFAULT_CONTENT_TYPE && o.post.length === 0) throw new UsageError("--content-type only used with --post");
  if (o.contentType === "") throw new UsageError("--content-type requires a value when used");
  checkSources(o);
  if (o.get.length === 0 && o.post.length === 0) throw new UsageError("--get or --post required");
  if (o.get.length > 0 && o.post.length > 0) throw new UsageError("use --get or --post not both");
  for (const g of o.get) {
    if (g.split("%s").length !== 2) throw new UsageError("invalid GET address - must be a printf string");
  }
  if (o.mode === "multicast") {
    logger.warn("multicast mode is deprecated in favor of using separate nsq_to_http on different channels");
  }
  const publisher = new Publisher(o, o.post.length > 0 ? o.post : o.get, o.post.length > 0 ? "POST" : "GET", (t) =>
    logger.info(t),
  );
  const consumer = new Consumer(o.topic, o.channel, {
    ...consumerOpts(o.consumerOpts),
    maxInFlight: o.maxInFlight,
    concurrency: o.n,
    userAgent: "nsq_to_http/bunsq",
    log: clientLog(logger),
    handler: (m) => publisher.handle(m),
  });
  await connectConsumer(consumer, o);
  await aborted(signal);
  await consumer.stop();
  return 0;
}

if (import.meta.main) toolMain({ name: "nsq_to_http", table: nsqToHttpOptionTable, run });
