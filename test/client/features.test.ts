/**
 * The client's negotiated features against bunsq's nsqd, on Bun and on Node:
 * TLS (CA, client certificate, server-name check, --tls-required), snappy and
 * deflate alone and over TLS, AUTH through an auth server this test runs (granted
 * and refused), and the remaining IDENTIFY settings. Each case runs
 * feature-scenario.ts as a child process (on Node: bundled for Node first), which
 * publishes and consumes 40 messages and reports what the client negotiated and
 * what nsqd's /stats said about its connections.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { makeCerts, startAuthServer, type Certs, type TestAuthServer } from "../helpers/features.ts";
import { perTestCleanups } from "../helpers/nsqd.ts";
import type { Scenario, ScenarioResult } from "./feature-scenario.ts";
import { uniqueTopic } from "./helpers.ts";

const ROOT = join(import.meta.dir, "..", "..");
const SCRIPT = join(import.meta.dir, "feature-scenario.ts");
const NODE = Bun.which("node");
const COUNT = 40;

let certs: Certs;
let buildDir: string;
let authServer: TestAuthServer;
/** secret -> the auth server's answer (status 403 for unknown secrets). */
const grants: Record<string, unknown> = {
  s3cret: {
    ttl: 3600,
    identity: "alice",
    identity_url: "https://example.test/alice",
    authorizations: [{ topic: "^auth_", channels: [".*"], permissions: ["subscribe", "publish"] }],
  },
};

beforeAll(async () => {
  certs = makeCerts();
  buildDir = mkdtempSync(join(tmpdir(), "bunsq-client-features-"));
  authServer = startAuthServer(grants);
  if (NODE !== null) {
    const build = Bun.spawnSync(
      // an output folder, not a file: the native snappy addons are copied beside the bundle
      [process.execPath, "build", SCRIPT, "--target=node", "--format=esm", `--outdir=${buildDir}`],
      { cwd: ROOT, stderr: "pipe", stdout: "pipe" },
    );
    if (build.exitCode !== 0) throw new Error(`bundling for node failed: ${build.stderr.toString()}`);
  }
});
afterAll(() => {
  authServer.stop();
  certs.remove();
  rmSync(buildDir, { recursive: true, force: true });
});

const t = perTestCleanups();

function nsqd(overrides: Record<string, unknown> = {}): NsqdDaemon {
  return t.nsqd({ tlsCert: certs.serverCert, tlsKey: certs.serverKey, ...overrides });
}

