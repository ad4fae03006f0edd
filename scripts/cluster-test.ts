#!/usr/bin/env bun
/**
 * The long cluster run (test/cluster/chaos.test.ts runs a short one): a real
 * cluster on loopback (2 nsqlookupd, 3 durable nsqd, nsqadmin) under load from
 * bunsq's and nsqjs's producers, consumed by bunsq's Consumer and nsqjs's Reader
 * through the lookupds, while nsqds are killed -9 and restarted, a lookupd is
 * restarted, a topic is tombstoned on one node and a channel deleted through
 * nsqadmin. Prints messages published/acked/received/duplicates/lost and the
 * time the cluster took to converge after each step; exits 1 on any loss.
 *
 *   bun run cluster-test [--phase=5000] [--kills=3] [--batch=10] [--pause=5] [--max-in-flight=50]
 */
import { runChaos, type ChannelFigures } from "../test/cluster/chaos.ts";

const arg = (name: string, dflt: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt);

const f = await runChaos({
  phaseMs: arg("phase", 5000),
  kills: arg("kills", 3),
  batch: arg("batch", 10),
  pauseMs: arg("pause", 5),
  maxInFlight: arg("max-in-flight", 50),
  convergeTimeoutMs: 30_000,
  log: (line) => console.log(`  ${line}`),
});

const seconds = f.durationMs / 1000;
console.log(`\nran ${seconds.toFixed(1)} s`);
console.log(`published ${f.published}, acknowledged ${f.acked} (${Math.round(f.acked / seconds)}/s), failed ${f.failed}`);
const row = (name: string, c: ChannelFigures) =>
  console.log(
    `${name.padEnd(22)} received ${c.deliveries}, distinct ${c.distinct}, duplicates ${c.duplicates}, ` +
      `lost ${c.lost.length} (of which acked before a kill: ${c.lostBeforeKill.length}), ` +
      `received from the other nsqds while one was down: ${c.receivedWhileDown.join(", ")}, ` +
      `longest gap between deliveries ${c.maxGapMs} ms`,
  );
row("work (bunsq Consumer)", f.work);
row("js (nsqjs Reader)", f.js);
console.log("\nconvergence (lookupds, nsqadmin, consumers):");
for (const c of f.converge) console.log(`  ${c.step.padEnd(36)} ${String(c.ms).padStart(6)} ms`);

const lost = f.work.lost.length + f.js.lost.length;
if (lost > 0) {
  console.log(`\nLOST ${lost} acknowledged messages: work ${f.work.lost.slice(0, 10)} js ${f.js.lost.slice(0, 10)}`);
  process.exit(1);
}
