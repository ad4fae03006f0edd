/** Client settings, named after go-nsq's Config fields; durations in milliseconds. */
import { hostname } from "node:os";
import { VERSION } from "../common/version.ts";

/** Settings shared by Producer and Consumer connections. */
export interface ConnectionConfig {
  /** Time allowed to connect, IDENTIFY and finish the upgrades and AUTH (go-nsq dial_timeout). Default 1000. */
  dialTimeout: number;
  /** Close a connection that read nothing for this long (go-nsq read_timeout). Default 60000. */
  readTimeout: number;
  /** Heartbeat interval asked of nsqd; -1 disables (go-nsq heartbeat_interval). Default 30000. */
  heartbeatInterval: number;
  /** Identifies the client in nsqd's stats. Defaults to the short host name. */
  clientId: string;
  hostname: string;
  userAgent: string;
  /** Server-side in-flight timeout for this client's messages; 0 keeps nsqd's --msg-timeout. */
  msgTimeout: number;
  /** nsqd output buffering for this client (bytes, ms); 0 keeps nsqd's defaults, -1 disables. */
  outputBufferSize: number;
  outputBufferTimeout: number;
  /** Share of messages nsqd sends this client (0-99, 0 = all). */
  sampleRate: number;

  /** Ask nsqd for TLS (go-nsq tls_v1): the connection is upgraded in place after IDENTIFY. */
  tlsV1: boolean;
  /** PEM file of the CA that signed nsqd's certificate (go-nsq tls_root_ca_file); "" = the system's CAs. */
  tlsRootCaFile: string;
  /** PEM files of a client certificate and its key, for nsqd's --tls-client-auth-policy (go-nsq tls_cert, tls_key). */
  tlsCert: string;
  tlsKey: string;
  /** Accept any server certificate (go-nsq tls_insecure_skip_verify). */
  tlsInsecureSkipVerify: boolean;
  /** Name nsqd's certificate must carry (Go's tls.Config ServerName); "" = the host dialed. */
  tlsServerName: string;
  /** Ask for snappy compression (go-nsq snappy). */
  snappy: boolean;
  /** Ask for deflate compression (go-nsq deflate) at deflateLevel (1-9, default 6). */
  deflate: boolean;
  deflateLevel: number;
  /** Sent with AUTH when nsqd answers IDENTIFY with auth_required (go-nsq auth_secret). */
  authSecret: string;
}

export const USER_AGENT = `bunsq/${VERSION}`;

export function defaultConnectionConfig(): ConnectionConfig {
  const host = hostname();
  return {
    dialTimeout: 1000,
    readTimeout: 60_000,
    heartbeatInterval: 30_000,
    clientId: host.split(".")[0] ?? host,
    hostname: host,
    userAgent: USER_AGENT,
    msgTimeout: 0,
    outputBufferSize: 0,
    outputBufferTimeout: 0,
    sampleRate: 0,
    tlsV1: false,
    tlsRootCaFile: "",
    tlsCert: "",
    tlsKey: "",
    tlsInsecureSkipVerify: false,
    tlsServerName: "",
    snappy: false,
    deflate: false,
    deflateLevel: 6,
    authSecret: "",
  };
}

/** Throws when settings contradict each other or are out of go-nsq's ranges. */
export function validateConnectionConfig(c: ConnectionConfig): void {
  if (c.snappy && c.deflate) throw new Error("snappy and deflate cannot both be enabled");
  if (!(Number.isInteger(c.deflateLevel) && c.deflateLevel >= 1 && c.deflateLevel <= 9)) {
    throw new Error(`deflateLevel must be 1-9, got ${c.deflateLevel}`);
  }
  if (!(Number.isInteger(c.sampleRate) && c.sampleRate >= 0 && c.sampleRate <= 99)) {
    throw new Error(`sampleRate must be 0-99, got ${c.sampleRate}`);
  }
  if ((c.tlsCert === "") !== (c.tlsKey === "")) throw new Error("tlsCert and tlsKey must be given together");
}

/** The IDENTIFY body for a configuration. */
export function identifyBody(c: ConnectionConfig): Record<string, unknown> {
  const body: Record<string, unknown> = {
    client_id: c.clientId,
    hostname: c.hostname,
    user_agent: c.userAgent,
    feature_negotiation: true,
    heartbeat_interval: c.heartbeatInterval,
    sample_rate: c.sampleRate,
    msg_timeout: c.msgTimeout,
    tls_v1: c.tlsV1,
    snappy: c.snappy,
    deflate: c.deflate,
    deflate_level: c.deflateLevel,
  };
  if (c.outputBufferSize !== 0) body.output_buffer_size = c.outputBufferSize;
  if (c.outputBufferTimeout !== 0) body.output_buffer_timeout = c.outputBufferTimeout;
  return body;
}

/** The read timeout to use: at least two heartbeats, so a quiet but healthy link stays up. */
export function effectiveReadTimeout(c: ConnectionConfig): number {
  if (c.heartbeatInterval <= 0) return c.readTimeout;
  return Math.max(c.readTimeout, c.heartbeatInterval * 2);
}
