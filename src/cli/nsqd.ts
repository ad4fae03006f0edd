#!/usr/bin/env bun
/**
 * The nsqd program: flags and config file to options, then the daemon
 * (src/nsqd/daemon.ts), and process concerns (signals, exit codes). With
 * --workers=N (N > 1) it is the supervisor of N worker processes, each of them
 * this program again (src/workers).
 */
import { nsqdOptionTable, resolveNsqdOptions } from "../core/options.ts";
import { NsqdDaemon } from "../nsqd/daemon.ts";
import { checkDataLayout } from "../workers/layout.ts";
import { Supervisor } from "../workers/supervisor.ts";
import { startWorker, workerIndexFromEnv } from "../workers/worker.ts";
import { main } from "./program.ts";

if (import.meta.main) {
  const worker = workerIndexFromEnv();
  main({
    name: worker === null ? "nsqd" : `nsqd worker ${worker}`,
    table: nsqdOptionTable,
    resolve: resolveNsqdOptions,
    start: (options, logger) => {
      if (worker !== null) return startWorker(options, logger, worker);
      checkDataLayout(options);
      if (options.workers > 1) {
        const supervisor = new Supervisor(options, process.argv.slice(2), logger);
        supervisor.start();
        return supervisor;
      }
      const daemon = new NsqdDaemon(options, logger);
      daemon.start();
      return daemon;
    },
    banner: (options, logger) => logger.info(`ID: ${options.nodeId}${worker === null ? "" : `+${worker}`}`),
  });
}
