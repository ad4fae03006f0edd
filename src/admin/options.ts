// nsqadmin's options: flag names, config keys and defaults of NSQ 1.3's nsqadmin,
// declared as one table from which the schema, argv parser and help text derive.

import { daemonLogLevelOption, logPrefixOption } from "../options/common-options.ts";
import {
  buildOptionsSchema,
  checkHostPort,
  resolveProgramOptions,
  validateOptions,
  type ConfigLoadOptions,
  type OptionSpec,
  type OptionsOf,
  type ResolvedArgs,
} from "../options/flags.ts";
import { parseCidr } from "./cidr.ts";

const checkUrl = (value: string) =>
  value === "" || /^https?:\/\//i.test(value) && URL.canParse(value) ? undefined : "must be an http:// or https:// URL";

export const adminOptionTable = [
  daemonLogLevelOption,
  logPrefixOption("[nsqadmin] "),
  {
    key: "httpAddress",
    flag: "http-address",
    kind: "string",
    default: "0.0.0.0:4171",
    validate: checkHostPort,
    help: "host:port where the web UI and its HTTP API listen",
  },
  {
    key: "basePath",
    flag: "base-path",
    kind: "string",
    default: "/",
    validate: (v: string) => (v.startsWith("/") ? undefined : 'must start with "/"'),
    help: "URL path prefix under which everything is served (behind a reverse proxy)",
  },
  {
    key: "devStaticDir",
    flag: "dev-static-dir",
    kind: "string",
    default: "",
    help: "serve the web UI's static assets from this directory instead of the built-in ones (development use only)",
  },
  {
    key: "lookupdHttpAddresses",
    flag: "lookupd-http-address",
    configKey: "nsqlookupd_http_addresses",
    kind: "list",
    default: [],
    validate: checkHostPort,
    valueName: "value",
    help: "nsqlookupd HTTP address (may be given multiple times); the cluster is discovered through them",
  },
  {
    key: "nsqdHttpAddresses",
    flag: "nsqd-http-address",
    configKey: "nsqd_http_addresses",
    kind: "list",
    default: [],
    validate: checkHostPort,
    valueName: "value",
    help: "nsqd HTTP address (may be given multiple times); instead of --lookupd-http-address",
  },
  {
    key: "notificationHttpEndpoint",
    flag: "notification-http-endpoint",
    kind: "string",
    default: "",
    validate: checkUrl,
    help: "URL that receives a JSON POST for every admin action (pause, empty, delete, ...)",
  },
  {
    key: "adminUsers",
    flag: "admin-user",
    configKey: "admin_users",
    kind: "list",
    default: [],
    valueName: "value",
    help: "user allowed to perform admin actions (may be given multiple times); none: everyone may",
  },
  {
    key: "aclHttpHeader",
    flag: "acl-http-header",
    kind: "string",
    default: "X-Forwarded-User",
    help: "HTTP header that carries the user name checked against --admin-user",
  },
  {
    key: "allowConfigFromCidr",
    flag: "allow-config-from-cidr",
    kind: "string",
    default: "127.0.0.1/8",
    validate: (v: string) => (v === "" || parseCidr(v) !== null ? undefined : "must be a CIDR such as 127.0.0.1/8"),
    help: "address range allowed to read and change options through /config (empty: any)",
  },
  {
    key: "graphiteUrl",
    flag: "graphite-url",
    kind: "string",
    default: "",
    validate: checkUrl,
    help: "Graphite HTTP address for the rate API (/api/graphite)",
  },
  {
    key: "proxyGraphite",
    flag: "proxy-graphite",
    kind: "bool",
    default: false,
    help: "proxy Graphite's /render through nsqadmin",
  },
  {
    key: "statsdPrefix",
    flag: "statsd-prefix",
    kind: "string",
    default: "nsq.%s",
    help: "prefix of the statsd keys the nsqds send (%s is the host)",
  },
  {
    key: "statsdCounterFormat",
    flag: "statsd-counter-format",
    kind: "string",
    default: "stats.counters.%s.count",
    help: "Graphite name of a statsd counter (%s is the key)",
  },
  {
    key: "statsdGaugeFormat",
    flag: "statsd-gauge-format",
    kind: "string",
    default: "stats.gauges.%s",
    help: "Graphite name of a statsd gauge (%s is the key)",
  },
  {
    key: "statsdInterval",
    flag: "statsd-interval",
    kind: "duration",
    default: 60_000,
    above: 0,
    help: "interval at which the nsqds push to statsd (must match their --statsd-interval)",
  },
  {
    key: "httpClientConnectTimeout",
    flag: "http-client-connect-timeout",
    kind: "duration",
    default: 2_000,
    above: 0,
    help: "timeout for connecting to an nsqd or nsqlookupd",
  },
  {
    key: "httpClientRequestTimeout",
    flag: "http-client-request-timeout",
    kind: "duration",
    default: 5_000,
    above: 0,
    help: "timeout for a whole request to an nsqd or nsqlookupd",
  },
  {
    key: "httpClientTlsInsecureSkipVerify",
    flag: "http-client-tls-insecure-skip-verify",
    kind: "bool",
    default: false,
    help: "do not verify the certificates of nsqds and nsqlookupds answering over HTTPS",
  },
  {
    key: "httpClientTlsRootCaFile",
    flag: "http-client-tls-root-ca-file",
    kind: "string",
    default: "",
    help: "CA file (PEM) that the certificates of nsqds and nsqlookupds answering over HTTPS must be signed by",
  },
  {
    key: "httpClientTlsCert",
    flag: "http-client-tls-cert",
    kind: "string",
    default: "",
    help: "client certificate file (PEM) shown to nsqds and nsqlookupds over HTTPS",
  },
  {
    key: "httpClientTlsKey",
    flag: "http-client-tls-key",
    kind: "string",
    default: "",
    help: "private key file (PEM) of --http-client-tls-cert",
  },
] as const satisfies readonly OptionSpec[];

export type AdminOptions = OptionsOf<typeof adminOptionTable>;

const adminOptionsSchema = buildOptionsSchema(adminOptionTable);

/** Validates and completes options given by key; missing keys take their defaults. */
export function parseAdminOptions(partial: Record<string, unknown>): AdminOptions {
  const options = validateOptions(adminOptionTable, adminOptionsSchema, partial, "nsqadmin options");
  return { ...options, basePath: normalizeBasePath(options.basePath) };
}

/** "/" stays "/", "/admin/" becomes "/admin". */
export function normalizeBasePath(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed === "" ? "/" : trimmed;
}

/** Cross-option rules of nsqadmin: exactly one kind of upstream address. */
export function checkUpstreams(options: AdminOptions): void {
  const lookupds = options.lookupdHttpAddresses.length;
  const nsqds = options.nsqdHttpAddresses.length;
  if (lookupds === 0 && nsqds === 0) throw new Error("--lookupd-http-address or --nsqd-http-address required");
  if (lookupds > 0 && nsqds > 0) throw new Error("use --lookupd-http-address or --nsqd-http-address, not both");
  if (options.proxyGraphite && options.graphiteUrl === "") throw new Error("--proxy-graphite needs --graphite-url");
}

/** Command line and --config file to validated options (see resolveProgramOptions). */
export function resolveAdminOptions(argv: readonly string[], opts: ConfigLoadOptions = {}): ResolvedArgs<AdminOptions> {
  return resolveProgramOptions(adminOptionTable, argv, parseAdminOptions, opts);
}
