/**
 * nsqadmin's charts: the history each bunsq nsqd keeps (GET /stats/history) of
 * a topic, a channel or all of a node's topics, summed over the nodes per sample
 * time into messages/s and depths. Go's nsqd keeps none: its nodes are listed
 * as `unsupported` and the page says so.
 */
import { Elysia } from "elysia";
import { HttpError, jsonResponse } from "../http/errors.ts";
import type { NsqdHistory } from "../schemas/nsqd-history.ts";
import { upstream } from "./api.ts";
import { httpAddress, type Failures } from "./cluster.ts";
import type { AdminContext } from "./context.ts";
import { errors, historyAnswer } from "./schemas.ts";
import type { Producer } from "./types.ts";

/** What a chart shows, in the answer's field order: four rates (messages/s), then three depths. */
export const CHART_SERIES = [
  "message_rate",
  "consume_rate",
  "requeue_rate",
  "timeout_rate",
  "memory_depth",
  "backend_depth",
  "in_flight_count",
] as const;
const RATES = 4;

export type HistoryAnswer = Record<(typeof CHART_SERIES)[number], number[]> & {
  interval_ms: number;
  time: number[];
  nodes: string[];
  unsupported: string[];
};

/** How a series of nsqd's history adds into a chart series (its index in CHART_SERIES). */
type Mapping = Record<string, number>;
const TOPIC: Mapping = { messages_in: 0, memory_depth: 4, backend_depth: 5 };
/** A channel on a topic's or a node's chart: what came in is the topic's. */
const CHANNEL_OF_TOPIC: Mapping = {
  messages_out: 1,
  requeued: 2,
  timed_out: 3,
  memory_depth: 4,
  backend_depth: 5,
  in_flight: 6,
};
const CHANNEL: Mapping = { ...CHANNEL_OF_TOPIC, messages_in: 0 };

type Scope = "channel" | "topic";

/** Sums per sample time (in units of the chart's interval since the epoch). */
type Rows = Map<number, number[]>;

function row(rows: Rows, key: number): number[] {
  let r = rows.get(key);
  if (r === undefined) rows.set(key, (r = new Array<number>(CHART_SERIES.length).fill(0)));
  return r;
}

/**
 * Adds one topic's or channel's series into the rows on the chart's interval:
 * counts add up; of a depth, only the object's newest sample in a row counts
 * (when its nsqd samples more often than the chart's interval).
 */
function addObject(
  rows: Rows,
  series: Record<string, unknown>,
  mapping: Mapping,
  end: number,
  intervalMs: number,
  chartMs: number,
): void {
  const fields = Object.entries(mapping)
    .map(([name, field]) => [series[name], field] as const)
    .filter((e): e is readonly [number[], number] => Array.isArray(e[0]));
  const n = fields.reduce((m, [values]) => Math.max(m, values.length), 0);
  const previous = new Array<number>(CHART_SERIES.length).fill(0);
  let previousKey = Number.NaN;
  for (let i = 0; i < n; i++) {
    const key = Math.round((end - (n - 1 - i) * intervalMs) / chartMs);
    const r = row(rows, key);
    for (const [values, field] of fields) {
      const v = Number(values[i - (n - values.length)]) || 0;
      if (field < RATES) {
        r[field]! += v;
      } else {
        if (key === previousKey) r[field]! -= previous[field]!;
        r[field]! += v;
        previous[field] = v;
      }
    }
    previousKey = key;
  }
}

/** The objects of one node's history that make up the chart, each with how it adds in. */
function parts(history: NsqdHistory, scope: Scope): [Record<string, unknown>, Mapping][] {
  return history.topics.flatMap((topic): [Record<string, unknown>, Mapping][] =>
    scope === "channel"
      ? topic.channels.map((c) => [c, CHANNEL])
      : [[topic, TOPIC], ...topic.channels.map((c): [Record<string, unknown>, Mapping] => [c, CHANNEL_OF_TOPIC])],
  );
}

/**
 * The nodes' histories summed per sample time: rates in messages/s over each
 * interval, depths as sampled, `time` in Unix seconds (what uPlot takes).
 */
export function sumHistories(
  histories: { node: string; history: NsqdHistory }[],
  scope: Scope,
  unsupported: string[],
): HistoryAnswer {
  const intervalMs = histories.reduce((m, h) => Math.max(m, h.history.interval_ms), 0);
  const total: Rows = new Map();
  // nodes sample at the same instants but may be asked on either side of one: the chart ends
  // at the newest time every node has sampled, so its last point is never a partial sum
  let last = Number.POSITIVE_INFINITY;
  for (const { history } of histories) {
    if (history.end === 0) continue;
    last = Math.min(last, Math.round(history.end / intervalMs));
    for (const [series, mapping] of parts(history, scope)) {
      addObject(total, series, mapping, history.end, history.interval_ms, intervalMs);
    }
  }
  const keys = [...total.keys()].filter((k) => k <= last).sort((a, b) => a - b);
  const answer = {
    interval_ms: intervalMs,
    time: [] as number[],
    ...Object.fromEntries(CHART_SERIES.map((name) => [name, [] as number[]])),
    nodes: histories.map((h) => h.node).sort(),
    unsupported,
  } as HistoryAnswer;
  if (keys.length === 0) return answer;
  const seconds = intervalMs / 1000;
  // every node's samples are contiguous up to now, so a missing time is one where nothing was kept: 0
  for (let key = keys[0]!; key <= keys[keys.length - 1]!; key++) {
    answer.time.push((key * intervalMs) / 1000);
    const r = total.get(key);
    CHART_SERIES.forEach((name, f) => {
      const v = r?.[f] ?? 0;
      answer[name].push(f < RATES ? Math.round((v / seconds) * 1000) / 1000 : v);
    });
  }
  return answer;
}

const docs = (summary: string, tag: string) => ({
  response: { 200: historyAnswer, ...errors(404, 502) },
  detail: { summary, tags: [tag] },
});

export function historyRoutes(ctx: AdminContext) {
  async function answer(f: Failures, producers: Producer[], topic: string, channel: string) {
    const { histories, unsupported } = await ctx.cluster.nodeHistories(producers, topic, channel, f);
    return jsonResponse({ ...sumHistories(histories, channel === "" ? "topic" : "channel", unsupported), message: f.message() });
  }

  return new Elysia()
    .get(
      "/api/history/topics/:topic",
      ({ params }) =>
        upstream(ctx, "get topic history", async (f) =>
          answer(f, await ctx.cluster.topicProducers(params.topic, f), params.topic, ""),
        ),
      docs("bunsq: the last hour of a topic and its channels, summed over its nodes", "topics"),
    )
    .get(
      "/api/history/topics/:topic/:channel",
      ({ params }) =>
        upstream(ctx, "get channel history", async (f) =>
          answer(f, await ctx.cluster.topicProducers(params.topic, f), params.topic, params.channel),
        ),
      docs("bunsq: the last hour of a channel, summed over its nodes", "channels"),
    )
    .get(
      "/api/history/nodes/:node",
      ({ params }) =>
        upstream(ctx, "get node history", async (f) => {
          const producer = (await ctx.cluster.producers(f)).find((p) => httpAddress(p) === params.node);
          if (producer === undefined) throw new HttpError(404, "NODE_NOT_FOUND");
          return answer(f, [producer], "", "");
        }),
      docs("bunsq: the last hour of every topic and channel of one nsqd, summed", "nodes"),
    );
}
