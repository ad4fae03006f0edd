#!/usr/bin/env bun
/**
 * HTTP publishing throughput: nsqd runs in its own process; `--concurrency` keep-alive
 * clients POST /pub (one message) or /mpub (`--batch-size` newline-separated messages)
 * of `--size` bytes back to back for `--runfor` seconds; prints requests and
 * messages per second for each of `--runs` runs and their median.
 *
 *   bun bench/http.ts [--route=pub|mpub|both] [--runfor=5] [--runs=3] [--size=200]
 *                     [--batch-size=200] [--concurrency=16] [--nsqd-arg=... ...]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../test/helpers/process.ts";

const args = new Map<string, string[]>();
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)=(.*)$/.exec(a);
  if (!m) throw new Error(`bad argument ${a} (use --name=value)`);
  args.set(m[1], [...(args.get(m[1]) ?? []), m[2]]);
}
const num = (name: string, dflt: number) => Number(args.get(name)?.[0] ?? dflt);
const route = args.get("route")?.[0] ?? "both";
const runfor = num("runfor", 5);
const runs = num("runs", 3);
const size = num("size", 200);
const batchSize = num("batch-size", 200);
const concurrency = num("concurrency", 16);
const nsqdArgs = args.get("nsqd-arg") ?? ["--mem-queue-size=100000000"];

async function startNsqd(httpPort: number, dataPath: string) {
  const proc = Bun.spawn(
    [
      "bun",
      `${import.meta.dir}/../src/cli/nsqd.ts`,
      `--tcp-address=127.0.0.1:${freePort()}`,
      `--http-address=127.0.0.1:${httpPort}`,
      `--data-path=${dataPath}`,
      "--log-level=warn",
      ...nsqdArgs,
    ],
    { stdout: "inherit", stderr: "inherit" },
  );
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${httpPort}/ping`)).ok) return proc;
    } catch {
      await Bun.sleep(25);
    }
  }
  proc.kill();
  throw new Error("nsqd did not start");
}

/** Requests completed by `concurrency` back-to-back loops in `runfor` seconds. */
async function run(url: string, body: Uint8Array): Promise<number> {
  const deadline = performance.now() + runfor * 1000;
  let done = 0;
  const loop = async () => {
    while (performance.now() < deadline) {
      const res = await fetch(url, { method: "POST", body });
      if (res.status !== 200) throw new Error(`${url} answered ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  return done / ((performance.now() - start) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const port = freePort();
const dataPath = mkdtempSync(join(tmpdir(), "bunsq-bench-http-"));
const nsqd = await startNsqd(port, dataPath);
try {
  const message = new Uint8Array(size).fill(0x61);
  const lines = new TextEncoder().encode(Array.from({ length: batchSize }, () => "a".repeat(size)).join("\n"));
  const routes: [string, Uint8Array, number][] = [];
  if (route !== "mpub") routes.push(["pub", message, 1]);
  if (route !== "pub") routes.push(["mpub", lines, batchSize]);
  console.log(`bun ${Bun.version}, ${navigator.hardwareConcurrency} cores, concurrency ${concurrency}, ${size}-byte messages`);
  for (const [name, body, perRequest] of routes) {
    const url = `http://127.0.0.1:${port}/${name}?topic=bench_http_${name}`;
    await run(url, body); // warm-up (JIT, connections)
    const rates: number[] = [];
    for (let i = 0; i < runs; i++) {
      const rps = await run(url, body);
      rates.push(rps);
      console.log(`/${name} run ${i + 1}: ${rps.toFixed(0)} req/s, ${(rps * perRequest).toFixed(0)} msgs/s`);
    }
    const m = median(rates);
    console.log(`/${name} median: ${m.toFixed(0)} req/s, ${(m * perRequest).toFixed(0)} msgs/s`);
  }
} finally {
  nsqd.kill();
  await nsqd.exited;
  rmSync(dataPath, { recursive: true, force: true });
}
