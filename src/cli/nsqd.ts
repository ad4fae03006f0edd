#!/usr/bin/env bun
/**
 * The nsqd program: flags and config file to options, then the broker model and
 * its TCP door, and process concerns (signals, exit codes).
 */
import { mkdirSync } from "node:fs";
import { FlagError, OptionsError, formatHelp } from "./flags.ts";
import { NSQD, VERSION } from "../core/nsqd.ts";
import { Logger } from "../core/logger.ts";
import { nsqdOptionTable, resolveNsqdOptions, type NsqdOptions } from "../core/options.ts";
import { TcpServer } from "../tcp/server.ts";
import { splitHostPort } from "./address.ts";

export interface RunningNsqd {
  nsqd: NSQD;
  tcp: TcpServer;
  /** The TCP port actually bound (useful with port 0). */
  tcpPort: number;
  stop(): void;
}

/** Options accepted by the flag table whose feature has not landed yet. */
function unsupported(options: NsqdOptions): string[] {
  const problems: string[] = [];
  if (options.tlsCert !== "") problems.push("--tls-cert/--tls-key (TLS)");
  if (options.authHttpAddresses.length > 0) problems.push("--auth-http-address (AUTH)");
  if (options.statsdAddress !== "") problems.push("--statsd-address (statsd)");
  if (options.lookupdTcpAddresses.length > 0) problems.push("--lookupd-tcp-address (nsqlookupd registration)");
  return problems;
}

export function startNsqd(options: NsqdOptions, logger?: Logger): RunningNsqd {
  const problems = unsupported(options);
  if (problems.length > 0) throw new Error(`not supported yet by bunsq: ${problems.join(", ")}`);
  if (options.dataPath !== "") mkdirSync(options.dataPath, { recursive: true });
  const nsqd = new NSQD(options, logger);
  const tcp = new TcpServer(nsqd);
  const { hostname, port } = splitHostPort(options.tcpAddress);
  tcp.listen(hostname, port);
  nsqd.start();
  return {
    nsqd,
    tcp,
    tcpPort: tcp.port,
    stop() {
      tcp.close();
      nsqd.close();
    },
  };
}

function main(argv: string[]): number {
  let resolved;
  try {
    resolved = resolveNsqdOptions(argv);
  } catch (err) {
    if (err instanceof FlagError || err instanceof OptionsError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (resolved.help) {
    process.stdout.write(formatHelp("nsqd", nsqdOptionTable));
    return 0;
  }
  if (resolved.version) {
    process.stdout.write(`nsqd v${VERSION} (bun ${Bun.version})\n`);
    return 0;
  }
  const options = resolved.options;
  const logger = new Logger({ level: options.logLevel, prefix: options.logPrefix });
  let running: RunningNsqd | null = null;
  // handlers first: a signal that arrives as soon as the port is open must still exit cleanly
  const shutdown = (signal: string) => {
    logger.info(`received ${signal}, exiting`);
    running?.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  logger.info(`nsqd v${VERSION} (bun ${Bun.version})`);
  logger.info(`ID: ${options.nodeId}`);
  try {
    running = startNsqd(options, logger);
  } catch (err) {
    logger.fatal((err as Error).message);
    return 1;
  }
  return -1;
}

if (import.meta.main) {
  const code = main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
}
