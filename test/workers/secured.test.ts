/**
 * `nsqd --workers=2` as real processes with the security flags: under
 * --tls-required (also with --tls-client-auth-policy) and under
 * --auth-http-address, a subscriber of the shared address gets the messages
 * published to both workers, so the relay links between the workers upgrade to
 * TLS and AUTH with the subscriber's secret; a certificate the links could not
 * present under require-verify is refused at start.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Consumer, Producer } from "../../src/client/index.ts";
import type { ConnectionConfig } from "../../src/client/config.ts";
import { makeCerts, startAuthServer, type Certs, type TestAuthServer } from "../helpers/features.ts";
import { NSQD_ENTRY, freePorts, removeDir, tempDataDir } from "../helpers/process.ts";
import { eventually } from "../helpers/lookupd.ts";
import { SpawnedWorkers } from "../helpers/workers.ts";

let certs: Certs;
/** Secrets and the topics they may subscribe to and publish on; every secret asked about is recorded. */
let authServer: TestAuthServer;
beforeAll(() => {
  certs = makeCerts();
  authServer = startAuthServer({
    "open-sesame": {
      ttl: 3600,
      identity: "alice",
      authorizations: [{ topic: "^guarded$", channels: [".*"], permissions: ["subscribe", "publish"] }],
    },
  });
});
afterAll(() => {
  authServer.stop();
  certs.remove();
});

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  authServer.asked.length = 0;
});

/** The shared --https-address of the last workers() with TLS (a free port: the default 4152 is fixed). */
let httpsPort = 0;

async function workers(args: string[]): Promise<SpawnedWorkers> {
  httpsPort = freePorts(1)[0];
  const w = await SpawnedWorkers.start(2, [`--https-address=127.0.0.1:${httpsPort}`, ...args]);
  cleanups.push(() => w.cleanup());
  return w;
}


/**
 * Subscribes on the shared address, publishes `perWorker` messages to each
 * worker's own port and checks that every one arrives once.
 */
async function receivesFromBoth(w: SpawnedWorkers, topic: string, config: Partial<ConnectionConfig>, perWorker = 50) {
  const counts = new Map<string, number>();
  const consumer = new Consumer(topic, "ch", {
    ...config,
    maxInFlight: 20,
    handler: (m) => {
      const body = m.body.toString();
      counts.set(body, (counts.get(body) ?? 0) + 1);
    },
  });
  cleanups.push(() => consumer.stop(2000));
  await consumer.connectToNsqd(`127.0.0.1:${w.tcpPort}`);
  const own = w.workers();
  expect(own.length).toBe(2);
  for (const x of own) {
    const p = new Producer(`127.0.0.1:${x.tcpPort}`, config);
    cleanups.push(() => p.stop());
    await p.connect();
    for (let i = 0; i < perWorker; i++) await p.publish(topic, `w${x.index}-${i}`);
  }
  await eventually(() => counts.size === perWorker * own.length, `${perWorker * own.length} messages`, 20_000).catch((err) => {
    throw new Error(`${err.message}\n${w.log()}`);
  });
  for (const x of own) for (let i = 0; i < perWorker; i++) expect(counts.get(`w${x.index}-${i}`)).toBe(1);
}

describe("nsqd --workers=2 with TLS and AUTH", () => {
  test("--tls-required: a TLS subscriber of the shared address gets both workers' messages", async () => {
    const w = await workers([`--tls-cert=${certs.serverCert}`, `--tls-key=${certs.serverKey}`, "--tls-required=true"]);
    await receivesFromBoth(w, "sealed", { tlsV1: true, tlsRootCaFile: certs.caCert });
    expect(w.log()).not.toContain("relay to worker");
    // the shared HTTPS address answers for both workers, as a single nsqd's --https-address does
    const r = await fetch(`https://127.0.0.1:${httpsPort}/stats?format=json&topic=sealed`, {
      tls: { ca: readFileSync(certs.caCert, "utf8") },
    });
    expect(r.status).toBe(200);
    const stats = (await r.json()) as { topics: { topic_name: string; message_count: number }[] };
    expect(stats.topics.find((t) => t.topic_name === "sealed")?.message_count).toBe(100);
  }, 60_000);

  test("--tls-client-auth-policy=require-verify: the links present the nsqd's certificate", async () => {
    // a certificate that may serve both ends, signed by the CA
    const w = await workers([
      `--tls-cert=${certs.clientCert}`,
      `--tls-key=${certs.clientKey}`,
      `--tls-root-ca-file=${certs.caCert}`,
      "--tls-client-auth-policy=require-verify",
    ]);
    await receivesFromBoth(w, "verified", {
      tlsV1: true,
      tlsInsecureSkipVerify: true,
      tlsCert: certs.clientCert,
      tlsKey: certs.clientKey,
    });
    expect(w.log()).not.toContain("relay to worker");
  }, 60_000);

  test("--tls-client-auth-policy=require-verify with a server-only certificate is refused at start", async () => {
    const dataPath = tempDataDir();
    cleanups.push(() => removeDir(dataPath));
    const [tcpPort, httpPort] = freePorts(2);
    const proc = Bun.spawn(
      [
        "bun",
        NSQD_ENTRY,
        "--workers=2",
        `--tcp-address=127.0.0.1:${tcpPort}`,
        `--http-address=127.0.0.1:${httpPort}`,
        `--data-path=${dataPath}`,
        `--tls-cert=${certs.serverCert}`,
        `--tls-key=${certs.serverKey}`,
        `--tls-root-ca-file=${certs.caCert}`,
        "--tls-client-auth-policy=require-verify",
      ],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    cleanups.push(() => proc.kill("SIGKILL"));
    expect(await proc.exited).not.toBe(0);
    const out = (await new Response(proc.stdout).text()) + (await new Response(proc.stderr).text());
    expect(out).toContain("needs a --tls-cert that may authenticate a client");
  }, 30_000);

  test("--auth-http-address: the links AUTH with the subscriber's secret", async () => {
    const w = await workers([`--auth-http-address=${authServer.address}`]);
    await receivesFromBoth(w, "guarded", { authSecret: "open-sesame" });
    // the subscriber, its link and the two producers: only the granted secret was ever asked about
    expect(authServer.asked.length).toBeGreaterThanOrEqual(4);
    expect(new Set(authServer.asked)).toEqual(new Set(["open-sesame"]));
    expect(w.log()).not.toContain("relay to worker");
  }, 60_000);
});
