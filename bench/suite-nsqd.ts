/**
 * A fresh nsqd child process for one measurement: free ports, a temp data dir,
 * optional CPU profiling, and /proc readings (RSS, CPU time) of the child.
 * `withNsqd` stops the process and removes the data dir whatever happens.
 */
import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitListening } from "../test/helpers/process.ts";

const NSQD = join(import.meta.dir, "..", "src", "cli", "nsqd.ts");

export interface Nsqd {
  proc: Subprocess;
  port: number;
  httpPort: number;
  dataPath: string;
  /** The profile file it writes on exit, when profiling. */
  profile: string | null;
}

export interface NsqdSpec {
  args: string[];
  /** Directory for `bun --cpu-prof`, or null. */
  profDir: string | null;
  /** Names the profile file. */
  label: string;
}

let profiles = 0;

export async function withNsqd<T>(spec: NsqdSpec, fn: (n: Nsqd) => Promise<T>): Promise<T> {
  const dataPath = mkdtempSync(join(tmpdir(), "bunsq-suite-"));
  const port = freePort();
  const httpPort = freePort();
  const profile = spec.profDir === null ? null : `${spec.label}-${++profiles}.cpuprofile`;
  const prof = profile === null ? [] : ["--cpu-prof", `--cpu-prof-dir=${spec.profDir}`, `--cpu-prof-name=${profile}`];
  const proc = Bun.spawn(
    [
      "bun",
      ...prof,
      NSQD,
      `--tcp-address=127.0.0.1:${port}`,
      `--http-address=127.0.0.1:${httpPort}`,
      `--data-path=${dataPath}`,
      "--log-level=warn",
      ...spec.args,
    ],
    { stdout: "inherit", stderr: "inherit" },
  );
  try {
    await waitListening(port);
    await waitListening(httpPort);
    return await fn({ proc, port, httpPort, dataPath, profile: profile && join(spec.profDir!, profile) });
  } finally {
    proc.kill("SIGTERM"); // nsqd exits 0 on SIGTERM, which lets --cpu-prof write its file
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await proc.exited;
    clearTimeout(timer);
    rmSync(dataPath, { recursive: true, force: true });
  }
}

/** Resident set size of a process, in bytes. */
export async function rss(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** The lowest RSS over a few samples after a pause: what is left once the heap settles. */
export async function settledRss(pid: number, pauseMs = 2000): Promise<number> {
  await Bun.sleep(pauseMs);
  let low = Infinity;
  for (let i = 0; i < 5; i++) {
    low = Math.min(low, await rss(pid));
    await Bun.sleep(250);
  }
  return low;
}

/** utime + stime of a process ("self" or a pid), in milliseconds (USER_HZ is 100 on Linux). */
export async function cpuMs(pid: number | "self"): Promise<number> {
  const stat = await Bun.file(`/proc/${pid}/stat`).text();
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10; // fields 14 and 15 of stat(5)
}

/** Channel depth (memory + disk) and in-flight count, from nsqd's /stats. */
export async function channelStats(httpPort: number, topic: string, channel: string): Promise<{ depth: number; inFlight: number }> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/stats?format=json&topic=${topic}&channel=${channel}`);
  const body = (await res.json()) as { data?: StatsBody } & StatsBody;
  const c = (body.data ?? body).topics?.find((t) => t.topic_name === topic)?.channels.find((ch) => ch.channel_name === channel);
  return { depth: c?.depth ?? 0, inFlight: c?.in_flight_count ?? 0 };
}

interface StatsBody {
  topics?: { topic_name: string; channels: { channel_name: string; depth: number; in_flight_count: number }[] }[];
}

/** Creates a topic and its channel over HTTP, so a backlog is the channel's. */
export async function createChannel(httpPort: number, topic: string, channel: string): Promise<void> {
  const base = `http://127.0.0.1:${httpPort}`;
  for (const path of [`/topic/create?topic=${topic}`, `/channel/create?topic=${topic}&channel=${channel}`]) {
    const res = await fetch(base + path, { method: "POST" });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  }
}
