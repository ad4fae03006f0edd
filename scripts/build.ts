#!/usr/bin/env bun
/**
 * `bun run build`: each bunsq program as a standalone executable (bun build
 * --compile) in one folder, like NSQ's release binaries. Each carries the Bun
 * runtime, the Swagger UI (imported as files by src/http/swagger-ui.ts) and, for
 * nsqadmin, every file in src/admin/static (embedded as a folder, so assets added
 * there later are picked up). --version names the commit and build time.
 *
 *   bun run build                                    # every program into dist/bin
 *   bun scripts/build.ts --outdir=/tmp/bin --program=nsqd --program=nsqadmin
 */
import { mkdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import type { BuildInfo } from "../src/cli/version.ts";
import { toolMain, UsageError, type ToolContext } from "../src/cli/tool.ts";
import type { OptionsOf } from "../src/options/flags.ts";

const ROOT = resolve(import.meta.dir, "..");

/** Program name (the executable's file name) to its entry point. */
const PROGRAMS: Readonly<Record<string, string>> = {
  nsqd: "src/cli/nsqd.ts",
  nsqlookupd: "src/cli/nsqlookupd.ts",
  nsqadmin: "src/cli/nsqadmin.ts",
  nsq_tail: "src/cli/nsq_tail.ts",
  to_nsq: "src/cli/to_nsq.ts",
  nsq_to_file: "src/cli/nsq_to_file.ts",
  nsq_to_http: "src/cli/nsq_to_http.ts",
  nsq_to_nsq: "src/cli/nsq_to_nsq.ts",
  nsq_stat: "src/cli/nsq_stat.ts",
  bench_writer: "bench/bench-writer.ts",
  bench_reader: "bench/bench-reader.ts",
};

/** Folders a program reads next to its code at run time, embedded with --asset. */
const ASSET_DIRS: Readonly<Record<string, readonly string[]>> = {
  nsqadmin: ["src/admin/static"],
};

const table = [
  { key: "outdir", flag: "outdir", kind: "string", default: "dist/bin", help: "folder the executables are written to" },
  {
    key: "programs",
    flag: "program",
    kind: "list",
    default: [],
    help: `program to build (may be given multiple times; default: all of ${Object.keys(PROGRAMS).join(", ")})`,
  },
] as const;

function git(...args: string[]): string | null {
  const r = Bun.spawnSync(["git", ...args], { cwd: ROOT, stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : null;
}

function buildInfo(): BuildInfo {
  const commit = git("rev-parse", "--short", "HEAD") ?? "unknown";
  const dirty = (git("status", "--porcelain", "--untracked-files=no") ?? "") !== "";
  return { commit: dirty ? `${commit}-dirty` : commit, date: new Date().toISOString().replace(/\.\d+Z$/, "Z") };
}

async function compile(name: string, outdir: string, info: BuildInfo): Promise<void> {
  const args = [
    process.execPath,
    "build",
    "--compile",
    // no --minify: Elysia reads handlers' parameter names from their source text, and it saves only ~2%
    // a daemon must not pick up .env or bunfig.toml from whatever directory it starts in
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    `--define=BUNSQ_BUILD=${JSON.stringify(info)}`,
    ...(ASSET_DIRS[name] ?? []).map((dir) => `--asset=${dir}`),
    `--outfile=${join(outdir, name)}`,
    PROGRAMS[name]!,
  ];
  const proc = Bun.spawn(args, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`building ${name} failed (exit ${code}):\n${stdout}${stderr}`);
}

/** Runs the builds `parallel` at a time; resolves when all are done, rejects on the first failure. */
async function compileAll(names: readonly string[], outdir: string, info: BuildInfo, parallel: number, log: (line: string) => void) {
  const queue = [...names];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const started = performance.now();
      await compile(name, outdir, info);
      const mib = statSync(join(outdir, name)).size / 2 ** 20;
      log(`${name.padEnd(12)} ${mib.toFixed(1)} MiB  ${((performance.now() - started) / 1000).toFixed(1)}s`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, names.length) }, worker));
}

async function run(o: OptionsOf<typeof table>, { logger }: ToolContext): Promise<number> {
  const names = o.programs.length > 0 ? o.programs : Object.keys(PROGRAMS);
  const unknown = names.filter((n) => !(n in PROGRAMS));
  if (unknown.length > 0) throw new UsageError(`unknown program(s): ${unknown.join(", ")}`);
  const outdir = resolve(o.outdir);
  mkdirSync(outdir, { recursive: true });
  const info = buildInfo();
  const started = performance.now();
  logger.info(`building ${names.length} program(s) into ${outdir} (commit ${info.commit})`);
  await compileAll(names, outdir, info, availableParallelism(), (line) => logger.info(line));
  logger.info(`done in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  return 0;
}

if (import.meta.main) toolMain({ name: "build", table, run });
