#!/usr/bin/env bun
/**
 * The long reliability run (the test suite runs bounded versions of each part):
 *   1. protocol + HTTP fuzzing of one nsqd process (default 1,000,000 frames)
 *   2. 10,000 simultaneous connections
 *   3. kill -9 at random moments under acknowledged publishing (--sync-every=1)
 *   4. nsqlookupd (V1 TCP and HTTP) and nsqadmin (HTTP) as processes under malformed and
 *      abandoned requests (default 3,000 HTTP requests each), then same pid, /ping, state
 *   5. kill -9 under live producers and consumers (PUB, DPUB, FIN / REQ / time-out mix),
 *      default 20 kills: acknowledged messages never finished
 * and prints frames sent, connections, crashes, memory before/after and messages lost.
 *
 *   bun run reliability [--frames=1000000] [--kills=30] [--daemon-requests=3000] [--chaos-kills=20] [--seed=N]
 */
import { RawClient } from "../test/helpers/raw-client.ts";
import { removeDir, spawnNsqd, tempDataDir } from "../test/helpers/process.ts";
import { openIdleConnections } from "../test/hardening/connections.ts";
import { rssOf, runFuzz } from "../test/hardening/fuzz-run.ts";
import { mulberry32 } from "../test/hardening/fuzzer.ts";
import { startDaemonCluster } from "../test/helpers/daemons.ts";
import { formatReport, fuzzDaemons, seedState } from "../test/hardening/daemon-fuzz.ts";
import { formatKillChaos, runKillChaos } from "../test/hardening/kill-chaos.ts";

const arg = (name: string, dflt: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt);
const frames = arg("frames", 1_000_000);
const kills = arg("kills", 30);
const seed = arg("seed", Date.now() % 1_000_000);
const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
let crashes = 0;

console.log(`seed ${seed}`);

// 1. fuzzing
{
  const n = await spawnNsqd(["--log-level=fatal", "--max-body-size=65536"]);
  const before = await rssOf(n.proc.pid);
  const t0 = performance.now();
  const r = await runFuzz({
    tcpPort: n.port,
    httpPort: n.httpPort,
    seed,
    frames,
    connections: 50,
    httpRequests: Math.ceil(frames / 500),
    maxBodySize: 65536,
    cleanMessages: 1000,
  });
  const alive = n.proc.exitCode === null && (await fetch(`http://127.0.0.1:${n.httpPort}/ping`).then((x) => x.text())) === "OK";
  if (!alive) crashes++;
  const after = await rssOf(n.proc.pid);
  console.log(
    `fuzz: ${r.framesSent} frames, ${r.connectionsOpened} connections, ${r.httpRequestsSent} HTTP requests in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
      `alive: ${alive}; clean messages delivered: ${r.cleanDelivered}/1000; RSS ${mib(before)} -> ${mib(after)}`,
  );
  n.proc.kill("SIGKILL");
  await n.proc.exited;
  removeDir(n.dataPath);
}

// 2. many connections
{
  const n = await spawnNsqd(["--log-level=warn"]);
  const before = await rssOf(n.proc.pid);
  const conns = await openIdleConnections(n.port, 10_000);
  const deadline = Date.now() + 20_000;
  while (conns.answered < 10_000 && Date.now() < deadline) await Bun.sleep(50);
  const after = await rssOf(n.proc.pid);
  const open = conns.sockets.filter((s) => s.readyState === 1).length;
  console.log(
    `connections: ${open} of 10000 held, ${conns.answered} IDENTIFYs answered; ` +
      `RSS ${mib(before)} -> ${mib(after)} (~${((after - before) / 10_000 / 1024).toFixed(1)} KiB each)`,
  );
  for (const s of conns.sockets) s.terminate();
  if (n.proc.exitCode !== null) crashes++;
  n.proc.kill("SIGKILL");
  await n.proc.exited;
  removeDir(n.dataPath);
}

// 3. kill -9 under acknowledged publishing
{
  const random = mulberry32(seed);
  const dir = tempDataDir();
  const args = ["--log-level=warn", "--mem-queue-size=0", "--sync-every=1"];
  const acked = new Set<string>();
  for (let k = 0; k < kills; k++) {
    const n = await spawnNsqd(args, dir);
    let stopping = false;
    const workers = Array.from({ length: 4 }, async (_, p) => {
      const c = await RawClient.connect(n.port);
      for (let i = 0; !stopping; i++) {
        const body = `k${k}-p${p}-${i}`;
        c.pub("reliability", body);
        try {
          if ((await c.response(2000)) === "OK") acked.add(body);
        } catch {
          return;
        }
      }
    });
    await Bun.sleep(30 + random() * 300);
    n.proc.kill("SIGKILL");
    await n.proc.exited;
    stopping = true;
    await Promise.all(workers);
  }
  const n = await spawnNsqd(args, dir);
  const c = await RawClient.connect(n.port);
  await c.subscribe("reliability", "check", 2500);
  const missing = new Set(acked);
  while (missing.size > 0) {
    const m = await c.message(5000).catch(() => null);
    if (m === null) break;
    missing.delete(new TextDecoder().decode(m.body));
    c.fin(m.id);
  }
  console.log(`kill -9: ${kills} kills, ${acked.size} acknowledged, ${missing.size} lost`);
  c.close();
  n.proc.kill("SIGTERM");
  await n.proc.exited;
  removeDir(dir);
}

// 4. nsqlookupd and nsqadmin
{
  const requests = arg("daemon-requests", 3000);
  const c = await startDaemonCluster();
  await seedState(c);
  const r = await fuzzDaemons(c, { seed, httpRequests: requests, v1Frames: requests * 20, v1Connections: 20, concurrency: 16 });
  for (const line of formatReport(r)) console.log(`daemons: ${line}`);
  crashes += r.checks.filter((ch) => !ch.samePid || !ch.ping || !ch.state || ch.bugs.length > 0).length;
  await c.stop();
}

// 5. kill -9 under live producers and consumers
let lost = 0;
{
  const r = await runKillChaos({ kills: arg("chaos-kills", 20), seed });
  console.log(`kill -9 chaos: ${formatKillChaos(r)}`);
  lost = r.lost.length;
}

console.log(`crashes: ${crashes}`);
process.exit(crashes === 0 && lost === 0 ? 0 : 1);
