/**
 * What nsqadmin reads from the daemons and what its API answers, with the JSON
 * field names of NSQ 1.3's nsqadmin (internal/clusterinfo), plus bunsq's rates:
 * the types of the schemas in schemas.ts and schemas/nsqd-stats.ts.
 */
import type { z } from "zod";
import type * as Nsqd from "../schemas/nsqd-stats.ts";
import type { channelSchema, clientSchema, producerSchema, topicSchema } from "./schemas.ts";

export type { E2eLatency } from "../schemas/nsqd-stats.ts";

/** One nsqd as nsqlookupd's /nodes or nsqd's /info describe it. */
export type Producer = z.infer<typeof producerSchema>;

export type ClientStats = z.infer<typeof clientSchema>;

/** A channel of one node (nodes null), or summed over its nodes (node "*", each node under `nodes`). */
export type ChannelStats = Omit<z.infer<typeof channelSchema>, "nodes"> & { nodes: ChannelStats[] | null };

/** A topic of one node (nodes null), or summed over its nodes (node "*", each node under `nodes`). */
export type TopicStats = Omit<z.infer<typeof topicSchema>, "nodes" | "channels"> & {
  channels: ChannelStats[];
  nodes: TopicStats[] | null;
};

/** Keys K of T may be missing. */
type Loose<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/**
 * An nsqd's /stats as nsqadmin reads it: Go's nsqd has no rates, and older
 * nsqds leave out more, so those fields may be missing.
 */
export interface NsqdStatsJson {
  topics: NsqdTopicJson[] | null;
}

export type NsqdTopicJson = Loose<Omit<Nsqd.TopicStats, "channels">, "e2e_processing_latency" | "message_rate_1m"> & {
  channels: NsqdChannelJson[] | null;
};

export type NsqdChannelJson = Loose<
  Omit<Nsqd.ChannelStats, "clients">,
  "client_count" | "e2e_processing_latency" | "message_rate_1m" | "consume_rate_1m"
> & { clients: NsqdClientJson[] | null };

/** Any field may be missing; Go's nsqd adds the auth fields, and nsqd before 1.0 reported only a name. */
export type NsqdClientJson = Partial<
  Nsqd.ClientStats & { authed: boolean; auth_identity: string; auth_identity_url: string; name: string }
>;
