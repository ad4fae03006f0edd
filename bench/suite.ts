#!/usr/bin/env bun
/**
 * The performance suite of issue #10: every measurement --runs times, each on a
 * fresh nsqd child process, then one table (median, min, max, target, Go nsqd's
 * figure) as text and as markdown. See docs/performance.md.
 *
 *   bun bench/suite.ts [--runs=5] [--runfor=5s] [--only=memory,disk,sync,latency,msgmem,connmem,topicmem]
 *                      [--nsqd-prof=<dir>]
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { OptionsOf } from "../src/options/flags.ts";
import { toolMain, UsageError, type ToolContext } from "../src/cli/tool.ts";
import {
  connectionMemory,
  latency,
  messageMemory,
  syncPublishers,
  throughput,
  topicMemory,
  type CaseContext,
  type CaseResult,
} from "./suite-cases.ts";
import { withNsqd, type Nsqd } from "./suite-nsqd.ts";
import { PhaseProfiles } from "./suite-profile.ts";
import { markdownTable, plainTable, summarise } from "./suite-table.ts";

const table = [
  { key: "runs", flag: "runs", kind: "int", default: 5, min: 1, help: "how many times to run every measurement" },
  { key: "runfor", flag: "runfor", kind: "duration", default: 5000, above: 0, help: "duration of each throughput phase (publish, consume, sync publishers)" },
  { key: "only", flag: "only", kind: "string", default: "", help: "comma-separated measurements to run (memory,disk,sync,latency,msgmem,connmem,topicmem)" },
  { key: "nsqdProf", flag: "nsqd-prof", kind: "string", default: "", help: "profile every nsqd with bun --cpu-prof into this directory" },
] as const;

type Options = OptionsOf<typeof table>;

interface Case {
  name: string;
  nsqdArgs: string[];
  run(n: Nsqd, ctx: CaseContext): Promise<CaseResult>;
}

const CASES: Case[] = [
  { name: "memory", nsqdArgs: ["--mem-queue-size=100000000"], run: (n, c) => throughput(n, c, "memory") },
  { name: "disk", nsqdArgs: ["--mem-queue-size=0"], run: (n, c) => throughput(n, c, "disk") },
  ...[1, 4, 16].map((p) => ({
    name: "sync",
    nsqdArgs: ["--sync-every=1", "--mem-queue-size=0"],
    run: (n: Nsqd, c: CaseContext) => syncPublishers(n, c, p),
  })),
  ...[20_000, 100_000].map((rate) => ({ name: "latency", nsqdArgs: [], run: (n: Nsqd, c: CaseContext) => latency(n, c, rate) })),
  { name: "msgmem", nsqdArgs: ["--mem-queue-size=2000000"], run: (n) => messageMemory(n) },
  { name: "connmem", nsqdArgs: [], run: (n) => connectionMemory(n) },
  { name: "topicmem", nsqdArgs: [], run: (n) => topicMemory(n) },
];

function selectCases(only: string): Case[] {
  if (only === "") return CASES;
  const names = only.split(",").map((s) => s.trim());
  const unknown = names.filter((n) => !CASES.some((c) => c.name === n));
  if (unknown.length > 0) throw new UsageError(`unknown measurement(s) ${unknown.join(", ")}`);
  return CASES.filter((c) => names.includes(c.name));
}

async function run(o: Options, { signal }: ToolContext): Promise<number> {
  const cases = selectCases(o.only);
  const profDir = o.nsqdProf === "" ? null : resolve(o.nsqdProf);
  if (profDir !== null) mkdirSync(profDir, { recursive: true });
  const ctx: CaseContext = { runforMs: o.runfor, profiles: new PhaseProfiles() };
  const figures = new Map<string, number[]>();
  const notes: string[] = [];
  for (let i = 1; i <= o.runs; i++) {
    for (const c of cases) {
      if (signal.aborted) throw new Error("interrupted");
      try {
        const result = await withNsqd({ args: c.nsqdArgs, profDir, label: c.name }, (n) => c.run(n, ctx));
        for (const [key, v] of Object.entries(result.figures)) figures.set(key, [...(figures.get(key) ?? []), v]);
        notes.push(...result.notes.map((n) => `run ${i}: ${n}`));
        const shown = Object.entries(result.figures).map(([k, v]) => `${k}=${Number(v.toFixed(3))}`);
        console.error(`run ${i}/${o.runs} ${c.name}: ${shown.join(" ")}`);
      } catch (err) {
        if (signal.aborted) throw err;
        notes.push(`run ${i}: ${c.name} failed: ${(err as Error).message}`);
        console.error(`run ${i}/${o.runs} ${c.name} failed: ${(err as Error).stack}`);
      }
    }
  }
  const rows = summarise(figures);
  console.log(`\n${plainTable(rows)}`);
  if (notes.length > 0) console.log(`\nnotes:\n${notes.map((n) => `  ${n}`).join("\n")}`);
  if (!ctx.profiles.empty) console.log(`\nnsqd CPU profile, self time by phase (${profDir}):\n${await ctx.profiles.summary()}`);
  console.log(`\n${markdownTable(rows)}`);
  return 0;
}

if (import.meta.main) toolMain({ name: "bench_suite", table, run });
