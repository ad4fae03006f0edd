// nsqlookupd's options: flag names, config keys and defaults of NSQ 1.3's nsqlookupd,
// declared as one table from which the schema, argv parser and help text derive.

import { daemonLogLevelOption, logPrefixOption } from "../options/common-options.ts";
import { hostname } from "node:os";
import {
  buildOptionsSchema,
  checkHostPort,
  checkNonEmpty,
  resolveProgramOptions,
  validateOptions,
  type ConfigLoadOptions,
  type OptionSpec,
  type OptionsOf,
  type ResolvedArgs,
} from "../options/flags.ts";

export const lookupdOptionTable = [
  daemonLogLevelOption,
  logPrefixOption("[nsqlookupd] "),

  {
    key: "tcpAddress",
    flag: "tcp-address",
    kind: "string",
    default: "0.0.0.0:4160",
    validate: checkHostPort,
    help: "host:port where nsqds connect to register (protocol V1)",
  },
  {
    key: "httpAddress",
    flag: "http-address",
    kind: "string",
    default: "0.0.0.0:4161",
    validate: checkHostPort,
    help: "host:port where the HTTP API (lookups, admin) listens",
  },
  {
    key: "broadcastAddress",
    flag: "broadcast-address",
    kind: "string",
    default: () => hostname(),
    validate: checkNonEmpty,
    help: "address of this nsqlookupd as told to nsqds; this host's name unless set",
  },
  {
    key: "inactiveProducerTimeout",
    flag: "inactive-producer-timeout",
    kind: "duration",
    default: 300_000,
    above: 0,
    help: "how long an nsqd stays in lookup results after its last ping",
  },
  {
    key: "tombstoneLifetime",
    flag: "tombstone-lifetime",
    kind: "duration",
    default: 45_000,
    above: 0,
    help: "how long a tombstoned producer of a topic stays out of lookup results",
  },
] as const satisfies readonly OptionSpec[];

export type LookupdOptions = OptionsOf<typeof lookupdOptionTable>;

const lookupdOptionsSchema = buildOptionsSchema(lookupdOptionTable);

/** Validates and completes options given by key; missing keys take their defaults. */
export function parseLookupdOptions(partial: Record<string, unknown>): LookupdOptions {
  return validateOptions(lookupdOptionTable, lookupdOptionsSchema, partial, "nsqlookupd options");
}

/** Command line and --config file to validated options (see resolveProgramOptions). */
export function resolveLookupdOptions(argv: readonly string[], opts: ConfigLoadOptions = {}): ResolvedArgs<LookupdOptions> {
  return resolveProgramOptions(lookupdOptionTable, argv, parseLookupdOptions, opts);
}
