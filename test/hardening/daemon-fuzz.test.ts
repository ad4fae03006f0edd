/**
 * Bounded fuzzing of nsqlookupd (V1 TCP and HTTP) and nsqadmin (HTTP) as real
 * processes logging at info level: a few hundred malformed and abandoned requests
 * each and thousands of hostile V1 frames, after which every daemon is the same
 * process, answers /ping, still serves the cluster's state, and logged no
 * JavaScript error that only a safety net caught.
 * Replay a run with BUNSQ_FUZZ_SEED=<seed>; scripts/reliability.ts runs the long version.
 */
import { afterAll, expect, test } from "bun:test";
import { startDaemonCluster, type DaemonCluster } from "../helpers/daemons.ts";
import { formatReport, fuzzDaemons, seedState } from "./daemon-fuzz.ts";

let cluster: DaemonCluster | null = null;
afterAll(async () => {
  await cluster?.stop();
});

test("nsqlookupd and nsqadmin survive malformed and abandoned requests", async () => {
  const seed = Number(process.env.BUNSQ_FUZZ_SEED ?? Date.now() % 1_000_000);
  cluster = await startDaemonCluster();
  await seedState(cluster);
  const report = await fuzzDaemons(cluster, { seed, httpRequests: 400, v1Frames: 5000, v1Connections: 10, concurrency: 8 });
  console.log(`daemon fuzz seed ${seed}:\n  ${formatReport(report).join("\n  ")}`);
  for (const d of [cluster.lookupd, cluster.admin, cluster.nsqd]) {
    if (!d.alive()) console.log(`${d.name} exited with ${d.proc.exitCode}:\n${d.logTail()}`);
  }
  expect(report.lookupdHttp.sent).toBeGreaterThanOrEqual(400);
  expect(report.adminHttp.sent).toBeGreaterThanOrEqual(400);
  expect(report.lookupdV1.framesSent).toBeGreaterThanOrEqual(5000);
  for (const ch of report.checks) {
    expect(ch).toEqual({ name: ch.name, pid: ch.pid, samePid: true, ping: true, state: true, bugs: [] });
  }
  // a request the daemon failed to handle would be a 500
  expect(report.lookupdHttp.internalErrors).toBe(0);
  expect(report.adminHttp.internalErrors).toBe(0);
}, 120_000);
