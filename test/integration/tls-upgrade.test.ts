/**
 * TLS on nsqd's TCP port: the in-place upgrade after IDENTIFY with nsqjs (plain,
 * with client certificates, with snappy and deflate), --tls-required refusals,
 * --tls-min-version, and garbage instead of a handshake.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import tls from "node:tls";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { FrameDecoder } from "../../src/protocol/frame-decoder.ts";
import { FRAME_TYPE_ERROR } from "../../src/protocol/frames.ts";
import { makeCerts, nsqjsRoundTrip, pem, type Certs } from "../helpers/features.ts";
import { startTestNsqd, until } from "../helpers/nsqd.ts";
import { RawClient, concatBytes, sizePrefixed } from "../helpers/raw-client.ts";

let certs: Certs;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.remove());

let server: NsqdDaemon | null = null;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  server?.stop();
  server = null;
});

function start(overrides: Record<string, unknown> = {}): NsqdDaemon {
  server = startTestNsqd({
    tlsCert: certs.serverCert,
    tlsKey: certs.serverKey,
    httpsAddress: "127.0.0.1:0",
    ...overrides,
  });
  return server;
}

const decoder = new TextDecoder();

/**
 * A connection driven by hand with node:tls (a TLS stack we did not write): magic
 * and IDENTIFY in plain text, then the handshake on the same socket.
 */
class TlsTestClient {
  readonly frames: { type: number; text: string }[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder((type, data) => {
    const text = decoder.decode(data);
    if (text !== "_heartbeat_") this.frames.push({ type, text });
  });
  private secure: tls.TLSSocket | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (d: Buffer) => this.decoder.feed(d));
    socket.on("close", () => {
      this.closed = true;
    });
    socket.on("error", () => {});
  }

  static async connect(port: number): Promise<TlsTestClient> {
    const socket = net.connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const c = new TlsTestClient(socket);
    cleanups.push(() => c.destroy());
    socket.write("  V2");
    return c;
  }

  async next(): Promise<{ type: number; text: string }> {
    await until(() => this.frames.length > 0 || this.closed, "a frame");
    const f = this.frames.shift();
    if (f === undefined) throw new Error("connection closed while waiting for a frame");
    return f;
  }

  write(bytes: Uint8Array | string): void {
    (this.secure ?? this.socket).write(bytes);
  }

  identify(body: Record<string, unknown>): void {
    this.write(concatBytes("IDENTIFY\n", sizePrefixed(JSON.stringify({ feature_negotiation: true, ...body }))));
  }

  /** Upgrades the socket as NSQ clients do once the IDENTIFY response said tls_v1. */
  async startTls(options: tls.ConnectionOptions = {}): Promise<void> {
    this.socket.removeAllListeners("data");
    const secure = tls.connect({ socket: this.socket, ca: pem(certs.caCert), servername: "localhost", ...options });
    this.secure = secure;
    secure.on("data", (d: Buffer) => this.decoder.feed(d));
    secure.on("close", () => {
      this.closed = true;
    });
    await new Promise<void>((resolve, reject) => secure.once("secureConnect", resolve).once("error", reject));
  }

  destroy(): void {
    this.secure?.destroy();
    this.socket.destroy();
  }
}

describe("nsqjs over TLS", () => {
  test("TLS: publish and consume", async () => {
    const s = start();
    const { received, reader } = await nsqjsRoundTrip(s, "tls_plain", { tls: true, ca: pem(certs.caCert) }, 40);
    expect(received.length).toBe(40);
    expect(reader.tls).toBe(true);
    expect(reader.tlsSession()?.version).toBe("TLSv1.3");
  });

  test("TLS + snappy", async () => {
    const s = start();
    const { received, reader } = await nsqjsRoundTrip(s, "tls_snappy", { tls: true, ca: pem(certs.caCert), snappy: true }, 40);
    expect(received.length).toBe(40);
    expect([reader.tls, reader.compression]).toEqual([true, "snappy"]);
  });

  test("TLS + deflate", async () => {
    const s = start();
    const options = { tls: true, ca: pem(certs.caCert), deflate: true, deflateLevel: 5 };
    const { received, writer } = await nsqjsRoundTrip(s, "tls_deflate", options, 40);
    expect(received.length).toBe(40);
    expect([writer.tls, writer.compression]).toEqual([true, "deflate"]);
  });

  test("--tls-client-auth-policy=require-verify with a client certificate signed by --tls-root-ca-file", async () => {
    const s = start({ tlsClientAuthPolicy: "require-verify", tlsRootCaFile: certs.caCert });
    const options = { tls: true, ca: pem(certs.caCert), cert: pem(certs.clientCert), key: pem(certs.clientKey) };
    const { received, reader } = await nsqjsRoundTrip(s, "tls_mutual", options, 20);
    expect(received.length).toBe(20);
    expect(reader.tls).toBe(true);
  });
});

