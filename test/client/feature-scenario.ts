/**
 * One publish-and-consume round trip with the client, run as a child process on
 * Bun (this file) or on Node (this file bundled with `bun build --target=node`),
 * so both runtimes go through exactly the same steps. Prints one JSON line.
 *
 * argv[2]: a Scenario as JSON. The Producer publishes `count` messages (half as
 * PUBs, half as one MPUB), then a Consumer reads them through `messages()`; while
 * both are still connected, nsqd's /stats entries for their client ids are
 * fetched, so the caller sees what nsqd itself recorded about the connections.
 */
import { Consumer, NegotiationError, Producer, PublishError, type ConnectionConfig } from "../../src/client/index.ts";

export interface Scenario {
  tcpAddress: string;
  httpAddress: string;
  topic: string;
  count: number;
  /** Stop after this many messages (default: count). */
  take?: number;
  config: Partial<ConnectionConfig>;
}

export interface ScenarioResult {
  runtime: "bun" | "node";
  received?: string[];
  producer?: unknown;
  consumer?: unknown[];
  /** nsqd's /stats client entries, by client id: producer "p", consumer "c". */
  stats?: Record<string, Record<string, unknown>>;
  error?: { name: string; code: string | null; message: string };
}

async function nsqdClients(s: Scenario): Promise<Record<string, Record<string, unknown>>> {
  const res = await fetch(`http://${s.httpAddress}/stats?format=json&include_clients=true`);
  const json = (await res.json()) as {
    producers?: Record<string, unknown>[];
    topics: { channels: { clients: Record<string, unknown>[] | null }[] }[] | null;
  };
  const out: Record<string, Record<string, unknown>> = {};
  for (const c of json.producers ?? []) out[String(c.client_id)] = c;
  for (const t of json.topics ?? []) for (const ch of t.channels) for (const c of ch.clients ?? []) out[String(c.client_id)] = c;
  return out;
}

async function run(s: Scenario): Promise<ScenarioResult> {
  const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "node";
  const producer = new Producer(s.tcpAddress, { ...s.config, clientId: "p" });
  const consumer = new Consumer(s.topic, "ch", { ...s.config, clientId: "c", maxInFlight: 10 });
  try {
    const half = Math.floor(s.count / 2);
    await Promise.all(Array.from({ length: half }, (_, i) => producer.publish(s.topic, `msg-${i}`)));
    await producer.multiPublish(s.topic, Array.from({ length: s.count - half }, (_, i) => `msg-${half + i}`));
    await consumer.connectToNsqd(s.tcpAddress);
    const received: string[] = [];
    let stats: ScenarioResult["stats"];
    for await (const m of consumer.messages()) {
      received.push(m.text());
      if (received.length === (s.take ?? s.count)) {
        m.finish();
        stats = await nsqdClients(s);
        break;
      }
    }
    return { runtime, received, producer: producer.connectionInfo(), consumer: consumer.connections(), stats };
  } catch (err) {
    const e = err as Error;
    const code = e instanceof NegotiationError || e instanceof PublishError ? e.code : null;
    return { runtime, error: { name: e.name, code, message: e.message } };
  } finally {
    await producer.stop().catch(() => {});
    await consumer.stop(3000);
  }
}

if (import.meta.main || process.argv[1]?.endsWith(".mjs")) {
  const result = await run(JSON.parse(process.argv[2]!) as Scenario);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
