#!/usr/bin/env bun
/** nsq_stat: polls /stats of a topic's nsqds and prints a channel's rates and depths per interval. */
import { httpUrl, joinHostPort } from "../common/host-port.ts";
import type { OptionsOf } from "../options/flags.ts";
import type { ChannelStats, NsqdStats } from "../schemas/nsqd-stats.ts";
import { aborted, toolMain, UsageError, type ToolContext } from "./tool.ts";
import { lookupdHttpAddressOption, toolLogLevelOption } from "./tool-options.ts";

export const nsqStatOptionTable = [
  { key: "topic", flag: "topic", kind: "string", default: "", help: "NSQ topic" },
  { key: "channel", flag: "channel", kind: "string", default: "", help: "NSQ channel" },
  { key: "interval", flag: "interval", kind: "duration", default: 2000, above: 0, help: "duration of time between polling/printing output" },
  {
    key: "httpClientConnectTimeout",
    flag: "http-client-connect-timeout",
    kind: "duration",
    default: 2000,
    above: 0,
    help: "timeout for HTTP connect",
  },
  {
    key: "httpClientRequestTimeout",
    flag: "http-client-request-timeout",
    kind: "duration",
    default: 5000,
    above: 0,
    help: "timeout for HTTP request",
  },
  { key: "count", flag: "count", kind: "int", default: 0, min: 0, valueName: "N", help: "number of reports (0: until interrupted)" },
  { key: "nsqdHttpAddresses", flag: "nsqd-http-address", kind: "list", default: [], help: "nsqd HTTP address (may be given multiple times)" },
  lookupdHttpAddressOption,
  toolLogLevelOption,
] as const;

type Options = OptionsOf<typeof nsqStatOptionTable>;

const FIELDS = [
  "depth",
  "backend_depth",
  "in_flight_count",
  "deferred_count",
  "requeue_count",
  "timeout_count",
  "message_count",
  "client_count",
] as const;

/** The channel fields nsq_stat sums over nsqds. */
type ChannelCounts = Pick<ChannelStats, (typeof FIELDS)[number]>;

async function getJson(url: string, timeoutMs: number): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { Accept: "application/vnd.nsq; version=1.0" } });
  return { status: res.status, body: await res.json() };
}

/** nsqd HTTP addresses producing the topic according to the lookupds. */
async function lookupdProducers(o: Options): Promise<string[]> {
  const found = new Set<string>();
  for (const a of o.lookupdHttpAddresses) {
    const { status, body } = await getJson(httpUrl(a, `/lookup?topic=${encodeURIComponent(o.topic)}`), o.httpClientRequestTimeout);
    if (status === 404) continue;
    if (status !== 200) throw new Error(`lookupd ${a} answered ${status}`);
    for (const p of body.producers as { broadcast_address: string; http_port: number }[]) {
      found.add(joinHostPort(p.broadcast_address, p.http_port));
    }
  }
  return [...found];
}

/** The channel summed over nsqds, or null when no nsqd has it. */
async function channelCounts(o: Options, nodes: readonly string[]): Promise<ChannelCounts | null> {
  let sum: ChannelCounts | null = null;
  for (const node of nodes) {
    const url = `http://${node}/stats?format=json&topic=${encodeURIComponent(o.topic)}&channel=${encodeURIComponent(o.channel)}&include_clients=false`;
    const { body } = await getJson(url, o.httpClientRequestTimeout);
    const topics = (body as NsqdStats).topics ?? [];
    const ch = topics.find((t) => t.topic_name === o.topic)?.channels.find((c) => c.channel_name === o.channel);
    if (!ch) continue;
    sum ??= Object.fromEntries(FIELDS.map((f) => [f, 0])) as unknown as ChannelCounts;
    for (const f of FIELDS) sum[f] += ch[f];
  }
  return sum;
}

const pad = (v: number | string, w: number) => String(v).padStart(w);

function header(): string {
  return (
    `${"------rate------"}+${"----------------depth----------------"}+${"--------------metadata---------------"}\n` +
    `${pad("ingress", 7)} ${pad("egress", 7)} | ${pad("total", 7)} ${pad("mem", 7)} ${pad("disk", 7)} ${pad("inflt", 5)} ${pad("def", 5)} | ${pad("req", 7)} ${pad("t-o", 7)} ${pad("msgs", 12)} ${pad("clients", 7)}\n`
  );
}

function line(c: ChannelCounts, prev: ChannelCounts, seconds: number): string {
  const ingress = Math.trunc((c.message_count - prev.message_count) / seconds);
  const egress = Math.trunc((c.message_count - prev.message_count - (c.depth - prev.depth)) / seconds);
  return (
    `${pad(ingress, 7)} ${pad(egress, 7)} | ${pad(c.depth, 7)} ${pad(c.depth - c.backend_depth, 7)} ${pad(c.backend_depth, 7)} ` +
    `${pad(c.in_flight_count, 5)} ${pad(c.deferred_count, 5)} | ${pad(c.requeue_count, 7)} ${pad(c.timeout_count, 7)} ` +
    `${pad(c.message_count, 12)} ${pad(c.client_count, 7)}\n`
  );
}

async function run(o: Options, { signal }: ToolContext): Promise<number> {
  if (o.topic === "" || o.channel === "") throw new UsageError("--topic and --channel are required");
  if (o.nsqdHttpAddresses.length === 0 && o.lookupdHttpAddresses.length === 0) {
    throw new UsageError("--nsqd-http-address or --lookupd-http-address required");
  }
  if (o.nsqdHttpAddresses.length > 0 && o.lookupdHttpAddresses.length > 0) {
    throw new UsageError("use --nsqd-http-address or --lookupd-http-address not both");
  }
  for (const a of [...o.nsqdHttpAddresses, ...o.lookupdHttpAddresses]) {
    if (a.startsWith("http")) throw new UsageError("address should not contain scheme");
  }
  const stop = aborted(signal);
  let prev: ChannelCounts | null = null;
  // like nsq_stat: the first poll only sets the baseline, then --count reports
  for (let i = 0; o.count === 0 || i <= o.count; i++) {
    const nodes = o.lookupdHttpAddresses.length > 0 ? await lookupdProducers(o) : o.nsqdHttpAddresses;
    const c = await channelCounts(o, nodes);
    if (c === null) throw new Error(`failed to find channel(${o.channel}) in stats metadata for topic(${o.topic})`);
    if (i % 25 === 0) process.stdout.write(header());
    if (prev !== null) process.stdout.write(line(c, prev, o.interval / 1000));
    prev = c;
    if (o.count !== 0 && i === o.count) break;
    const next = await Promise.race([Bun.sleep(o.interval).then(() => false), stop.then(() => true)]);
    if (next) break;
  }
  return 0;
}

if (import.meta.main) toolMain({ name: "nsq_stat", table: nsqStatOptionTable, run });
