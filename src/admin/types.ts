/**
 * What nsqadmin reads from the daemons and what its API answers, with the JSON
 * field names of NSQ 1.3's nsqadmin (internal/clusterinfo), plus bunsq's rates.
 */

/** One nsqd as nsqlookupd's /nodes or nsqd's /info describe it. */
export interface Producer {
  remote_addresses: string[];
  remote_address: string;
  hostname: string;
  broadcast_address: string;
  tcp_port: number;
  http_port: number;
  version: string;
  topics: { topic: string; tombstoned: boolean }[];
  out_of_date: boolean;
}

export interface E2eLatency {
  count: number;
  percentiles: { quantile: number; value: number }[] | null;
}

export interface ClientStats {
  node: string;
  remote_address: string;
  version: string;
  client_id: string;
  hostname: string;
  user_agent: string;
  connect_ts: number;
  /** nanoseconds since connect_ts */
  connected: number;
  in_flight_count: number;
  ready_count: number;
  finish_count: number;
  requeue_count: number;
  message_count: number;
  sample_rate: number;
  deflate: boolean;
  snappy: boolean;
  authed: boolean;
  auth_identity: string;
  auth_identity_url: string;
  tls: boolean;
  tls_cipher_suite: string;
  tls_version: string;
  tls_negotiated_protocol: string;
  tls_negotiated_protocol_is_mutual: boolean;
}

export interface ChannelStats {
  node: string;
  hostname: string;
  topic_name: string;
  channel_name: string;
  depth: number;
  memory_depth: number;
  backend_depth: number;
  in_flight_count: number;
  deferred_count: number;
  requeue_count: number;
  timeout_count: number;
  message_count: number;
  client_count: number;
  nodes: ChannelStats[] | null;
  clients: ClientStats[];
  paused: boolean;
  e2e_processing_latency: E2eLatency;
  /** bunsq: messages per second over the last minute; null when an nsqd does not report it. */
  message_rate_1m: number | null;
  consume_rate_1m: number | null;
}

export interface TopicStats {
  node: string;
  hostname: string;
  topic_name: string;
  depth: number;
  memory_depth: number;
  backend_depth: number;
  message_count: number;
  nodes: TopicStats[] | null;
  channels: ChannelStats[];
  paused: boolean;
  e2e_processing_latency: E2eLatency;
  /** bunsq: messages per second published over the last minute; null when not reported. */
  message_rate_1m: number | null;
}

/** The parts of nsqd's /stats?format=json that nsqadmin reads. */
export interface NsqdStatsJson {
  topics: NsqdTopicJson[] | null;
}

export interface NsqdTopicJson {
  topic_name: string;
  channels: NsqdChannelJson[] | null;
  depth: number;
  backend_depth: number;
  message_count: number;
  paused: boolean;
  e2e_processing_latency?: E2eLatency;
  message_rate_1m?: number;
}

export interface NsqdChannelJson {
  channel_name: string;
  depth: number;
  backend_depth: number;
  in_flight_count: number;
  deferred_count: number;
  message_count: number;
  requeue_count: number;
  timeout_count: number;
  client_count?: number;
  clients: NsqdClientJson[] | null;
  paused: boolean;
  e2e_processing_latency?: E2eLatency;
  message_rate_1m?: number;
  consume_rate_1m?: number;
}

export type NsqdClientJson = Partial<Omit<ClientStats, "node" | "connected">> & { name?: string };
