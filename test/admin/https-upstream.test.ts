/**
 * nsqadmin in front of an nsqd that requires TLS (--tls-required, client
 * certificates verified): the nsqd answers plain HTTP with 403 and its HTTPS
 * port, and nsqadmin repeats the call over HTTPS with --http-client-tls-*.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NSQAdmin } from "../../src/admin/nsqadmin.ts";
import { parseAdminOptions } from "../../src/admin/options.ts";
import { startNsqadmin } from "../../src/cli/nsqadmin.ts";
import { makeCerts, type Certs } from "../helpers/features.ts";
import { eventually, quietLogger, startTestLookupd } from "../helpers/lookupd.ts";
import { perTestCleanups } from "../helpers/nsqd.ts";

let certs: Certs;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.remove());

const { defer, nsqd } = perTestCleanups();

/** An nsqd that takes only HTTPS with a client certificate signed by the test CA, with one topic. */
async function tlsOnlyNsqd(overrides: Record<string, unknown> = {}) {
  const s = nsqd({
    tlsCert: certs.serverCert,
    tlsKey: certs.serverKey,
    tlsRootCaFile: certs.caCert,
    tlsClientAuthPolicy: "require-verify",
    tlsRequired: "true",
    httpsAddress: "127.0.0.1:0",
    broadcastAddress: "127.0.0.1",
    ...overrides,
  });
  s.nsqd.getTopic("secure_topic");
  const plain = await fetch(`http://127.0.0.1:${s.httpPort}/stats?format=json`);
  expect(plain.status).toBe(403);
  expect(await plain.json()).toEqual({ message: "TLS_REQUIRED", https_port: s.httpsPort });
  return s;
}

function admin(overrides: Record<string, unknown>): NSQAdmin {
  const a = startNsqadmin(parseAdminOptions({ httpAddress: "127.0.0.1:0", ...overrides }), quietLogger);
  defer(() => a.stop());
  return a;
}

async function topics(a: NSQAdmin): Promise<{ status: number; body: { topics?: string[]; message: string } }> {
  const res = await fetch(`http://127.0.0.1:${a.httpPort}/api/topics`);
  return { status: res.status, body: (await res.json()) as { topics?: string[]; message: string } };
}

const clientTls = () => ({
  httpClientTlsRootCaFile: certs.caCert,
  httpClientTlsCert: certs.clientCert,
  httpClientTlsKey: certs.clientKey,
});

test("--http-client-tls-*: nsqadmin follows a TLS_REQUIRED answer to HTTPS, with its client certificate", async () => {
  const s = await tlsOnlyNsqd();
  const a = admin({ nsqdHttpAddresses: [`127.0.0.1:${s.httpPort}`], ...clientTls() });
  expect(await topics(a)).toEqual({ status: 200, body: { topics: ["secure_topic"], message: "" } });
  const nodes = await fetch(`http://127.0.0.1:${a.httpPort}/api/nodes`);
  expect(nodes.status).toBe(200);
});

test("through an nsqlookupd: the nsqd's plain HTTP port it lists leads to HTTPS too", async () => {
  const lookupd = startTestLookupd();
  defer(() => lookupd.stop());
  const s = await tlsOnlyNsqd({ lookupdTcpAddresses: [`127.0.0.1:${lookupd.tcpPort}`] });
  const a = admin({ lookupdHttpAddresses: [`127.0.0.1:${lookupd.httpPort}`], ...clientTls() });
  const stats = await eventually(async () => {
    const res = await fetch(`http://127.0.0.1:${a.httpPort}/api/topics/secure_topic`);
    const body = (await res.json()) as { nodes?: { node: string }[] };
    return res.status === 200 && body.nodes?.length === 1 ? body : null;
  }, "the topic's stats from the TLS-only nsqd");
  expect(stats!.nodes![0]!.node).toBe(`127.0.0.1:${s.httpPort}`);
});

test("without the client certificate or the CA the nsqd is an error; --http-client-tls-insecure-skip-verify skips the CA", async () => {
  const s = await tlsOnlyNsqd();
  const address = [`127.0.0.1:${s.httpPort}`];
  const noCert = await topics(admin({ nsqdHttpAddresses: address, httpClientTlsRootCaFile: certs.caCert }));
  expect(noCert.status).toBe(502);
  expect(noCert.body.message).toContain(`https://127.0.0.1:${s.httpsPort}/stats`);
  const noCa = await topics(admin({ nsqdHttpAddresses: address, httpClientTlsCert: certs.clientCert, httpClientTlsKey: certs.clientKey }));
  expect(noCa.status).toBe(502);
  const insecure = admin({
    nsqdHttpAddresses: address,
    httpClientTlsCert: certs.clientCert,
    httpClientTlsKey: certs.clientKey,
    httpClientTlsInsecureSkipVerify: true,
  });
  expect((await topics(insecure)).body.topics).toEqual(["secure_topic"]);
});

test("start-up refuses a lone certificate or key and unusable files, with NSQ's messages", () => {
  const start = (o: Record<string, unknown>) => () => admin({ nsqdHttpAddresses: ["127.0.0.1:4151"], ...o });
  expect(start({ httpClientTlsCert: certs.clientCert })).toThrow("--http-client-tls-key must be specified with --http-client-tls-cert");
  expect(start({ httpClientTlsKey: certs.clientKey })).toThrow("--http-client-tls-cert must be specified with --http-client-tls-key");
  expect(start({ httpClientTlsCert: certs.clientCert, httpClientTlsKey: certs.serverKey })).toThrow(
    `failed to LoadX509KeyPair ${certs.clientCert}, ${certs.serverKey}`,
  );
  expect(start({ httpClientTlsRootCaFile: "/nonexistent/ca.pem" })).toThrow("failed to read TLS root CA file /nonexistent/ca.pem");
  const notPem = join(certs.dir, "not-a-ca.txt");
  writeFileSync(notPem, "hello");
  expect(start({ httpClientTlsRootCaFile: notPem })).toThrow(`failed to AppendCertsFromPEM ${notPem}`);
});
