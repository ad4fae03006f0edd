/**
 * What every bunsq daemon does as a program: options from flags and --config,
 * --help and --version, a logger, SIGINT/SIGTERM handling, exit codes, and
 * uncaught errors logged instead of ending the daemon.
 */
import { Logger, type LogLevel } from "../common/logger.ts";
import { FlagError, OptionsError, formatHelp, type OptionTable, type ResolvedArgs } from "../options/flags.ts";
import { logUncaught } from "./uncaught.ts";
import { versionText } from "./version.ts";

interface ProgramOptions {
  logLevel: LogLevel;
  logPrefix: string;
}

export interface ProgramSpec<O extends ProgramOptions> {
  name: string;
  table: OptionTable;
  resolve(argv: readonly string[]): ResolvedArgs<O>;
  /** Starts the daemon; throws to fail start-up. A stop() that returns a promise gives the exit code when it settles. */
  start(options: O, logger: Logger): { stop(): void | Promise<number> };
  /** Extra start-up lines after the version. */
  banner?(options: O, logger: Logger): void;
}

/** Runs a daemon; returns an exit code, or -1 while it keeps running. */
export function runProgram<O extends ProgramOptions>(spec: ProgramSpec<O>, argv: readonly string[]): number {
  let resolved;
  try {
    resolved = spec.resolve(argv);
  } catch (err) {
    if (err instanceof FlagError || err instanceof OptionsError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (resolved.help) {
    process.stdout.write(formatHelp(spec.name, spec.table));
    return 0;
  }
  if (resolved.version) {
    process.stdout.write(`${versionText(spec.name)}\n`);
    return 0;
  }
  const options = resolved.options;
  const logger = new Logger({ level: options.logLevel, prefix: options.logPrefix });
  let running: { stop(): void | Promise<number> } | null = null;
  // handlers first: a signal that arrives as soon as the port is open must still exit cleanly
  const shutdown = (signal: string) => {
    logger.info(`received ${signal}, exiting`);
    const stopped = running?.stop();
    if (stopped instanceof Promise) void stopped.then((code) => process.exit(code));
    else process.exit(0);
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  logUncaught(logger);
  logger.info(versionText(spec.name));
  for (const warning of resolved.warnings) logger.warn(warning);
  spec.banner?.(options, logger);
  try {
    running = spec.start(options, logger);
  } catch (err) {
    logger.fatal((err as Error).message);
    return 1;
  }
  return -1;
}

/** Entry point helper: run and exit unless the daemon keeps running. */
export function main<O extends ProgramOptions>(spec: ProgramSpec<O>): void {
  const code = runProgram(spec, process.argv.slice(2));
  if (code >= 0) process.exit(code);
}
