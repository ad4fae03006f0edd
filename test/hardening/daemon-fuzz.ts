/**
 * Fuzzes a running cluster of processes (startDaemonCluster): nsqlookupd's V1 TCP
 * protocol and HTTP API, and nsqadmin's HTTP API, all at once, then checks that
 * every daemon is the process that was started, answers /ping, and still serves
 * the cluster's state. The bounded test and scripts/reliability.ts both run it.
 */
import { readFileSync } from "node:fs";
import type { Daemon, DaemonCluster } from "../helpers/daemons.ts";
import { eventually } from "../helpers/lookupd.ts";
import { runHttpFuzz, type HttpFuzzResult } from "./http-fuzzer.ts";
import { runLookupdFuzz, type LookupdFuzzResult } from "./lookupd-fuzzer.ts";

export const LOOKUPD_PATHS = [
  "/ping", "/info", "/lookup", "/topics", "/channels", "/nodes", "/debug", "/topic/create", "/topic/delete",
  "/topic/tombstone", "/channel/create", "/channel/delete", "/openapi", "/openapi/json", "/nope",
];

export const ADMIN_PATHS = [
  "/ping", "/", "/topics/:topic", "/topics/:topic/:channel", "/nodes", "/nodes/:node", "/counter", "/lookup",
  "/static/app.js", "/static/:asset", "/api/topics", "/api/topics/:topic", "/api/topics/:topic/:channel",
  "/api/topics/:topic/tail", "/api/nodes", "/api/nodes/:node", "/api/counter", "/api/graphite", "/config/:opt",
  "/openapi", "/openapi/json", "/nope",
];

/** The topic and channel whose registration must survive the fuzzing (the fuzzers never name them). */
export const TOPIC = "kept_state";
export const CHANNEL = "kept_channel";

export interface DaemonFuzzOptions {
  seed: number;
  /** HTTP requests for each of nsqlookupd and nsqadmin. */
  httpRequests: number;
  v1Frames: number;
  v1Connections: number;
  /** Clients at once per HTTP port. */
  concurrency: number;
}

export interface DaemonCheck {
  name: string;
  pid: number;
  /** Same process, still running. */
  samePid: boolean;
  ping: boolean;
  /** It still serves the cluster's state (see checkState). */
  state: boolean;
  /** Log lines showing a bug that only the safety nets caught (see bugLines). */
  bugs: string[];
}

export interface DaemonFuzzReport {
  lookupdHttp: HttpFuzzResult;
  lookupdV1: LookupdFuzzResult;
  adminHttp: HttpFuzzResult;
  seconds: number;
  checks: DaemonCheck[];
}

async function get(d: Daemon, path: string): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${d.httpPort}${path}`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    return { status: 0, text: String(err) };
  }
}

const json = (text: string): any => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** What each daemon must still answer: the nsqd producing TOPIC with CHANNEL, as lookupd and nsqadmin see it. */
async function checkState(c: DaemonCluster, d: Daemon): Promise<boolean> {
  if (d === c.lookupd) {
    const r = json((await get(d, `/lookup?topic=${TOPIC}`)).text);
    return (
      r?.channels?.includes(CHANNEL) === true &&
      r.producers?.some((p: { tcp_port: number }) => p.tcp_port === c.nsqd.tcpPort) === true
    );
  }
  if (d === c.admin) {
    const topics = json((await get(d, "/api/topics")).text);
    const topic = json((await get(d, `/api/topics/${TOPIC}`)).text);
    const nodes = json((await get(d, "/api/nodes")).text);
    return (
      topics?.topics?.includes(TOPIC) === true &&
      topic?.channels?.some((ch: { channel_name: string }) => ch.channel_name === CHANNEL) === true &&
      nodes?.nodes?.some((n: { http_port: number }) => n.http_port === c.nsqd.httpPort) === true
    );
  }
  const stats = json((await get(d, `/stats?format=json&topic=${TOPIC}`)).text);
  return stats?.topics?.[0]?.channels?.[0]?.channel_name === CHANNEL;
}

/**
 * Lines of the daemon's log that show a JavaScript error escaping the code meant to
 * handle it (hostile input is answered with NSQ's error codes, never with these).
 */
export function bugLines(d: Daemon): string[] {
  const log = readFileSync(d.logFile, "latin1");
  return log.split("\n").filter((l) => BUG.test(l));
}
const BUG = /TypeError|ReferenceError|RangeError|uncaught exception|unhandled (promise rejection|error)/;

async function check(c: DaemonCluster, d: Daemon, pid: number): Promise<DaemonCheck> {
  return {
    name: d.name,
    pid,
    samePid: d.alive() && d.proc.pid === pid,
    ping: (await get(d, "/ping")).text === "OK",
    state: await checkState(c, d),
    bugs: bugLines(d),
  };
}

/** The state the checks look for: a topic with a channel on the nsqd, seen by the lookupd and nsqadmin. */
export async function seedState(c: DaemonCluster): Promise<void> {
  const nsqd = `http://127.0.0.1:${c.nsqd.httpPort}`;
  await fetch(`${nsqd}/topic/create?topic=${TOPIC}`, { method: "POST" });
  await fetch(`${nsqd}/channel/create?topic=${TOPIC}&channel=${CHANNEL}`, { method: "POST" });
  for (const d of [c.lookupd, c.admin, c.nsqd]) {
    await eventually(() => checkState(c, d), `${d.name} to show ${TOPIC}/${CHANNEL}`, 10_000);
  }
}

export async function fuzzDaemons(c: DaemonCluster, o: DaemonFuzzOptions): Promise<DaemonFuzzReport> {
  const pids = new Map([c.lookupd, c.nsqd, c.admin].map((d) => [d, d.pid]));
  const t0 = performance.now();
  const [lookupdHttp, lookupdV1, adminHttp] = await Promise.all([
    runHttpFuzz({ port: c.lookupd.httpPort, paths: LOOKUPD_PATHS, seed: o.seed, requests: o.httpRequests, concurrency: o.concurrency }),
    runLookupdFuzz({ tcpPort: c.lookupd.tcpPort, seed: o.seed + 1, frames: o.v1Frames, connections: o.v1Connections }),
    runHttpFuzz({ port: c.admin.httpPort, paths: ADMIN_PATHS, seed: o.seed + 2, requests: o.httpRequests, concurrency: o.concurrency }),
  ]);
  const seconds = (performance.now() - t0) / 1000;
  const checks: DaemonCheck[] = [];
  for (const [d, pid] of pids) checks.push(await check(c, d, pid));
  return { lookupdHttp, lookupdV1, adminHttp, seconds, checks };
}

/** One line per part of the run, for the test's log and the reliability script. */
export function formatReport(r: DaemonFuzzReport): string[] {
  const http = (name: string, h: HttpFuzzResult) =>
    `${name} HTTP: ${h.sent} requests (${h.answered} answered, ${h.abandoned} abandoned, ${h.internalErrors} answered 500, ${h.refused} refused)`;
  return [
    http("nsqlookupd", r.lookupdHttp),
    `nsqlookupd V1: ${r.lookupdV1.framesSent} frames on ${r.lookupdV1.connectionsOpened} connections`,
    http("nsqadmin", r.adminHttp),
    ...r.checks.map(
      (ch) =>
        `${ch.name} pid ${ch.pid}: same process ${ch.samePid}, /ping ${ch.ping ? "OK" : "FAILED"}, ` +
        `state ${ch.state ? "served" : "LOST"}, ${ch.bugs.length} errors caught by the safety nets`,
    ),
    `in ${r.seconds.toFixed(1)} s`,
  ];
}
