// nsqd's options: one table (flag names, config keys and defaults of NSQ 1.3 nsqd,
// plus bunsq's own max-connections) from which schema, argv parser and help derive.

import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { z } from "zod";
import {
  buildOptionsSchema,
  checkHostPort,
  checkHostPortOrUrl,
  checkNonEmpty,
  checkOptionalHostPort,
  parseGoBool,
  resolveOptions,
  validateOptions,
  type ConfigLoadOptions,
  type OptionSpec,
  type OptionsOf,
} from "../cli/flags.ts";
import { LOG_LEVELS, parseLogLevel } from "./logger.ts";

export const TLS_VERSIONS = ["ssl3.0", "tls1.0", "tls1.1", "tls1.2", "tls1.3"] as const;
export type TlsVersionName = (typeof TLS_VERSIONS)[number];

export const TLS_REQUIRED_VALUES = ["false", "true", "tcp-https"] as const;
export type TlsRequired = (typeof TLS_REQUIRED_VALUES)[number];

/** Same as Go nsqd: crc32(md5(hostname)) % 1024, so a host keeps the node id it had under nsqd. */
export function defaultNodeId(host: string = hostname()): number {
  const digest = createHash("md5").update(host).digest();
  return Bun.hash.crc32(digest) % 1024;
}

function normalizeTlsRequired(raw: string): string {
  const s = raw.toLowerCase();
  if (s === "tcp-https") return s;
  try {
    return parseGoBool(s) ? "true" : "false";
  } catch {
    throw new Error(`must be one of "true", "false", "tcp-https"`);
  }
}

// Go leaves the version unchanged for an empty value, i.e. the default.
function normalizeTlsMinVersion(raw: string): string {
  const s = raw.toLowerCase();
  return s === "" ? "tls1.0" : s;
}

