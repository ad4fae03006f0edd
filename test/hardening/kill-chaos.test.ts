/**
 * The bounded version of `bun run reliability`'s kill -9 chaos phase: real nsqd
 * processes killed with SIGKILL under PUB, DPUB, FIN, REQ and time-outs; every
 * acknowledged message must be finished in the end.
 */
import { expect, test } from "bun:test";
import { formatKillChaos, runKillChaos } from "./kill-chaos.ts";

test("no acknowledged message is lost across kill -9 under a FIN / REQ / time-out / DPUB mix", async () => {
  const seed = Number(process.env.BUNSQ_TEST_SEED ?? Date.now() % 100000);
  const r = await runKillChaos({ kills: 6, seed, maxRunMs: 500 });
  console.log(`kill -9 chaos (seed ${seed}): ${formatKillChaos(r)}`);
  expect(r.kills).toBe(6);
  expect(r.acked).toBeGreaterThan(50);
  expect(r.requeues + r.leftToTimeOut).toBeGreaterThan(0);
  expect(r.lost).toEqual([]);
}, 60_000);
