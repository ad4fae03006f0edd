/**
 * AUTH against a small auth HTTP server started by the test: IDENTIFY's
 * auth_required, the AUTH response, E_AUTH_FIRST / E_UNAUTHORIZED / E_AUTH_FAILED,
 * expiry and re-checking, commands pipelined behind AUTH, nsqjs with authSecret,
 * the common name of a TLS client certificate, and the POST method.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { makeCerts, nsqjsRoundTrip, pem, serverClient, type Certs } from "../helpers/features.ts";
import { startTestNsqd, until } from "../helpers/nsqd.ts";
import { RawClient, concatBytes, mpubBody, sizePrefixed } from "../helpers/raw-client.ts";

interface Grant {
  status?: number;
  body: unknown;
}

/** secret -> what the auth server answers; every request is recorded. */
const grants = new Map<string, Grant>();
const requests: { method: string; params: Record<string, string> }[] = [];
let authServer: Server<undefined>;
let certs: Certs;

const everything = (ttl = 3600) => ({
  ttl,
  identity: "alice",
  identity_url: "https://example.test/alice",
  authorizations: [
    { topic: "^allowed", channels: [".*"], permissions: ["subscribe", "publish"] },
    { topic: "^readonly$", channels: ["^ch$"], permissions: ["subscribe"] },
  ],
});

beforeAll(() => {
  certs = makeCerts();
  authServer = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname !== "/auth") return new Response("not found", { status: 404 });
      const params =
        req.method === "POST"
          ? Object.fromEntries(new URLSearchParams(await req.text()))
          : Object.fromEntries(url.searchParams);
      requests.push({ method: req.method, params });
      const grant = grants.get(params.secret ?? "") ?? { status: 403, body: { message: "unknown secret" } };
      return Response.json(grant.body, { status: grant.status ?? 200 });
    },
  });
});
afterAll(() => {
  authServer.stop(true);
  certs.remove();
});

let server: NsqdDaemon | null = null;
const clients: RawClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  server?.stop();
  server = null;
  grants.clear();
  requests.length = 0;
});

function start(overrides: Record<string, unknown> = {}): NsqdDaemon {
  server = startTestNsqd({ authHttpAddresses: [`127.0.0.1:${authServer.port}`], ...overrides });
  return server;
}

async function connect(s: NsqdDaemon): Promise<RawClient> {
  const c = await RawClient.connect(s.tcpPort);
  clients.push(c);
  c.identify({ feature_negotiation: true, client_id: `c${clients.length}` });
  const identify = JSON.parse(await c.response());
  expect(identify.auth_required).toBe(true);
  return c;
}

function auth(c: RawClient, secret: string): void {
  c.write(concatBytes("AUTH\n", sizePrefixed(secret)));
}