describe("client certificate policies", () => {
  /** IDENTIFY with tls_v1, then the handshake; resolves with what happened next. */
  async function upgradeWith(port: number, options: tls.ConnectionOptions): Promise<"ok" | "refused"> {
    const c = await TlsTestClient.connect(port);
    c.identify({ tls_v1: true });
    expect(JSON.parse((await c.next()).text).tls_v1).toBe(true);
    try {
      await c.startTls(options);
      const f = await c.next();
      return f.text === "OK" ? "ok" : "refused";
    } catch {
      return "refused";
    }
  }

  test("require-verify refuses no certificate and an untrusted one", async () => {
    const s = start({ tlsClientAuthPolicy: "require-verify", tlsRootCaFile: certs.caCert });
    expect(await upgradeWith(s.tcpPort, {})).toBe("refused");
    expect(await upgradeWith(s.tcpPort, { cert: pem(certs.rogueCert), key: pem(certs.rogueKey) })).toBe("refused");
    expect(await upgradeWith(s.tcpPort, { cert: pem(certs.clientCert), key: pem(certs.clientKey) })).toBe("ok");
  });

  test("require takes any certificate but not none", async () => {
    const s = start({ tlsClientAuthPolicy: "require" });
    expect(await upgradeWith(s.tcpPort, { cert: pem(certs.rogueCert), key: pem(certs.rogueKey) })).toBe("ok");
    expect(await upgradeWith(s.tcpPort, {})).toBe("refused");
  });

  test("--tls-min-version=tls1.3 refuses a TLS 1.2 client", async () => {
    const s = start({ tlsMinVersion: "tls1.3" });
    expect(await upgradeWith(s.tcpPort, { maxVersion: "TLSv1.2" })).toBe("refused");
    expect(await upgradeWith(s.tcpPort, { minVersion: "TLSv1.3" })).toBe("ok");
  });
});

describe("--tls-required", () => {
  test("commands other than IDENTIFY before the upgrade are fatal", async () => {
    const s = start({ tlsRequired: "true" });
    const c = await RawClient.connect(s.tcpPort);
    cleanups.push(() => c.close());
    c.pub("t", "x");
    expect(await c.error()).toBe("E_INVALID cannot PUB in current state (TLS required)");
    await c.waitClosed();

    const d = await RawClient.connect(s.tcpPort);
    cleanups.push(() => d.close());
    d.identify({ feature_negotiation: true });
    expect(JSON.parse(await d.response()).tls_v1).toBe(false);
    d.sub("t", "c");
    expect(await d.error()).toBe("E_INVALID cannot SUB in current state (TLS required)");
  });

  test("after the upgrade the protocol continues inside TLS", async () => {
    const s = start({ tlsRequired: "true" });
    const c = await TlsTestClient.connect(s.tcpPort);
    c.identify({ tls_v1: true });
    await c.next();
    await c.startTls();
    expect(await c.next()).toEqual({ type: 0, text: "OK" });
    c.write(concatBytes("PUB tls_required\n", sizePrefixed("inside")));
    expect(await c.next()).toEqual({ type: 0, text: "OK" });
    expect(s.nsqd.getExistingTopic("tls_required")?.messageCount).toBe(1);
    const stats = await fetch(`https://localhost:${s.httpsPort}/stats?format=json`, { tls: { ca: pem(certs.caCert) } });
    const producer = ((await stats.json()) as { producers: Record<string, unknown>[] }).producers[0];
    expect(producer).toMatchObject({ tls: true, tls_version: "TLS1.3", snappy: false, deflate: false });
    expect(String(producer.tls_cipher_suite)).toStartWith("TLS_");
  });

  test("true: plain HTTP answers 403 TLS_REQUIRED, HTTPS serves the API", async () => {
    const s = start({ tlsRequired: "true" });
    const plain = await fetch(`http://127.0.0.1:${s.httpPort}/ping`);
    expect(plain.status).toBe(403);
    expect(await plain.json()).toEqual({ message: "TLS_REQUIRED", https_port: s.httpsPort });
    const secure = await fetch(`https://localhost:${s.httpsPort}/pub?topic=over_https`, {
      method: "POST",
      body: "m",
      tls: { ca: pem(certs.caCert) },
    });
    expect([secure.status, await secure.text()]).toEqual([200, "OK"]);
  });

  test("tcp-https: plain HTTP still works, TCP still needs TLS", async () => {
    const s = start({ tlsRequired: "tcp-https" });
    const plain = await fetch(`http://127.0.0.1:${s.httpPort}/ping`);
    expect([plain.status, await plain.text()]).toEqual([200, "OK"]);
    const c = await RawClient.connect(s.tcpPort);
    cleanups.push(() => c.close());
    c.write("NOP\n");
    expect(await c.error()).toBe("E_INVALID cannot NOP in current state (TLS required)");
  });
});

describe("bad input", () => {
  test("garbage instead of a TLS handshake closes that connection only", async () => {
    const s = start();
    const c = await TlsTestClient.connect(s.tcpPort);
    c.identify({ tls_v1: true });
    await c.next();
    c.socket.write(crypto.getRandomValues(new Uint8Array(300)));
    await until(() => c.closed, "the server to close the connection");
    await until(() => s.tcp.clients.size === 0, "the server to forget the connection");
    expect(c.frames.filter((f) => f.type === FRAME_TYPE_ERROR)).toEqual([]);
    const { received } = await nsqjsRoundTrip(s, "after_garbage", { tls: true, ca: pem(certs.caCert) }, 5);
    expect(received.length).toBe(5);
  });

  test("without --tls-cert, tls_v1 is not negotiated", async () => {
    server = startTestNsqd();
    const c = await RawClient.connect(server.tcpPort);
    cleanups.push(() => c.close());
    c.identify({ feature_negotiation: true, tls_v1: true });
    expect(JSON.parse(await c.response()).tls_v1).toBe(false);
    await c.publish("no_tls", "plain");
  });
});
