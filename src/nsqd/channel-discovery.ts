/**
 * nsqd's question to the cluster when one of its topics is created: which channels
 * does this topic have? Every nsqlookupd that has answered IDENTIFY is asked in
 * parallel (GET /channels?topic= at the broadcast address and HTTP port it
 * reported); the answer is the union of what came back within the timeout. A
 * lookupd that is down, slow or answers nonsense contributes nothing and is
 * logged, never an error: the topic then starts with the channels the others know.
 */
import { httpUrl, joinHostPort } from "../common/host-port.ts";
import type { Logger } from "../common/logger.ts";
import type { ChannelDiscovery } from "../core/nsqd.ts";
import type { LookupdInfo } from "./lookup-peer.ts";

/** What discovery needs of nsqd's lookup peers (LookupPeers). */
export interface DiscoveryPeers {
  /** The --lookupd-tcp-address list in use. */
  readonly addresses: string[];
  /** What each lookupd said about itself in answer to IDENTIFY (null before it answered). */
  infos(): (LookupdInfo | null)[];
}

/** The HTTP addresses of the lookupds that told us theirs. */
export function lookupdHttpAddresses(infos: readonly (LookupdInfo | null)[]): string[] {
  const addresses: string[] = [];
  for (const info of infos) {
    if (!info?.broadcast_address || !info.http_port) continue;
    addresses.push(joinHostPort(info.broadcast_address, info.http_port));
  }
  return addresses;
}

/**
 * The hook NSQD calls for a new topic (NSQD.channelDiscovery): null without
 * lookupds, so a standalone nsqd never holds a new topic's messages.
 */
export function lookupdChannelDiscovery(peers: DiscoveryPeers, timeoutMs: () => number, logger: Logger): ChannelDiscovery {
  return (topic) => {
    if (peers.addresses.length === 0) return null;
    const httpAddresses = lookupdHttpAddresses(peers.infos());
    if (httpAddresses.length === 0) {
      logger.error(`no available nsqlookupd to query for channels to pre-create for topic ${topic}`);
      return null;
    }
    return queryTopicChannels(httpAddresses, topic, timeoutMs(), logger);
  };
}

/** The union of the topic's channels on every lookupd that answers within `timeoutMs`. */
export async function queryTopicChannels(
  httpAddresses: readonly string[],
  topic: string,
  timeoutMs: number,
  logger: Logger,
): Promise<string[]> {
  const answers = await Promise.all(httpAddresses.map((a) => channelsFrom(a, topic, timeoutMs, logger)));
  return [...new Set(answers.flat())];
}

/** One lookupd's list, or [] (logged) when it fails or does not finish within `timeoutMs`. */
async function channelsFrom(address: string, topic: string, timeoutMs: number, logger: Logger): Promise<string[]> {
  const url = httpUrl(address, `/channels?topic=${encodeURIComponent(topic)}`);
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // a hard deadline for the whole exchange (connect, headers and body), whatever fetch does
  const deadline = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      logger.warn(`failed to query nsqlookupd ${url} for channels to pre-create - no answer within ${timeoutMs}ms`);
      resolve([]);
    }, timeoutMs);
  });
  const ask = async (): Promise<string[]> => {
    try {
      const res = await fetch(url, { headers: { Accept: "application/vnd.nsq; version=1.0" }, signal: controller.signal });
      const body = (await res.json()) as { channels?: unknown };
      if (res.status !== 200 || !Array.isArray(body.channels)) throw new Error(`status ${res.status}`);
      return body.channels.filter((c): c is string => typeof c === "string");
    } catch (err) {
      if (!controller.signal.aborted) {
        logger.warn(`failed to query nsqlookupd ${url} for channels to pre-create - ${(err as Error).message}`);
      }
      return [];
    }
  };
  try {
    return await Promise.race([ask(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
