// nsqd's options: one table (flag names, config keys and defaults of NSQ 1.3 nsqd,
// plus bunsq's own max-connections) from which schema, argv parser and help derive.

import { daemonLogLevelOption, logPrefixOption } from "../options/common-options.ts";
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
  resolveProgramOptions,
  validateOptions,
  type ConfigLoadOptions,
  type OptionSpec,
  type OptionsOf,
  type ResolvedArgs,
} from "../options/flags.ts";

export const TLS_VERSIONS = ["ssl3.0", "tls1.0", "tls1.1", "tls1.2", "tls1.3"] as const;
export type TlsVersionName = (typeof TLS_VERSIONS)[number];

export const TLS_REQUIRED_VALUES = ["false", "true", "tcp-https"] as const;

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
  daemonLogLevelOption,
  logPrefixOption("[nsqd] "),
  {
    key: "nodeId",
    flag: "node-id",
    kind: "int",
    default: () => defaultNodeId(),
    min: 0,
    max: 1023,
    help: "node id 0-1023 that makes message ids unique across nsqds; derived from the hostname unless set",
    // a no-op boolean in NSQ 1.3, the node id in NSQ before 1.0: both command lines work
    deprecatedFlags: [
      {
        flag: "worker-id",
        instead: "node-id",
        valueOptional: true,
        help: "[deprecated] use --node-id; --worker-id=N is its old name, a bare --worker-id does nothing",
      },
    ],
  },
  {
    key: "tcpAddress",
    flag: "tcp-address",
    kind: "string",
    default: "0.0.0.0:4150",
    validate: checkHostPort,
    help: "host:port where the TCP protocol (V2) listens",
  },
  {
    key: "httpAddress",
    flag: "http-address",
    kind: "string",
    default: "0.0.0.0:4151",
    validate: checkHostPort,
    help: "host:port where the HTTP API listens",
  },
  {
    key: "httpsAddress",
    flag: "https-address",
    kind: "string",
    default: "0.0.0.0:4152",
    validate: checkHostPort,
    help: "host:port where the HTTP API listens over TLS",
  },
  {
    key: "broadcastAddress",
    flag: "broadcast-address",
    kind: "string",
    default: () => hostname(),
    validate: checkNonEmpty,
    help: "address announced to nsqlookupd for clients to connect to; this host's name unless set",
  },
  {
    key: "broadcastTcpPort",
    flag: "broadcast-tcp-port",
    kind: "int",
    default: 0,
    min: 0,
    max: 65535,
    help: "TCP port announced to nsqlookupd (0: the port actually listened on)",
  },
  {
    key: "broadcastHttpPort",
    flag: "broadcast-http-port",
    kind: "int",
    default: 0,
    min: 0,
    max: 65535,
    help: "HTTP port announced to nsqlookupd (0: the port actually listened on)",
  },
  {
    key: "lookupdTcpAddresses",
    flag: "lookupd-tcp-address",
    configKey: "nsqlookupd_tcp_addresses",
    kind: "list",
    default: [],
    validate: checkHostPort,
    help: "host:port of an nsqlookupd to register with (repeatable)",
  },
  {
    key: "authHttpAddresses",
    flag: "auth-http-address",
    configKey: "auth_http_addresses",
    kind: "list",
    default: [],
    validate: checkHostPortOrUrl,
    help: "host:port or URL of an auth server that AUTH secrets are checked against (repeatable)",
  },
  {
    key: "authHttpRequestMethod",
    flag: "auth-http-request-method",
    kind: "string",
    default: "get",
    choices: ["get", "post"],
    help: "method of auth server requests: get or post",
  },
  {
    key: "httpClientConnectTimeout",
    flag: "http-client-connect-timeout",
    kind: "duration",
    default: 2_000,
    help: "connect timeout of outgoing HTTP requests",
  },
  {
    key: "httpClientRequestTimeout",
    flag: "http-client-request-timeout",
    kind: "duration",
    default: 5_000,
    help: "total timeout of outgoing HTTP requests",
  },

  // disk queue
  {
    key: "dataPath",
    flag: "data-path",
    kind: "string",
    default: "",
    help: "directory for disk queues and metadata (default: the working directory)",
  },
  {
    key: "memQueueSize",
    flag: "mem-queue-size",
    kind: "int",
    default: 10_000,
    min: 0,
    help: "messages a topic or channel holds in memory before it overflows",
  },
  {
    key: "maxBytesPerFile",
    flag: "max-bytes-per-file",
    kind: "int",
    default: 104_857_600,
    min: 1,
    help: "size at which a disk queue starts a new segment file",
  },
  {
    key: "syncEvery",
    flag: "sync-every",
    kind: "int",
    default: 2_500,
    min: 1,
    help: "fsync a disk queue after this many messages",
  },
  {
    key: "syncTimeout",
    flag: "sync-timeout",
    kind: "duration",
    default: 2_000,
    above: 0,
    help: "fsync a disk queue at least this often",
  },

  // in-flight and deferred queue scanning
  {
    key: "queueScanInterval",
    flag: "queue-scan-interval",
    kind: "duration",
    default: 100,
    above: 0,
    help: "period of the timer that expires in-flight and deferred messages",
  },
  {
    key: "queueScanRefreshInterval",
    flag: "queue-scan-refresh-interval",
    kind: "duration",
    default: 5_000,
    above: 0,
    help: "accepted for compatibility with nsqd's scanner; bunsq visits only channels with pending timeouts",
  },
  {
    key: "queueScanSelectionCount",
    flag: "queue-scan-selection-count",
    kind: "int",
    default: 20,
    min: 1,
    help: "accepted for compatibility with nsqd's scanner (unused by bunsq)",
  },
  {
    key: "queueScanWorkerPoolMax",
    flag: "queue-scan-worker-pool-max",
    kind: "int",
    default: 4,
    min: 1,
    help: "accepted for compatibility with nsqd's scanner (unused by bunsq)",
  },
  {
    key: "queueScanDirtyPercent",
    flag: "queue-scan-dirty-percent",
    kind: "float",
    default: 0.25,
    above: 0,
    max: 1,
    help: "accepted for compatibility with nsqd's scanner (unused by bunsq)",
  },

  // messages and commands
  {
    key: "msgTimeout",
    flag: "msg-timeout",
    kind: "duration",
    default: 60_000,
    min: 1,
    help: "time a consumer has to answer a message before it is delivered again (clients may ask for another)",
  },
  {
    key: "maxMsgTimeout",
    flag: "max-msg-timeout",
    kind: "duration",
    default: 900_000,
    above: 0,
    help: "longest message timeout a client may ask for or reach with TOUCH",
  },
  {
    key: "maxMsgSize",
    flag: "max-msg-size",
    kind: "int",
    default: 1_048_576,
    min: 1,
    help: "largest message body accepted, in bytes",
  },
  {
    key: "maxBodySize",
    flag: "max-body-size",
    kind: "int",
    default: 5_242_880,
    min: 1,
    help: "largest command body (MPUB, IDENTIFY, AUTH) accepted, in bytes",
  },
  {
    key: "maxReqTimeout",
    flag: "max-req-timeout",
    kind: "duration",
    default: 3_600_000,
    help: "longest delay of a REQ or DPUB",
  },
  {
    key: "clientTimeout",
    flag: "client-timeout",
    settable: false,
    kind: "duration",
    default: 60_000,
    above: 0,
    help: "silence after which a client is disconnected; half of it is the default heartbeat interval",
  },

  // client-overridable settings
  {
    key: "maxHeartbeatInterval",
    flag: "max-heartbeat-interval",
    kind: "duration",
    default: 60_000,
    above: 0,
    help: "longest heartbeat interval a client may ask for",
  },
  {
    key: "maxRdyCount",
    flag: "max-rdy-count",
    kind: "int",
    default: 2_500,
    min: 1,
    help: "largest RDY count a client may send",
  },
  {
    key: "maxOutputBufferSize",
    flag: "max-output-buffer-size",
    kind: "int",
    default: 65_536,
    min: 0,
    help: "largest output buffer a client may ask for, in bytes",
  },
  {
    key: "maxOutputBufferTimeout",
    flag: "max-output-buffer-timeout",
    kind: "duration",
    default: 30_000,
    help: "longest output buffer timeout a client may ask for",
  },
  {
    key: "minOutputBufferTimeout",
    flag: "min-output-buffer-timeout",
    kind: "duration",
    default: 25,
    help: "shortest output buffer timeout a client may ask for",
  },
  {
    key: "outputBufferTimeout",
    flag: "output-buffer-timeout",
    kind: "duration",
    default: 250,
    help: "output buffer timeout of clients that do not ask for one (bunsq flushes sooner: see README)",
  },
  {
    key: "maxChannelConsumers",
    flag: "max-channel-consumers",
    kind: "int",
    default: 0,
    min: 0,
    help: "most consumers one channel may have (0: no limit)",
  },

  // statsd
  {
    key: "statsdAddress",
    flag: "statsd-address",
    kind: "string",
    default: "",
    validate: checkOptionalHostPort,
    help: "host:port of a statsd daemon to send metrics to over UDP",
  },
  {
    key: "statsdPrefix",
    flag: "statsd-prefix",
    kind: "string",
    default: "nsq.%s",
    help: "prefix of statsd metric names (%s stands for the host)",
  },
  {
    key: "statsdInterval",
    flag: "statsd-interval",
    kind: "duration",
    default: 60_000,
    above: 0,
    help: "period between statsd pushes",
  },
  {
    key: "statsdMemStats",
    flag: "statsd-mem-stats",
    kind: "bool",
    default: true,
    help: "also send memory and GC metrics to statsd",
  },
  {
    key: "statsdUdpPacketSize",
    flag: "statsd-udp-packet-size",
    kind: "int",
    default: 508,
    min: 1,
    help: "largest statsd UDP packet, in bytes",
  },
  {
    key: "statsdExcludeEphemeral",
    flag: "statsd-exclude-ephemeral",
    kind: "bool",
    default: false,
    help: "leave ephemeral topics and channels out of statsd metrics",
  },

  // end-to-end processing latency
  {
    key: "e2eProcessingLatencyWindowTime",
    flag: "e2e-processing-latency-window-time",
    kind: "duration",
    default: 600_000,
    above: 0,
    help: "window over which end-to-end latency percentiles are computed",
  },
  {
    key: "e2eProcessingLatencyPercentiles",
    flag: "e2e-processing-latency-percentile",
    configKey: "e2e_processing_latency_percentiles",
    kind: "floatList",
    default: [],
    above: 0,
    max: 1,
    help: "end-to-end latency percentile to track, in (0, 1] (repeatable or comma-separated, e.g. 0.99,0.95)",
  },

  // TLS
  { key: "tlsCert", flag: "tls-cert", kind: "string", default: "", help: "TLS certificate file (PEM)" },
  { key: "tlsKey", flag: "tls-key", kind: "string", default: "", help: "TLS private key file (PEM)" },
  {
    key: "tlsClientAuthPolicy",
    flag: "tls-client-auth-policy",
    kind: "string",
    default: "",
    choices: ["", "require", "require-verify"],
    help: "client certificate policy: require or require-verify",
  },
  {
    key: "tlsRootCaFile",
    flag: "tls-root-ca-file",
    kind: "string",
    default: "",
    help: "CA file used to verify client certificates",
  },
  {
    key: "tlsRequired",
    flag: "tls-required",
    kind: "string",
    default: "false",
    choices: TLS_REQUIRED_VALUES,
    normalize: normalizeTlsRequired,
    boolFlag: true,
    help: "TLS for clients: false, true, or tcp-https (TCP and HTTPS only)",
  },
  {
    key: "tlsMinVersion",
    flag: "tls-min-version",
    kind: "string",
    default: "tls1.0",
    choices: TLS_VERSIONS,
    normalize: normalizeTlsMinVersion,
    valueName: "value",
    help: "oldest TLS version accepted: ssl3.0, tls1.0, tls1.1, tls1.2 or tls1.3",
  },

  // compression
  {
    key: "deflate",
    flag: "deflate",
    kind: "bool",
    default: true,
    help: "let clients negotiate deflate compression",
  },
  {
    key: "maxDeflateLevel",
    flag: "max-deflate-level",
    kind: "int",
    default: 6,
    min: 1,
    max: 9,
    help: "highest deflate level a client may ask for (higher costs more CPU)",
  },
  {
    key: "snappy",
    flag: "snappy",
    kind: "bool",
    default: true,
    help: "let clients negotiate snappy compression",
  },

  // bunsq only
  {
    key: "maxConnections",
    flag: "max-connections",
    kind: "int",
    default: 0,
    min: 0,
    help: "most TCP client connections at once; more are refused (0: no limit; bunsq only)",
  },
  {
    key: "workers",
    flag: "workers",
    kind: "int",
    default: 1,
    min: 1,
    max: 64,
    help:
      "processes serving --tcp-address and --http-address together (bunsq only; 1: one process, as nsqd). " +
      "Each worker is a whole nsqd with its data in <data-path>/worker-<i>, node id --node-id+i and a TCP and " +
      "HTTP port of its own (registered with nsqlookupd); per worker: --mem-queue-size, --max-connections, " +
      "--max-channel-consumers and the other limits of one process. See the README's Workers section",
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

/** Command line and --config file to validated options (see resolveProgramOptions). */
export function resolveNsqdOptions(argv: readonly string[], opts: ConfigLoadOptions = {}): ResolvedArgs<NsqdOptions> {
  return resolveProgramOptions(nsqdOptionTable, argv, parseNsqdOptions, opts);
}
