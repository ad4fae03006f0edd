/** Asks nsqlookupd's HTTP API which nsqds produce a topic. */
import { httpUrl, joinHostPort } from "../common/host-port.ts";

interface LookupProducer {
  broadcast_address: string;
  tcp_port: number;
}

/**
 * The TCP addresses of the topic's producers, [] when lookupd does not know the
 * topic (yet), or null when lookupd could not be asked.
 */
export async function lookupTopic(address: string, topic: string, timeoutMs: number): Promise<string[] | null> {
  try {
    const res = await fetch(httpUrl(address, `/lookup?topic=${encodeURIComponent(topic)}`), {
      headers: { Accept: "application/vnd.nsq; version=1.0" },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json()) as { producers?: LookupProducer[]; message?: string };
    if (res.status === 404) return [];
    if (res.status !== 200 || !Array.isArray(body.producers)) return null;
    return body.producers.map((p) => joinHostPort(p.broadcast_address, p.tcp_port));
  } catch {
    return null;
  }
}
