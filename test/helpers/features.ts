/**
 * Helpers for the TLS / compression / AUTH tests: certificates generated with
 * openssl into a temp dir, and an nsqjs Writer + Reader round trip with the
 * connection options nsqjs 0.13 has for these features.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Reader, Writer, type ConnectionOptions, type Message } from "nsqjs";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import type { ClientV2 } from "../../src/tcp/client-v2.ts";
import { until } from "./nsqd.ts";

export interface Certs {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Signed by the CA, subject CN=client-one. */
  clientCert: string;
  clientKey: string;
  /** Self-signed: not trusted by the CA. */
  rogueCert: string;
  rogueKey: string;
  remove(): void;
}

function openssl(dir: string, ...args: string[]): void {
  const r = Bun.spawnSync(["openssl", ...args], { cwd: dir, stderr: "pipe", stdout: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${r.stderr.toString()}`);
}

/** A CA, a server certificate for 127.0.0.1/localhost, a client certificate it signed, and a rogue one. */
export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), "bunsq-certs-"));
  const key = (name: string) => openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name);
  key("ca.key");
  openssl(dir, "req", "-x509", "-new", "-key", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=bunsq test CA");
  const writeExt = (name: string, text: string) => writeFileSync(join(dir, `${name}.ext`), text);
  writeExt("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  writeExt("client", "extendedKeyUsage=clientAuth\n");
  const sign = (name: string, subject: string) => {
    key(`${name}.key`);
    openssl(dir, "req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, "-subj", subject);
    openssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
      "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
  };
  sign("server", "/CN=localhost");
  sign("client", "/CN=client-one");
  key("rogue.key");
  openssl(dir, "req", "-x509", "-new", "-key", "rogue.key", "-out", "rogue.pem", "-days", "2", "-subj", "/CN=rogue");
  const p = (name: string) => join(dir, name);
  return {
    dir,
    caCert: p("ca.pem"),
    serverCert: p("server.pem"),
    serverKey: p("server.key"),
    clientCert: p("client.pem"),
    clientKey: p("client.key"),
    rogueCert: p("rogue.pem"),
    rogueKey: p("rogue.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** nsqjs 0.13 options for the features (its typings in test/interop only list what the interop tests use). */
export interface FeatureOptions {
  clientId?: string;
  snappy?: boolean;
  deflate?: boolean;
  deflateLevel?: number;
  tls?: boolean;
  tlsVerification?: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  authSecret?: string;
  sampleRate?: number;
  maxInFlight?: number;
}

/** Reads PEM files for nsqjs's ca / cert / key options. */
export const pem = (path: string): Buffer => readFileSync(path);

/** The server side of a connection, found by the client_id its client sent. */
export function serverClient(server: NsqdDaemon, clientId: string): ClientV2 | undefined {
  for (const client of server.tcp.clients) if (client.clientId === clientId) return client;
  return undefined;
}

let nextId = 0;

/**
 * Publishes `count` messages with an nsqjs Writer (single PUBs and one MPUB) and
 * consumes them with an nsqjs Reader, both with `options`. Resolves with the
 * bodies the Reader got (FINed) and the server side of both connections as they
 * were while connected.
 */
export async function nsqjsRoundTrip(
  server: NsqdDaemon,
  topic: string,
  options: FeatureOptions,
  count = 50,
): Promise<{ received: string[]; writer: ClientV2; reader: ClientV2 }> {
  const id = ++nextId;
  const writerId = `w${id}`;
  const readerId = `r${id}`;
  const errors: string[] = [];
  const writer = new Writer("127.0.0.1", server.tcpPort, { ...options, clientId: writerId } as ConnectionOptions);
  writer.on("error", (e) => errors.push(`writer: ${e.message}`));
  let ready = false;
  writer.on("ready", () => {
    ready = true;
  });
  const received: string[] = [];
  const reader = new Reader(topic, "ch", {
    ...(options as ConnectionOptions),
    clientId: readerId,
    nsqdTCPAddresses: [`127.0.0.1:${server.tcpPort}`],
    maxInFlight: options.maxInFlight ?? 100,
  });
  reader.on("error", (e) => errors.push(`reader: ${e.message}`));
  reader.on("message", (m: Message) => {
    received.push(m.body.toString());
    m.finish();
  });
  const check = (cond: () => boolean) => () => {
    if (errors.length > 0) throw new Error(errors.join("; "));
    return cond();
  };
  try {
    writer.connect();
    await until(check(() => ready), "nsqjs Writer ready", 5000);
    const writerSide = serverClient(server, writerId)!;
    const publish = (msgs: string | string[]) =>
      new Promise<void>((resolve, reject) => writer.publish(topic, msgs, (err) => (err ? reject(err) : resolve())));
    const half = Math.floor(count / 2);
    for (let i = 0; i < half; i++) await publish(`msg-${i}`);
    await publish(Array.from({ length: count - half }, (_, i) => `msg-${half + i}`));
    reader.connect();
    await until(check(() => received.length >= count), `${count} messages through nsqjs`, 5000);
    const readerSide = serverClient(server, readerId)!;
    await until(check(() => readerSide.finishCount >= count), "the FINs to reach the server", 3000);
    return { received, writer: writerSide, reader: readerSide };
  } finally {
    closeQuietly(reader, writer);
  }
}

interface NsqjsConnection {
  inflater?: { on(event: "error", listener: () => void): void };
}

/**
 * Closes nsqjs clients. nsqjs ends its raw inflate stream when the socket closes,
 * and zlib reports the unfinished deflate stream (nsqd never finishes it either)
 * as an error nobody listens for: that one is expected and ignored here.
 */
export function closeQuietly(reader: Reader | null, writer: Writer | null): void {
  const internals = { reader, writer } as unknown as {
    reader: { readerRdy?: { connections: { conn: NsqjsConnection }[] } } | null;
    writer: { conn?: NsqjsConnection } | null;
  };
  const conns = [
    ...(internals.reader?.readerRdy?.connections.map((c) => c.conn) ?? []),
    ...(internals.writer?.conn ? [internals.writer.conn] : []),
  ];
  for (const conn of conns) conn.inflater?.on("error", () => {});
  reader?.close();
  writer?.close();
}

/** An auth server (nsqd's --auth-http-address) started by a test; `asked` records every secret it was asked about. */
export interface TestAuthServer {
  /** host:port, for --auth-http-address. */
  readonly address: string;
  readonly asked: string[];
  stop(): void;
}

/** Answers each secret of `grants` with its grant, any other with 403 "unknown secret". */
export function startAuthServer(grants: Record<string, unknown>): TestAuthServer {
  const asked: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const secret = new URL(req.url).searchParams.get("secret") ?? "";
      asked.push(secret);
      const grant = grants[secret];
      return grant === undefined ? Response.json({ message: "unknown secret" }, { status: 403 }) : Response.json(grant);
    },
  });
  return { address: `127.0.0.1:${server.port}`, asked, stop: () => server.stop(true) };
}
