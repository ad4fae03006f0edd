/** Client settings, named after go-nsq's Config fields; durations in milliseconds. */
import { hostname } from "node:os";
import { CLIENT_VERSION } from "./version.ts";

/** Settings shared by Producer and Consumer connections. */
export interface ConnectionConfig {
  /** Time allowed to connect and IDENTIFY (go-nsq dial_timeout). Default 1000. */
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
  /** nsqd output buffering for this client (bytes, ms); 0 keeps nsqd's defaults. */
  outputBufferSize: number;
  outputBufferTimeout: number;
  /** Share of messages nsqd sends this client (0-99, 0 = all). */
  sampleRate: number;
}

export const USER_AGENT = `bunsq/${CLIENT_VERSION}`;

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
  };
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
