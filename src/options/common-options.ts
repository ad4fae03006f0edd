/** Option specs every bunsq daemon shares, declared once for their option tables. */
import { LOG_LEVELS, parseLogLevel } from "../common/logger.ts";

export const logLevelOption = {
  key: "logLevel",
  flag: "log-level",
  kind: "string",
  default: "info",
  choices: LOG_LEVELS,
  normalize: (raw: string) => {
    try {
      return parseLogLevel(raw);
    } catch {
      throw new Error(`must be one of ${LOG_LEVELS.join(", ")}`);
    }
  },
  valueName: "value",
  help: "lowest level that is logged: debug, info, warn, error or fatal",
} as const;

/** The daemons' --log-level, with NSQ's deprecated --verbose (which meant debug logging) still accepted. */
export const daemonLogLevelOption = {
  ...logLevelOption,
  deprecatedFlags: [
    { flag: "verbose", sets: "debug", instead: "log-level=debug", help: "[deprecated] use --log-level=debug (which it sets)" },
  ],
} as const;

export function logPrefixOption<P extends string>(prefix: P) {
  return {
    key: "logPrefix",
    flag: "log-prefix",
    kind: "string",
    default: prefix,
    help: "text put at the start of every log line",
  } as const;
}
