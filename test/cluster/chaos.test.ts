/**
 * The cluster under load, broken on purpose (see chaos.ts): the short version.
 * `bun run cluster-test` runs a longer one and prints its figures.
 */
import { expect, test } from "bun:test";
import { runChaos } from "./chaos.ts";

test("a loaded cluster survives kill -9 of an nsqd, a lookupd restart, a tombstone and a channel deletion", async () => {
  const log: string[] = [];
  const f = await runChaos({
    phaseMs: 1500,
    kills: 1,
    batch: 5,
    pauseMs: 20,
    maxInFlight: 20,
    convergeTimeoutMs: 15_000,
    log: (line) => log.push(line),
  });
  if (process.env.BUNSQ_TEST_LOG) console.log(log.join("\n"), JSON.stringify(f, null, 2));
  expect(f.acked).toBeGreaterThan(500);
  for (const channel of [f.work, f.js]) {
    // the two other nsqds kept delivering while one was down
    for (const n of channel.receivedWhileDown) expect(n).toBeGreaterThan(0);
    // and no step stopped the flow for long (generous: the machine is shared)
    expect(channel.maxGapMs).toBeLessThan(5000);
    // nothing acknowledged is lost, in flight at the kill included
    expect(channel.lost).toEqual([]);
    expect(channel.distinct).toBeGreaterThanOrEqual(f.acked);
  }
  // every step converged (runChaos throws otherwise), in order
  expect(f.converge.map((c) => c.step)).toEqual([
    "start",
    "consumers connected to every nsqd",
    "kill -9 nsqd 1",
    "restart nsqd 1",
    "restart nsqlookupd 0",
    "tombstone side on nsqd 2",
    "delete channel doomed",
    "drain",
  ]);
}, 90_000);
