#!/usr/bin/env bun
/** The nsqlookupd program: flags and config file to options, the daemon, signals. */
import { Logger } from "../common/logger.ts";
import { NSQLookupd } from "../lookupd/nsqlookupd.ts";
import { lookupdOptionTable, resolveLookupdOptions, type LookupdOptions } from "../lookupd/options.ts";
import { main } from "./program.ts";

/** Starts nsqlookupd in this process (also used by tests and benchmarks). */
export function startNsqlookupd(options: LookupdOptions, logger?: Logger): NSQLookupd {
  const lookupd = new NSQLookupd(options, logger);
  lookupd.start();
  return lookupd;
}

if (import.meta.main) {
  main({ name: "nsqlookupd", table: lookupdOptionTable, resolve: resolveLookupdOptions, start: startNsqlookupd });
}