export const nsqdOptionTable = [
  // basic
  {
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
    help: "set log verbosity: debug, info, warn, error, or fatal",
  },
  { key: "logPrefix", flag: "log-prefix", kind: "string", default: "[nsqd] ", help: "log message prefix" },
  {
    key: "nodeId",
    flag: "node-id",
    kind: "int",
    default: () => defaultNodeId(),
    min: 0,
    max: 1023,
    help: "unique part for message IDs, (int) in range [0,1024) (default is hash of hostname)",
  },
  {
    key: "tcpAddress",
    flag: "tcp-address",
    kind: "string",
    default: "0.0.0.0:4150",
    validate: checkHostPort,
    help: "<addr>:<port> to listen on for TCP clients",
  },
  {
    key: "httpAddress",
    flag: "http-address",
    kind: "string",
    default: "0.0.0.0:4151",
    validate: checkHostPort,
    help: "<addr>:<port> to listen on for HTTP clients",
  },
  {
    key: "httpsAddress",
    flag: "https-address",
    kind: "string",
    default: "0.0.0.0:4152",
    validate: checkHostPort,
    help: "<addr>:<port> to listen on for HTTPS clients",
  },
  {
    key: "broadcastAddress",
    flag: "broadcast-address",
    kind: "string",
    default: () => hostname(),
    validate: checkNonEmpty,
    help: "address that will be registered with lookupd (defaults to the OS hostname)",
  },
  {
    key: "broadcastTcpPort",
    flag: "broadcast-tcp-port",
    kind: "int",
    default: 0,
    min: 0,
    max: 65535,
    help: "TCP port that will be registered with lookupd (defaults to the TCP port that this nsqd is listening on)",
  },
  {
    key: "broadcastHttpPort",
    flag: "broadcast-http-port",
    kind: "int",
    default: 0,
    min: 0,
    max: 65535,
    help: "HTTP port that will be registered with lookupd (defaults to the HTTP port that this nsqd is listening on)",
  },
  {
    key: "lookupdTcpAddresses",
    flag: "lookupd-tcp-address",
    configKey: "nsqlookupd_tcp_addresses",
    kind: "list",
    default: [],
    validate: checkHostPort,
    help: "lookupd TCP address (may be given multiple times)",
  },
  {
    key: "authHttpAddresses",
    flag: "auth-http-address",
    configKey: "auth_http_addresses",
    kind: "list",
    default: [],
    validate: checkHostPortOrUrl,
    help: "<addr>:<port> or a full url to query auth server (may be given multiple times)",
  },
  {
    key: "authHttpRequestMethod",
    flag: "auth-http-request-method",
    kind: "string",
    default: "get",
    choices: ["get", "post"],
    help: "HTTP method to use for auth server requests (get or post)",
  },
  {
    key: "httpClientConnectTimeout",
    flag: "http-client-connect-timeout",
    kind: "duration",
    default: 2_000,
    help: "timeout for HTTP connect",
  },
  {
    key: "httpClientRequestTimeout",
    flag: "http-client-request-timeout",
    kind: "duration",
    default: 5_000,
    help: "timeout for HTTP request",
  },

  // disk queue
  {
    key: "dataPath",
    flag: "data-path",
    kind: "string",
    default: "",
    help: "path to store disk-backed messages (default is the current directory)",
  },
  {
    key: "memQueueSize",
    flag: "mem-queue-size",
    kind: "int",
    default: 10_000,
    min: 0,
    help: "number of messages to keep in memory (per topic/channel)",
  },
  {
    key: "maxBytesPerFile",
    flag: "max-bytes-per-file",
    kind: "int",
    default: 104_857_600,
    min: 1,
    help: "number of bytes per diskqueue file before rolling",
  },
  {
    key: "syncEvery",
    flag: "sync-every",
    kind: "int",
    default: 2_500,
    min: 1,
    help: "number of messages per diskqueue fsync",
  },
  {
    key: "syncTimeout",
    flag: "sync-timeout",
    kind: "duration",
    default: 2_000,
    above: 0,
    help: "duration of time per diskqueue fsync",
  },

  // in-flight and deferred queue scanning
  {
    key: "queueScanInterval",
    flag: "queue-scan-interval",
    kind: "duration",
    default: 100,
    above: 0,
    help: "how often to scan channels for in-flight and deferred message timeouts",
  },
  {
    key: "queueScanRefreshInterval",
    flag: "queue-scan-refresh-interval",
    kind: "duration",
    default: 5_000,
    above: 0,
    help: "how often to refresh the set of channels to scan",
  },
  {
    key: "queueScanSelectionCount",
    flag: "queue-scan-selection-count",
    kind: "int",
    default: 20,
    min: 1,
    help: "number of channels to check per cycle for in-flight and deferred timeouts",
  },
  {
    key: "queueScanWorkerPoolMax",
    flag: "queue-scan-worker-pool-max",
    kind: "int",
    default: 4,
    min: 1,
    help: "max concurrency for checking in-flight and deferred message timeouts",
  },
  {
    key: "queueScanDirtyPercent",
    flag: "queue-scan-dirty-percent",
    kind: "float",
    default: 0.25,
    above: 0,
    max: 1,
    help: "fraction of scanned channels that must be dirty to rescan immediately",
  },

  // messages and commands
  {
    key: "msgTimeout",
    flag: "msg-timeout",
    kind: "duration",
    default: 60_000,
    min: 1,
    help: "default duration to wait before auto-requeing a message",
  },
  {
    key: "maxMsgTimeout",
    flag: "max-msg-timeout",
    kind: "duration",
    default: 900_000,
    above: 0,
    help: "maximum duration before a message will timeout",
  },
  {
    key: "maxMsgSize",
    flag: "max-msg-size",
    kind: "int",
    default: 1_048_576,
    min: 1,
    help: "maximum size of a single message in bytes",
  },
  {
    key: "maxBodySize",
    flag: "max-body-size",
    kind: "int",
    default: 5_242_880,
    min: 1,
    help: "maximum size of a single command body",
  },
  {
    key: "maxReqTimeout",
    flag: "max-req-timeout",
    kind: "duration",
    default: 3_600_000,
    help: "maximum requeuing timeout for a message",
  },
  {
    key: "clientTimeout",
    flag: "client-timeout",
    settable: false,
    kind: "duration",
    default: 60_000,
    above: 0,
    help: "time without a heartbeat response after which a client is disconnected",
  },

  // client-overridable settings
  {
    key: "maxHeartbeatInterval",
    flag: "max-heartbeat-interval",
    kind: "duration",
    default: 60_000,
    above: 0,
    help: "maximum client configurable duration of time between client heartbeats",
  },
  {
    key: "maxRdyCount",
    flag: "max-rdy-count",
    kind: "int",
    default: 2_500,
    min: 1,
    help: "maximum RDY count for a client",
  },
  {
    key: "maxOutputBufferSize",
    flag: "max-output-buffer-size",
    kind: "int",
    default: 65_536,
    min: 0,
    help: "maximum client configurable size (in bytes) for a client output buffer",
  },
  {
    key: "maxOutputBufferTimeout",
    flag: "max-output-buffer-timeout",
    kind: "duration",
    default: 30_000,
    help: "maximum client configurable duration of time between flushing to a client",
  },
  {
    key: "minOutputBufferTimeout",
    flag: "min-output-buffer-timeout",
    kind: "duration",
    default: 25,
    help: "minimum client configurable duration of time between flushing to a client",
  },
  {
    key: "outputBufferTimeout",
    flag: "output-buffer-timeout",
    kind: "duration",
    default: 250,
    help: "default duration of time between flushing data to clients",
  },
  {
    key: "maxChannelConsumers",
    flag: "max-channel-consumers",
    kind: "int",
    default: 0,
    min: 0,
    help: "maximum channel consumer connection count per nsqd instance (default 0, i.e., unlimited)",
  },

  // statsd
  {
    key: "statsdAddress",
    flag: "statsd-address",
    kind: "string",
    default: "",
    validate: checkOptionalHostPort,
    help: "UDP <addr>:<port> of a statsd daemon for pushing stats",
  },
  {
    key: "statsdPrefix",
    flag: "statsd-prefix",
    kind: "string",
    default: "nsq.%s",
    help: "prefix used for keys sent to statsd (%s for host replacement)",
  },
  {
    key: "statsdInterval",
    flag: "statsd-interval",
    kind: "duration",
    default: 60_000,
    above: 0,
    help: "duration between pushing to statsd",
  },
  {
    key: "statsdMemStats",
    flag: "statsd-mem-stats",
    kind: "bool",
    default: true,
    help: "toggle sending memory and GC stats to statsd",
  },
  {
    key: "statsdUdpPacketSize",
    flag: "statsd-udp-packet-size",
    kind: "int",
    default: 508,
    min: 1,
    help: "the size in bytes of statsd UDP packets",
  },
  {
    key: "statsdExcludeEphemeral",
    flag: "statsd-exclude-ephemeral",
    kind: "bool",
    default: false,
    help: "skip ephemeral topics and channels when sending stats to statsd",
  },

  // end-to-end processing latency
  {
    key: "e2eProcessingLatencyWindowTime",
    flag: "e2e-processing-latency-window-time",
    kind: "duration",
    default: 600_000,
    above: 0,
    help: "calculate end to end latency quantiles for this duration of time (ie: 60s would only show quantile calculations from the past 60 seconds)",
  },
  {
    key: "e2eProcessingLatencyPercentiles",
    flag: "e2e-processing-latency-percentile",
    configKey: "e2e_processing_latency_percentiles",
    kind: "floatList",
    default: [],
    above: 0,
    max: 1,
    help: "message processing time percentiles (as float (0, 1.0]) to track (can be specified multiple times or comma separated '1.0,0.99,0.95', default none)",
  },

  // TLS
  { key: "tlsCert", flag: "tls-cert", kind: "string", default: "", help: "path to certificate file" },
  { key: "tlsKey", flag: "tls-key", kind: "string", default: "", help: "path to key file" },
  {
    key: "tlsClientAuthPolicy",
    flag: "tls-client-auth-policy",
    kind: "string",
    default: "",
    choices: ["", "require", "require-verify"],
    help: "client certificate auth policy ('require' or 'require-verify')",
  },
  {
    key: "tlsRootCaFile",
    flag: "tls-root-ca-file",
    kind: "string",
    default: "",
    help: "path to certificate authority file",
  },
  {
    key: "tlsRequired",
    flag: "tls-required",
    kind: "string",
    default: "false",
    choices: TLS_REQUIRED_VALUES,
    normalize: normalizeTlsRequired,
    boolFlag: true,
    help: "require TLS for client connections (true, false, tcp-https)",
  },
  {
    key: "tlsMinVersion",
    flag: "tls-min-version",
    kind: "string",
    default: "tls1.0",
    choices: TLS_VERSIONS,
    normalize: normalizeTlsMinVersion,
    valueName: "value",
    help: "minimum SSL/TLS version acceptable ('ssl3.0', 'tls1.0', 'tls1.1', 'tls1.2' or 'tls1.3')",
  },

  // compression
  {
    key: "deflate",
    flag: "deflate",
    kind: "bool",
    default: true,
    help: "enable deflate feature negotiation (client compression)",
  },
  {
    key: "maxDeflateLevel",
    flag: "max-deflate-level",
    kind: "int",
    default: 6,
    min: 1,
    max: 9,
    help: "max deflate compression level a client can negotiate (> values == > nsqd CPU usage)",
  },
  {
    key: "snappy",
    flag: "snappy",
    kind: "bool",
    default: true,
    help: "enable snappy feature negotiation (client compression)",
  },

  // bunsq only
  {
    key: "maxConnections",
    flag: "max-connections",
    kind: "int",
    default: 0,
    min: 0,
    help: "maximum number of simultaneous client connections (default 0, i.e., unlimited)",
  },
] as const satisfies readonly OptionSpec[];

