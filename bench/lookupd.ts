#!/usr/bin/env bun
/**
 * /lookup requests per second: nsqlookupd runs in its own process; `--producers`
 * fake nsqds each IDENTIFY and REGISTER `--topics` topics (with `--channels`
 * channels each) over V1, then `--concurrency` HTTP clients ask /lookup for random
 * topics for `--runfor` seconds. Every answer lists all the producers.
 *
 *   bun bench/lookupd.ts [--runfor=5] [--topics=1000] [--producers=50] [--channels=2] [--concurrency=32]
 */
import type { Socket } from "bun";
import { V1ResponseDecoder, encodeV1Command } from "../src/lookupd/v1-codec.ts";
import { freePort } from "../test/helpers/process.ts";

const args = new Map<string, string>();
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)=(.*)$/.exec(a);
  if (!m) throw new Error(`bad argument ${a} (use --name=value)`);
  args.set(m[1], m[2]);
}
const num = (name: string, dflt: number) => Number(args.get(name) ?? dflt);
const runfor = num("runfor", 5);
const topics = num("topics", 1000);
const producers = num("producers", 50);
const channels = num("channels", 2);
const concurrency = num("concurrency", 32);

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** A fake nsqd: registers every topic and channel and waits for all the OKs. */
async function register(tcpPort: number, index: number): Promise<Socket<undefined>> {
  let answers = 0;
  const decoder = new V1ResponseDecoder(() => answers++);
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port: tcpPort,
    socket: { data: (_s, chunk) => decoder.feed(chunk) },
  });
  const body = { broadcast_address: `10.0.${index >> 8}.${index & 255}`, hostname: `nsqd-${index}`, tcp_port: 4150, http_port: 4151, version: "1.3.0" };
  let out = "  V1";
  const lines: string[] = [];
  for (let t = 0; t < topics; t++) {
    lines.push(`REGISTER topic-${t}`);
    for (let c = 0; c < channels; c++) lines.push(`REGISTER topic-${t} channel-${c}`);
  }
  out += new TextDecoder().decode(encodeV1Command("IDENTIFY", JSON.stringify(body)));
  out += lines.join("\n") + "\n";
  socket.write(out);
  await waitFor(async () => answers === lines.length + 1, `producer ${index} to register`);
  return socket;
}

const tcpPort = freePort();
const httpPort = freePort();
const proc = Bun.spawn(
  [
    "bun",
    `${import.meta.dir}/../src/cli/nsqlookupd.ts`,
    `--tcp-address=127.0.0.1:${tcpPort}`,
    `--http-address=127.0.0.1:${httpPort}`,
    "--log-level=warn",
  ],
  { stdout: "inherit", stderr: "inherit" },
);
try {
  await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/ping`)).ok, "nsqlookupd");
  const started = performance.now();
  const sockets = [];
  for (let i = 0; i < producers; i++) sockets.push(await register(tcpPort, i));
  console.log(
    `registered ${producers} producers x ${topics} topics x ${channels} channels in ${(performance.now() - started).toFixed(0)}ms`,
  );

  const sample = (await (await fetch(`http://127.0.0.1:${httpPort}/lookup?topic=topic-0`)).json()) as {
    producers: unknown[];
  };
  if (sample.producers.length !== producers) throw new Error(`expected ${producers} producers, got ${sample.producers.length}`);

  let requests = 0;
  let failures = 0;
  const end = performance.now() + runfor * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const topic = `topic-${Math.floor(Math.random() * topics)}`;
      const res = await fetch(`http://127.0.0.1:${httpPort}/lookup?topic=${topic}`);
      await res.arrayBuffer();
      if (res.status === 200) requests++;
      else failures++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `/lookup: ${Math.round(requests / seconds)} req/s (${requests} in ${seconds.toFixed(2)}s, ${failures} failed, ` +
      `concurrency ${concurrency}, ${producers} producers per answer)`,
  );
  for (const s of sockets) s.end();
} finally {
  proc.kill("SIGTERM");
  await proc.exited;
}
