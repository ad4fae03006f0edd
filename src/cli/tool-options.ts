/**
 * Option specs the tools share (NSQ's flag names), and the go-nsq style
 * `--consumer-opt` / `--producer-opt` pass-through ("name,value").
 */
import { logLevelOption } from "../options/common-options.ts";
import { checkHostPort, parseGoFloat, parseGoInt } from "../options/flags.ts";
import type { Logger } from "../common/logger.ts";
import type { ClientLogLevel } from "../client/consumer.ts";
import { parseDuration } from "../options/duration.ts";
import type { ConsumerConfig } from "../client/consumer.ts";
import type { ConnectionConfig } from "../client/config.ts";
import { UsageError } from "./tool.ts";

export const nsqdTcpAddressOption = {
  key: "nsqdTcpAddresses",
  flag: "nsqd-tcp-address",
  kind: "list",
  default: [],
  validate: checkHostPort,
  help: "nsqd TCP address (may be given multiple times)",
} as const;

export const lookupdHttpAddressOption = {
  key: "lookupdHttpAddresses",
  flag: "lookupd-http-address",
  kind: "list",
  default: [],
  help: "lookupd HTTP address (may be given multiple times)",
} as const;

export function channelOption<D extends string>(dflt: D) {
  return { key: "channel", flag: "channel", kind: "string", default: dflt, help: "NSQ channel" } as const;
}

export function maxInFlightOption(dflt: number) {
  return {
    key: "maxInFlight",
    flag: "max-in-flight",
    kind: "int",
    default: dflt,
    min: 1,
    help: "max number of messages to allow in flight",
  } as const;
}

export const consumerOptOption = {
  key: "consumerOpts",
  flag: "consumer-opt",
  kind: "list",
  default: [],
  help: "option to passthrough to the consumer, as name,value with go-nsq's config names (may be given multiple times)",
} as const;

export const producerOptOption = {
  key: "producerOpts",
  flag: "producer-opt",
  kind: "list",
  default: [],
  help: "option to passthrough to the producer, as name,value with go-nsq's config names (may be given multiple times)",
} as const;

export const toolLogLevelOption = { ...logLevelOption, help: "set log level: debug, info, warn, error, or fatal" } as const;

type Parse = (raw: string) => number | string | boolean;
const duration: Parse = (raw) => parseDuration(raw);
const int: Parse = (raw) => parseGoInt(raw);
const float: Parse = (raw) => parseGoFloat(raw);
const text: Parse = (raw) => raw;
/** Go's strconv.ParseBool. */
const bool: Parse = (raw) => {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(raw)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(raw)) return false;
  throw new Error(`strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`);
};

/** go-nsq config names bunsq understands, with the client setting each one sets. */
const PASSTHROUGH: Record<string, [keyof ConsumerConfig, Parse]> = {
  dial_timeout: ["dialTimeout", duration],
  read_timeout: ["readTimeout", duration],
  heartbeat_interval: ["heartbeatInterval", duration],
  client_id: ["clientId", text],
  hostname: ["hostname", text],
  user_agent: ["userAgent", text],
  msg_timeout: ["msgTimeout", duration],
  output_buffer_size: ["outputBufferSize", int],
  output_buffer_timeout: ["outputBufferTimeout", duration],
  sample_rate: ["sampleRate", int],
  tls_v1: ["tlsV1", bool],
  tls_root_ca_file: ["tlsRootCaFile", text],
  tls_cert: ["tlsCert", text],
  tls_key: ["tlsKey", text],
  tls_insecure_skip_verify: ["tlsInsecureSkipVerify", bool],
  snappy: ["snappy", bool],
  deflate: ["deflate", bool],
  deflate_level: ["deflateLevel", int],
  auth_secret: ["authSecret", text],
  max_in_flight: ["maxInFlight", int],
  max_attempts: ["maxAttempts", int],
  default_requeue_delay: ["defaultRequeueDelay", duration],
  max_requeue_delay: ["maxRequeueDelay", duration],
  backoff_multiplier: ["backoffMultiplier", duration],
  max_backoff_duration: ["maxBackoffDuration", duration],
  lookupd_poll_interval: ["lookupdPollInterval", duration],
  lookupd_poll_jitter: ["lookupdPollJitter", float],
  rdy_redistribute_interval: ["rdyRedistributeInterval", duration],
  low_rdy_idle_timeout: ["lowRdyIdleTimeout", duration],
  low_rdy_timeout: ["lowRdyTimeout", duration],
};

const CONNECTION_KEYS = new Set<string>([
  "dialTimeout",
  "readTimeout",
  "heartbeatInterval",
  "clientId",
  "hostname",
  "userAgent",
  "msgTimeout",
  "outputBufferSize",
  "outputBufferTimeout",
  "sampleRate",
  "tlsV1",
  "tlsRootCaFile",
  "tlsCert",
  "tlsKey",
  "tlsInsecureSkipVerify",
  "snappy",
  "deflate",
  "deflateLevel",
  "authSecret",
]);

function parsePassthrough(opts: readonly string[], allowed: (key: string) => boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const opt of opts) {
    const comma = opt.indexOf(",");
    // go-nsq's Config.Set takes "tls-v1" as "tls_v1"
    const name = (comma < 0 ? opt : opt.slice(0, comma)).replaceAll("-", "_");
    const entry = PASSTHROUGH[name];
    if (entry === undefined || !allowed(entry[0])) throw new UsageError(`unknown option ${JSON.stringify(name)}`);
    // go-nsq's ConfigFlag: a name without a value sets a boolean option to true
    if (comma < 0 && entry[1] !== bool) throw new UsageError(`option ${name} needs a value (name,value)`);
    try {
      out[entry[0]] = comma < 0 ? true : entry[1](opt.slice(comma + 1));
    } catch (err) {
      throw new UsageError(`invalid value for option ${name}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** `--consumer-opt` values to Consumer settings. */
export function consumerOpts(opts: readonly string[]): Partial<ConsumerConfig> {
  return parsePassthrough(opts, () => true) as Partial<ConsumerConfig>;
}

/** `--producer-opt` values to Producer settings. */
export function producerOpts(opts: readonly string[]): Partial<ConnectionConfig> {
  return parsePassthrough(opts, (key) => CONNECTION_KEYS.has(key)) as Partial<ConnectionConfig>;
}

/** NSQ's rule for consumer tools: exactly one way to find nsqds. */
export function checkSources(o: { nsqdTcpAddresses: readonly string[]; lookupdHttpAddresses: readonly string[] }): void {
  if (o.nsqdTcpAddresses.length === 0 && o.lookupdHttpAddresses.length === 0) {
    throw new UsageError("--nsqd-tcp-address or --lookupd-http-address required");
  }
  if (o.nsqdTcpAddresses.length > 0 && o.lookupdHttpAddresses.length > 0) {
    throw new UsageError("use --nsqd-tcp-address or --lookupd-http-address not both");
  }
}

/** Connects a consumer to the given nsqds or lookupds. */
export async function connectConsumer(
  c: { connectToNsqd(a: string): Promise<void>; connectToNsqlookupd(a: string): Promise<void> },
  o: { nsqdTcpAddresses: readonly string[]; lookupdHttpAddresses: readonly string[] },
): Promise<void> {
  for (const a of o.nsqdTcpAddresses) await c.connectToNsqd(a);
  for (const a of o.lookupdHttpAddresses) await c.connectToNsqlookupd(a);
}


/** Routes a client's log lines to a tool's logger. */
export function clientLog(logger: Logger): (level: ClientLogLevel, text: string) => void {
  return (level, text) => logger[level](text);
}