describe("AUTH", () => {
  test("AUTH answers identity, identity_url and permission_count; the server got nsqd's query", async () => {
    const s = start();
    grants.set("s3cret", { body: everything() });
    const c = await connect(s);
    auth(c, "s3cret");
    expect(JSON.parse(await c.response())).toEqual({
      identity: "alice",
      identity_url: "https://example.test/alice",
      permission_count: 2,
    });
    expect(requests).toEqual([
      { method: "GET", params: { remote_ip: "127.0.0.1", tls: "false", secret: "s3cret", common_name: "" } },
    ]);
    auth(c, "s3cret");
    expect(await c.error()).toBe("E_INVALID AUTH already set");
  });

  test("commands before AUTH are E_AUTH_FIRST", async () => {
    const s = start();
    const c = await connect(s);
    c.pub("allowed_t", "x");
    expect(await c.error()).toBe("E_AUTH_FIRST AUTH required before PUB");
    await c.waitClosed();
    const d = await connect(s);
    d.sub("allowed_t", "ch");
    expect(await d.error()).toBe("E_AUTH_FIRST AUTH required before SUB");
  });

  test("PUB / MPUB / DPUB / SUB outside the authorizations are E_UNAUTHORIZED", async () => {
    const s = start();
    grants.set("k", { body: everything() });
    const cases: [(c: RawClient) => void, string][] = [
      [(c) => c.pub("other", "x"), 'E_UNAUTHORIZED AUTH failed for PUB on "other" ""'],
      [(c) => c.mpub("other", ["a", "b"]), 'E_UNAUTHORIZED AUTH failed for MPUB on "other" ""'],
      [(c) => c.dpub("other", 10, "x"), 'E_UNAUTHORIZED AUTH failed for DPUB on "other" ""'],
      [(c) => c.pub("readonly", "x"), 'E_UNAUTHORIZED AUTH failed for PUB on "readonly" ""'],
      [(c) => c.sub("readonly", "other"), 'E_UNAUTHORIZED AUTH failed for SUB on "readonly" "other"'],
    ];
    for (const [command, error] of cases) {
      const c = await connect(s);
      auth(c, "k");
      await c.response();
      command(c);
      expect(await c.error()).toBe(error);
      await c.waitClosed();
    }
    const ok = await connect(s);
    auth(ok, "k");
    await ok.response();
    await ok.publish("allowed_one", "x");
    ok.mpub("allowed_one", ["a", "b"]);
    expect(await ok.response()).toBe("OK");
    const sub = await connect(s);
    auth(sub, "k");
    await sub.response();
    await sub.subscribe("readonly", "ch", 10);
  });

  test("an unknown secret, no authorizations and an unreachable server", async () => {
    const s = start({ authHttpAddresses: [`127.0.0.1:${authServer.port}`] });
    grants.set("empty", { body: { ttl: 60, authorizations: [] } });
    const a = await connect(s);
    auth(a, "nobody");
    expect(await a.error()).toBe("E_AUTH_FAILED AUTH failed");
    const b = await connect(s);
    auth(b, "empty");
    expect(await b.error()).toBe("E_UNAUTHORIZED AUTH no authorizations found");
    server!.stop();
    const unused = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const deadPort = unused.port;
    unused.stop(true);
    const t = start({ authHttpAddresses: [`127.0.0.1:${deadPort}`] });
    const c = await connect(t);
    auth(c, "anything");
    expect(await c.error()).toBe("E_AUTH_FAILED AUTH failed");
  });

  test("commands sent right behind AUTH wait for its answer, in order", async () => {
    const s = start();
    grants.set("k", { body: everything() });
    const c = await connect(s);
    c.write(concatBytes("AUTH\n", sizePrefixed("k"), "PUB allowed_p\n", sizePrefixed("1"), "MPUB allowed_p\n", sizePrefixed(mpubBody(["2", "3"]))));
    expect(JSON.parse(await c.response()).identity).toBe("alice");
    expect(await c.response()).toBe("OK");
    expect(await c.response()).toBe("OK");
    expect(s.nsqd.getExistingTopic("allowed_p")?.messageCount).toBe(3);
  });

  test("expired authorizations are fetched again before the next command", async () => {
    const s = start();
    grants.set("short", { body: everything(1) });
    const c = await connect(s);
    auth(c, "short");
    await c.response();
    await c.publish("allowed_x", "before expiry");
    expect(requests.length).toBe(1);
    const side = serverClient(s, "c1")!;
    // the auth server now revokes everything but the "^allowed" publish on a new TTL
    grants.set("short", {
      body: { ttl: 60, authorizations: [{ topic: "^allowed_y$", channels: [".*"], permissions: ["publish"] }] },
    });
    await until(() => side.auth!.isExpired(), "the 1 s TTL to pass", 2500);
    c.pub("allowed_y", "after expiry");
    expect(await c.response()).toBe("OK");
    expect(requests.length).toBe(2);
    c.pub("allowed_x", "now refused");
    expect(await c.error()).toBe('E_UNAUTHORIZED AUTH failed for PUB on "allowed_x" ""');
    expect(requests.length).toBe(2);
  });

  test("--auth-http-request-method=post sends the same fields as a form", async () => {
    const s = start({ authHttpRequestMethod: "post" });
    grants.set("p", { body: everything() });
    const c = await connect(s);
    auth(c, "p");
    await c.response();
    expect(requests).toEqual([
      { method: "POST", params: { remote_ip: "127.0.0.1", tls: "false", secret: "p", common_name: "" } },
    ]);
  });

  test("HTTP publish is not subject to AUTH (nsqd's HTTP API is not)", async () => {
    const s = start();
    const res = await fetch(`http://127.0.0.1:${s.httpPort}/pub?topic=http_topic`, { method: "POST", body: "x" });
    expect(res.status).toBe(200);
  });
});

describe("AUTH with nsqjs and TLS", () => {
  test("nsqjs Writer and Reader with authSecret publish and consume", async () => {
    const s = start();
    grants.set("js", { body: everything() });
    const { received } = await nsqjsRoundTrip(s, "allowed_js", { authSecret: "js" }, 30);
    expect(received.length).toBe(30);
    expect(requests.length).toBe(2);
  });

  test("over TLS with a client certificate the auth server gets tls=true and its common name", async () => {
    const s = start({
      tlsCert: certs.serverCert,
      tlsKey: certs.serverKey,
      tlsClientAuthPolicy: "require-verify",
      tlsRootCaFile: certs.caCert,
      httpsAddress: "127.0.0.1:0",
    });
    grants.set("tls", { body: everything() });
    const options = { authSecret: "tls", tls: true, ca: pem(certs.caCert), cert: pem(certs.clientCert), key: pem(certs.clientKey) };
    const { received } = await nsqjsRoundTrip(s, "allowed_tls", options, 10);
    expect(received.length).toBe(10);
    expect(requests.map((r) => [r.params.tls, r.params.common_name])).toEqual([
      ["true", "client-one"],
      ["true", "client-one"],
    ]);
  });
});
