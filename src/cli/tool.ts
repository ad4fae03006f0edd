/**
 * What every bunsq tool (nsq_tail, to_nsq, ...) does as a program: one option
 * table parsed with Go flag semantics, --help and --version, a logger on stderr,
 * SIGINT/SIGTERM turned into an AbortSignal, and exit codes (2 for bad flags,
 * 1 for a fatal error).
 */
import { Logger, type LogLevel } from "../common/logger.ts";
import {
  FlagError,
  OptionsError,
  buildOptionsSchema,
  formatHelp,
  resolveOptions,
  validateOptions,
  type OptionTable,
  type OptionsOf,
} from "../options/flags.ts";
import { versionText } from "./version.ts";

/** A check on the options that failed, e.g. a missing required flag; exits 1 like Go's log.Fatal. */
export class UsageError extends Error {}

export interface ToolContext {
  logger: Logger;
  /** Aborted on SIGINT or SIGTERM. */
  signal: AbortSignal;
}

export interface ToolSpec<T extends OptionTable> {
  name: string;
  table: T;
  /** Runs the tool; resolves to the exit code. */
  run(options: OptionsOf<T>, ctx: ToolContext): Promise<number>;
}

/** Parses argv and runs the tool; resolves to the process exit code. */
export async function runTool<T extends OptionTable>(spec: ToolSpec<T>, argv: readonly string[]): Promise<number> {
  let options: OptionsOf<T>;
  let warnings: string[];
  try {
    const parsed = resolveOptions(spec.table, argv);
    if (parsed.help) {
      process.stdout.write(formatHelp(spec.name, spec.table));
      return 0;
    }
    if (parsed.version) {
      process.stdout.write(`${versionText(spec.name)}\n`);
      return 0;
    }
    options = validateOptions(spec.table, buildOptionsSchema(spec.table), parsed.values, "options");
    warnings = parsed.warnings;
  } catch (err) {
    if (err instanceof FlagError || err instanceof OptionsError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const values = options as Record<string, unknown>;
  const logger = new Logger({
    level: (values.logLevel as LogLevel | undefined) ?? "info",
    prefix: (values.logPrefix as string | undefined) ?? "",
  });
  for (const warning of warnings) logger.warn(warning);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await spec.run(options, { logger, signal: abort.signal });
  } catch (err) {
    logger.fatal(err instanceof Error ? err.message : String(err));
    return 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Entry point: runs the tool on process.argv and exits with its code. */
export function toolMain<T extends OptionTable>(spec: ToolSpec<T>): void {
  void runTool(spec, process.argv.slice(2)).then((code) => process.exit(code));
}

/** Resolves when the signal aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