async function scenario(
  runtime: "bun" | "node",
  s: NsqdDaemon,
  config: Record<string, unknown>,
  topic = uniqueTopic("f"),
  take = COUNT,
) {
  const input: Scenario = {
    take,
    tcpAddress: `127.0.0.1:${s.tcpPort}`,
    httpAddress: `127.0.0.1:${s.httpPort}`,
    topic,
    count: COUNT,
    config: { dialTimeout: 5000, ...config },
  };
  const cmd = runtime === "bun" ? [process.execPath, SCRIPT] : [NODE!, join(buildDir, "feature-scenario.js")];
  const proc = Bun.spawn([...cmd, JSON.stringify(input)], { cwd: ROOT, stdout: "pipe", stderr: "pipe", timeout: 20_000 });
  t.defer(() => proc.kill());
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${runtime} scenario exited with ${code}:\n${stderr}`);
  const result = JSON.parse(stdout) as ScenarioResult;
  expect(result.runtime).toBe(runtime);
  return result;
}

const expected = Array.from({ length: COUNT }, (_, i) => `msg-${i}`).sort();

function delivered(r: ScenarioResult): void {
  if (r.error) throw new Error(`scenario failed: ${r.error.message}`);
  expect([...r.received!].sort()).toEqual(expected);
}

const runtimes = NODE === null ? (["bun"] as const) : (["bun", "node"] as const);

describe.each(runtimes)("on %s", (runtime) => {
  const ca = () => ({ tlsV1: true, tlsRootCaFile: certs.caCert });

  test("TLS: the connection is upgraded and nsqd's certificate is checked against the CA", async () => {
    const r = await scenario(runtime, nsqd(), ca());
    delivered(r);
    expect(r.producer).toMatchObject({ tls: true, compression: "" });
    expect(r.consumer).toMatchObject([{ tls: true, compression: "" }]);
    expect(r.stats!.p).toMatchObject({ tls: true, tls_version: "TLS1.3", snappy: false, deflate: false });
    expect(r.stats!.c).toMatchObject({ tls: true, tls_version: "TLS1.3" });
  }, 30_000);

  test("TLS + snappy", async () => {
    const r = await scenario(runtime, nsqd(), { ...ca(), snappy: true });
    delivered(r);
    expect(r.consumer).toMatchObject([{ tls: true, compression: "snappy" }]);
    expect(r.stats!.c).toMatchObject({ tls: true, snappy: true, deflate: false });
    expect(r.stats!.p).toMatchObject({ tls: true, snappy: true });
  }, 30_000);

  test("TLS + deflate (level 3)", async () => {
    const r = await scenario(runtime, nsqd(), { ...ca(), deflate: true, deflateLevel: 3 });
    delivered(r);
    expect(r.consumer).toMatchObject([{ tls: true, compression: "deflate", serverSettings: { deflate: true, deflate_level: 3 } }]);
    expect(r.stats!.c).toMatchObject({ tls: true, deflate: true, snappy: false });
  }, 30_000);

  test("snappy and deflate without TLS", async () => {
    const s = nsqd();
    const snappy = await scenario(runtime, s, { snappy: true });
    delivered(snappy);
    expect(snappy.stats!.c).toMatchObject({ tls: false, snappy: true });
    const deflate = await scenario(runtime, s, { deflate: true });
    delivered(deflate);
    expect(deflate.stats!.p).toMatchObject({ tls: false, deflate: true });
  }, 30_000);

  test("--tls-required with a verified client certificate; without TLS nsqd refuses", async () => {
    const s = nsqd({ tlsRequired: "true", tlsClientAuthPolicy: "require-verify", tlsRootCaFile: certs.caCert });
    const r = await scenario(runtime, s, { ...ca(), tlsCert: certs.clientCert, tlsKey: certs.clientKey });
    delivered(r);
    // (nsqd's plain HTTP /stats is refused under --tls-required=true, so the client's side is checked)
    expect(r.consumer).toMatchObject([{ tls: true, serverSettings: { tls_v1: true } }]);
    const plain = await scenario(runtime, s, {});
    expect(plain.error).toMatchObject({ name: "PublishError", code: "E_INVALID" });
    // a certificate the CA did not sign fails the handshake
    const rogue = await scenario(runtime, s, { ...ca(), tlsCert: certs.rogueCert, tlsKey: certs.rogueKey });
    expect(rogue.error).toBeDefined();
    expect(rogue.received).toBeUndefined();
  }, 30_000);

  test("server-name check: a wrong name or an unknown CA fails, tlsInsecureSkipVerify accepts", async () => {
    const s = nsqd();
    const wrongName = await scenario(runtime, s, { ...ca(), tlsServerName: "wrong.example" });
    expect(wrongName.error?.message).toMatch(/wrong\.example|altnames|hostname|certificate/i);
    const right = await scenario(runtime, s, { ...ca(), tlsServerName: "localhost" });
    delivered(right);
    const unknownCa = await scenario(runtime, s, { tlsV1: true });
    expect(unknownCa.error?.message).toMatch(/certificate|self.signed|issuer/i);
    const insecure = await scenario(runtime, s, { tlsV1: true, tlsInsecureSkipVerify: true });
    delivered(insecure);
  }, 30_000);

  test("AUTH: the identity nsqd reports is exposed; TLS + snappy + AUTH together", async () => {
    const s = nsqd({ authHttpAddresses: [authServer.address] });
    const r = await scenario(runtime, s, { authSecret: "s3cret" }, uniqueTopic("auth"));
    delivered(r);
    const auth = { identity: "alice", identity_url: "https://example.test/alice", permission_count: 1 };
    expect(r.producer).toMatchObject({ auth, serverSettings: { auth_required: true } });
    expect(r.consumer).toMatchObject([{ auth }]);
    const all = await scenario(runtime, s, { ...ca(), snappy: true, authSecret: "s3cret" }, uniqueTopic("auth"));
    delivered(all);
    expect(all.consumer).toMatchObject([{ tls: true, compression: "snappy", auth }]);
  }, 30_000);

  test("AUTH refused: a wrong secret, no secret, and a topic outside the grant", async () => {
    const s = nsqd({ authHttpAddresses: [authServer.address] });
    const wrong = await scenario(runtime, s, { authSecret: "nope" }, uniqueTopic("auth"));
    expect(wrong.error).toMatchObject({ name: "NegotiationError", code: "E_AUTH_FAILED" });
    const none = await scenario(runtime, s, {}, uniqueTopic("auth"));
    expect(none.error).toMatchObject({ name: "NegotiationError", code: "E_AUTH_REQUIRED" });
    const outside = await scenario(runtime, s, { authSecret: "s3cret" }, uniqueTopic("other"));
    expect(outside.error).toMatchObject({ name: "PublishError", code: "E_UNAUTHORIZED" });
  }, 30_000);

  test("IDENTIFY settings as nsqd applied them: sample_rate, output buffering, msg_timeout, user_agent", async () => {
    const s = nsqd();
    const r = await scenario(runtime, s, {
      sampleRate: 0,
      outputBufferSize: 4096,
      outputBufferTimeout: 100,
      heartbeatInterval: 5000,
      msgTimeout: 45_000,
      userAgent: "feature-test/1.0",
    });
    delivered(r);
    expect(r.consumer).toMatchObject([
      { serverSettings: { output_buffer_size: 4096, output_buffer_timeout: 100, msg_timeout: 45_000, sample_rate: 0 } },
    ]);
    expect(r.stats!.c).toMatchObject({ user_agent: "feature-test/1.0", sample_rate: 0 });
    // with 50% sampling the loop stops after the first message (none arriving has odds of 2^-40)
    const sampled = await scenario(runtime, s, { sampleRate: 50 }, uniqueTopic("f"), 1);
    expect(sampled.error).toBeUndefined();
    expect(sampled.consumer).toMatchObject([{ serverSettings: { sample_rate: 50 } }]);
    expect(sampled.stats!.c).toMatchObject({ sample_rate: 50 });
  }, 30_000);
});
