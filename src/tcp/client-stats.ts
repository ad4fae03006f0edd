/** A V2 connection's stats as nsqd reports them under a channel's clients and the producers. */
import type { ClientStats, PubCount } from "../schemas/nsqd-stats.ts";
import type { ClientV2 } from "./client-v2.ts";

type TlsStats = Pick<
  ClientStats,
  "tls" | "tls_cipher_suite" | "tls_version" | "tls_negotiated_protocol" | "tls_negotiated_protocol_is_mutual"
>;

/** Go's names for TLS versions, as nsqd reports them. */
const TLS_VERSION_NAMES: Record<string, string> = {
  TLSv1: "TLS1.0",
  "TLSv1.1": "TLS1.1",
  "TLSv1.2": "TLS1.2",
  "TLSv1.3": "TLS1.3",
};

function tlsStats(client: ClientV2): TlsStats {
  const session = client.tlsSession();
  if (session === null) {
    return { tls: false, tls_cipher_suite: "", tls_version: "", tls_negotiated_protocol: "", tls_negotiated_protocol_is_mutual: false };
  }
  const { version, cipher } = session;
  return {
    tls: true,
    tls_cipher_suite: cipher?.standardName ?? cipher?.name ?? "",
    tls_version: TLS_VERSION_NAMES[version] ?? version,
    tls_negotiated_protocol: "",
    tls_negotiated_protocol_is_mutual: true,
  };
}

export function clientStats(client: ClientV2): ClientStats {
  const pubCounts: PubCount[] = [];
  for (const [topic, count] of client.pubCounts) pubCounts.push({ topic, count });
  return {
    client_id: client.clientId,
    hostname: client.hostname,
    version: "V2",
    remote_address: client.remoteAddress,
    state: client.state,
    ready_count: client.readyCount,
    in_flight_count: client.inFlightCount,
    message_count: client.messageCount,
    finish_count: client.finishCount,
    requeue_count: client.requeueCount,
    connect_ts: Math.floor(client.connectTime / 1000),
    sample_rate: client.settings.sampleRate,
    deflate: client.compression === "deflate",
    snappy: client.compression === "snappy",
    user_agent: client.userAgent,
    // omitempty: the key sits where Go puts it, before the TLS fields
    ...(pubCounts.length > 0 ? { pub_counts: pubCounts } : {}),
    ...tlsStats(client),
  };
}
