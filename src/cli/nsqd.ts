#!/usr/bin/env bun
/**
 * The nsqd program: flags and config file to options, then the daemon
 * (src/nsqd/daemon.ts), and process concerns (signals, exit codes).
 */
import { nsqdOptionTable, resolveNsqdOptions } from "../core/options.ts";
import { NsqdDaemon } from "../nsqd/daemon.ts";
import { main } from "./program.ts";

if (import.meta.main) {
  main({
    name: "nsqd",
    table: nsqdOptionTable,
    resolve: resolveNsqdOptions,
    start: (options, logger) => {
      const daemon = new NsqdDaemon(options, logger);
      daemon.start();
      return daemon;
    },
    banner: (options, logger) => logger.info(`ID: ${options.nodeId}`),
  });
}