export type NsqdOptions = OptionsOf<typeof nsqdOptionTable>;

function addIssue(ctx: z.RefinementCtx, key: keyof NsqdOptions, message: string): void {
  ctx.addIssue({ code: "custom", path: [key], message });
}

export const nsqdOptionsSchema: z.ZodType<NsqdOptions> = buildOptionsSchema(nsqdOptionTable)
  .superRefine((o, ctx) => {
    if (o.minOutputBufferTimeout > o.maxOutputBufferTimeout) {
      addIssue(ctx, "minOutputBufferTimeout", "must be <= --max-output-buffer-timeout");
    }
    const hasCert = o.tlsCert !== "";
    const hasKey = o.tlsKey !== "";
    if (hasCert !== hasKey) {
      addIssue(ctx, hasCert ? "tlsKey" : "tlsCert", "--tls-cert and --tls-key must be given together");
    } else if (!hasCert && (o.tlsRequired !== "false" || o.tlsClientAuthPolicy !== "")) {
      addIssue(
        ctx,
        o.tlsRequired !== "false" ? "tlsRequired" : "tlsClientAuthPolicy",
        "cannot require TLS client connections without --tls-cert and --tls-key",
      );
    }
  })
  // As in nsqd, a client auth policy implies TLS is required.
  .transform((o) =>
    o.tlsClientAuthPolicy !== "" && o.tlsRequired === "false" ? { ...o, tlsRequired: "true" as const } : o,
  );

/** Validates and completes options given by key; missing keys take their defaults. */
export function parseNsqdOptions(partial: Record<string, unknown>): NsqdOptions {
  return validateOptions(nsqdOptionTable, nsqdOptionsSchema, partial, "nsqd options");
}

export function defaultNsqdOptions(): NsqdOptions {
  return parseNsqdOptions({});
}

export interface ResolvedNsqdArgs {
  options: NsqdOptions;
  config?: string;
  version: boolean;
  help: boolean;
}

/**
 * Command line and --config file to validated options (defaults < config < flags).
 * Throws FlagError for bad flags/config entries and OptionsError for invalid values.
 */
export function resolveNsqdOptions(argv: readonly string[], opts: ConfigLoadOptions = {}): ResolvedNsqdArgs {
  const { values, ...rest } = resolveOptions(nsqdOptionTable, argv, opts);
  // --help and --version exit before options are used, so range errors must not block them.
  const options = rest.help || rest.version ? defaultNsqdOptions() : parseNsqdOptions(values);
  return { ...rest, options };
}
