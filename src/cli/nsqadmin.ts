#!/usr/bin/env bun
/** The nsqadmin program: flags and config file to options, the web UI and its API, signals. */
import type { Logger } from "../common/logger.ts";
import { NSQAdmin } from "../admin/nsqadmin.ts";
import { adminOptionTable, resolveAdminOptions, type AdminOptions } from "../admin/options.ts";
import { main } from "./program.ts";

/** Starts nsqadmin in this process (also used by tests). */
export function startNsqadmin(options: AdminOptions, logger?: Logger): NSQAdmin {
  const admin = new NSQAdmin(options, logger);
  admin.start();
  return admin;
}

if (import.meta.main) {
  main({ name: "nsqadmin", table: adminOptionTable, resolve: resolveAdminOptions, start: startNsqadmin });
}
