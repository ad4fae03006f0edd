import type { NsqdOptions } from "../core/options.ts";
import { fatal } from "../protocol/errors.ts";

/** The IDENTIFY body fields nsqd reads; absent fields keep their zero value, as in Go. */
export interface IdentifyData {
  client_id: string;
  hostname: string;
  user_agent: string;
  heartbeat_interval: number;
  output_buffer_size: number;
  output_buffer_timeout: number;
  feature_negotiation: boolean;
  tls_v1: boolean;
  deflate: boolean;
  deflate_level: number;
  snappy: boolean;
  sample_rate: number;
  msg_timeout: number;
  /** Deprecated spellings older clients still send. */
  short_id: string;
  long_id: string;
}

const STRING_FIELDS = ["client_id", "hostname", "user_agent", "short_id", "long_id"] as const;
const INT_FIELDS = [
  "heartbeat_interval",
  "output_buffer_size",
  "output_buffer_timeout",
  "deflate_level",
  "sample_rate",
  "msg_timeout",
] as const;
const BOOL_FIELDS = ["feature_negotiation", "tls_v1", "deflate", "snappy"] as const;

const utf8 = new TextDecoder();

/** Go's encoding/json refuses documents nested deeper than this. */
const MAX_JSON_DEPTH = 10000;

/** True when arrays/objects nest deeper than Go's decoder allows (strings are skipped). */
function nestedTooDeep(body: Uint8Array): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Decodes the JSON body like Go's json.Unmarshal into nsqd's struct: unknown keys
 * are ignored, a value of the wrong type is an error. Returns null when it fails.
 */
export function decodeIdentify(body: Uint8Array): IdentifyData | null {
  if (nestedTooDeep(body)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(utf8.decode(body));
  } catch {
    return null;
  }
  const data: IdentifyData = {
    client_id: "",
    hostname: "",
    user_agent: "",
    heartbeat_interval: 0,
    output_buffer_size: 0,
    output_buffer_timeout: 0,
    feature_negotiation: false,
    tls_v1: false,
    deflate: false,
    deflate_level: 0,
    snappy: false,
    sample_rate: 0,
    msg_timeout: 0,
    short_id: "",
    long_id: "",
  };
  if (raw === null) return data;
  if (typeof raw !== "object" || Array.isArray(raw)) return null;
  const obj = raw as Record<string, unknown>;
  for (const key of STRING_FIELDS) {
    const v = obj[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== "string") return null;
    data[key] = v;
  }
  for (const key of INT_FIELDS) {
    const v = obj[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || !Number.isInteger(v)) return null;
    data[key] = v;
  }
  for (const key of BOOL_FIELDS) {
    const v = obj[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== "boolean") return null;
    data[key] = v;
  }
  return data;
}

/** Per-client settings a client may negotiate, in ms / bytes. */
export interface ClientSettings {
  heartbeatInterval: number;
  outputBufferSize: number;
  outputBufferTimeout: number;
  sampleRate: number;
  msgTimeout: number;
}

/** Default output buffer size of a client that does not ask for one (nsqd: 16 KiB). */
export const DEFAULT_OUTPUT_BUFFER_SIZE = 16 * 1024;

export function defaultClientSettings(opts: NsqdOptions): ClientSettings {
  return {
    heartbeatInterval: opts.clientTimeout / 2,
    outputBufferSize: DEFAULT_OUTPUT_BUFFER_SIZE,
    outputBufferTimeout: opts.outputBufferTimeout,
    sampleRate: 0,
    msgTimeout: opts.msgTimeout,
  };
}

const invalid = (what: string) => fatal("E_BAD_BODY", `IDENTIFY ${what} is invalid`);

/**
 * Applies the negotiable values with nsqd's rules (-1 disables, 0 keeps the
 * default, anything else must be within the configured limits). Throws nsqd's
 * E_BAD_BODY for the first invalid value.
 */
export function applyIdentify(settings: ClientSettings, data: IdentifyData, opts: NsqdOptions): void {
  const hb = data.heartbeat_interval;
  if (hb === -1) settings.heartbeatInterval = 0;
  else if (hb >= 1000 && hb <= opts.maxHeartbeatInterval) settings.heartbeatInterval = hb;
  else if (hb !== 0) throw invalid(`heartbeat interval (${hb})`);

  const timeout = data.output_buffer_timeout;
  if (timeout === -1) settings.outputBufferTimeout = 0;
  else if (timeout >= opts.minOutputBufferTimeout && timeout <= opts.maxOutputBufferTimeout) {
    settings.outputBufferTimeout = timeout;
  } else if (timeout !== 0) throw invalid(`output buffer timeout (${timeout})`);

  const size = data.output_buffer_size;
  if (size === -1) {
    // effectively unbuffered: every frame is written at once
    settings.outputBufferSize = 1;
    settings.outputBufferTimeout = 0;
  } else if (size >= 64 && size <= opts.maxOutputBufferSize) settings.outputBufferSize = size;
  else if (size !== 0) throw invalid(`output buffer size (${size})`);

  const rate = data.sample_rate;
  if (rate < 0 || rate > 99) throw invalid(`sample rate (${rate})`);
  settings.sampleRate = rate;

  const msgTimeout = data.msg_timeout;
  if (msgTimeout >= 1000 && msgTimeout <= opts.maxMsgTimeout) settings.msgTimeout = msgTimeout;
  else if (msgTimeout !== 0) throw invalid(`msg timeout (${msgTimeout})`);
}
