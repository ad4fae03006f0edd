/**
 * kill -9 under live traffic of every kind: producers PUB and DPUB (deferred
 * 0-1.5 s) with --sync-every=1 and --mem-queue-size=0; a consumer FINs half of
 * what it gets, REQs a quarter with a 0-1 s delay and leaves a quarter to time
 * out (--msg-timeout=2s). nsqd is killed at random moments, restarted on the same
 * data, and at the end everything is drained. Counts the acknowledged messages
 * that were never finished: with every state on disk there must be none.
 */
import { RawClient } from "../helpers/raw-client.ts";
import { removeDir, spawnNsqd, tempDataDir, type NsqdProcess } from "../helpers/process.ts";
import { mulberry32 } from "./fuzzer.ts";

export interface KillChaosOptions {
  kills: number;
  seed: number;
  /** How long traffic runs between two kills, at most (ms). */
  maxRunMs?: number;
}

export interface KillChaosResult {
  kills: number;
  acked: number;
  /** Acknowledged messages the consumer never finished (must be 0). */
  lost: string[];
  deliveries: number;
  finishes: number;
  requeues: number;
  leftToTimeOut: number;
  /** Deliveries of a message already finished (at-least-once: allowed). */
  duplicates: number;
}

const ARGS = ["--log-level=warn", "--mem-queue-size=0", "--sync-every=1", "--msg-timeout=2s", "--max-bytes-per-file=262144"];
const decoder = new TextDecoder();

export async function runKillChaos(opts: KillChaosOptions): Promise<KillChaosResult> {
  const random = mulberry32(opts.seed);
  const dir = tempDataDir();
  const acked = new Set<string>();
  const finished = new Set<string>();
  const result: KillChaosResult = {
    kills: 0,
    acked: 0,
    lost: [],
    deliveries: 0,
    finishes: 0,
    requeues: 0,
    leftToTimeOut: 0,
    duplicates: 0,
  };
  const consume = (c: RawClient, stop: () => boolean, choose: () => number) =>
    (async () => {
      while (!stop()) {
        const m = await c.message(500).catch((err: Error) => (err.message.includes("timed out") ? undefined : null));
        if (m === null) return; // connection gone
        if (m === undefined) continue;
        const body = decoder.decode(m.body);
        result.deliveries++;
        if (finished.has(body)) result.duplicates++;
        const roll = choose();
        try {
          if (roll < 0.5) {
            c.fin(m.id);
            finished.add(body);
            result.finishes++;
          } else if (roll < 0.75) {
            c.req(m.id, Math.floor(random() * 1000));
            result.requeues++;
          } else {
            result.leftToTimeOut++;
          }
        } catch {
          return;
        }
      }
    })();

  try {
    for (let k = 0; k < opts.kills; k++) {
      const n = await spawnNsqd(ARGS, dir);
      let stopping = false;
      const stop = () => stopping;
      const producers = Array.from({ length: 2 }, async (_, p) => {
        const c = await RawClient.connect(n.port);
        for (let i = 0; !stopping; i++) {
          const body = `k${k}-p${p}-${i}`;
          const defer = random() < 0.3 ? Math.floor(random() * 1500) : 0;
          try {
            if (defer > 0) c.dpub("chaos", defer, body);
            else c.pub("chaos", body);
            if ((await c.response(2000)) === "OK") acked.add(body);
          } catch {
            return; // killed: this one was not acknowledged
          }
        }
      });
      const consumer = await RawClient.connect(n.port);
      await consumer.subscribe("chaos", "ch", 50);
      const consuming = consume(consumer, stop, random);
      await Bun.sleep(100 + random() * ((opts.maxRunMs ?? 800) - 100));
      await kill(n);
      result.kills++;
      stopping = true;
      await Promise.all([...producers, consuming]);
      consumer.close();
    }

    // drain: finish everything, until every acknowledged message was finished or nothing came for 4 s
    const n = await spawnNsqd(ARGS, dir);
    const c = await RawClient.connect(n.port);
    await c.subscribe("chaos", "ch", 500);
    let idleSince = Date.now();
    while ([...acked].some((b) => !finished.has(b)) && Date.now() - idleSince < 4000) {
      const m = await c.message(500).catch(() => null);
      if (m === null) continue;
      idleSince = Date.now();
      const body = decoder.decode(m.body);
      result.deliveries++;
      if (finished.has(body)) result.duplicates++;
      c.fin(m.id);
      finished.add(body);
      result.finishes++;
    }
    c.close();
    await kill(n);
  } finally {
    removeDir(dir);
  }
  result.acked = acked.size;
  result.lost = [...acked].filter((b) => !finished.has(b));
  return result;
}

async function kill(n: NsqdProcess): Promise<void> {
  n.proc.kill("SIGKILL");
  await n.proc.exited;
}

export function formatKillChaos(r: KillChaosResult): string {
  return (
    `${r.kills} kills, ${r.acked} acknowledged (PUB and DPUB), ${r.deliveries} deliveries: ${r.finishes} FIN, ` +
    `${r.requeues} REQ, ${r.leftToTimeOut} left to time out, ${r.duplicates} duplicates; ` +
    `acknowledged never finished: ${r.lost.length}`
  );
}
