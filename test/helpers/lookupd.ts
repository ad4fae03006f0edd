/** In-process nsqlookupd, a raw lookup-protocol (V1) client and HTTP helpers for tests. */
import type { Socket } from "bun";
import { startNsqlookupd } from "../../src/cli/nsqlookupd.ts";
import { Logger } from "../../src/common/logger.ts";
import type { NSQLookupd } from "../../src/lookupd/nsqlookupd.ts";
import { parseLookupdOptions } from "../../src/lookupd/options.ts";
import { V1ResponseDecoder, encodeV1Command } from "../../src/lookupd/v1-codec.ts";

export const quietLogger = new Logger({
  level: process.env.BUNSQ_TEST_LOG ? "debug" : "fatal",
  prefix: "[nsqlookupd] ",
});

/** An nsqlookupd in this process on free loopback ports. */
export function startTestLookupd(overrides: Record<string, unknown> = {}): NSQLookupd {
  return startNsqlookupd(
    parseLookupdOptions({
      tcpAddress: "127.0.0.1:0",
      httpAddress: "127.0.0.1:0",
      broadcastAddress: "127.0.0.1",
      ...overrides,
    }),
    quietLogger,
  );
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** One real HTTP request to `http://127.0.0.1:<port><path>`. */
export async function http(port: number, path: string, method = "GET"): Promise<HttpAnswer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, redirect: "manual" });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Polls until check() resolves truthy. */
export async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** Producers' "host:tcp_port" for a topic according to /lookup (empty when unknown). */
export async function lookupProducers(httpPort: number, topic: string): Promise<string[]> {
  const r = await http(httpPort, `/lookup?topic=${encodeURIComponent(topic)}`);
  if (r.status !== 200) return [];
  return (r.json.producers as { broadcast_address: string; tcp_port: number }[])
    .map((p) => `${p.broadcast_address}:${p.tcp_port}`)
    .sort();
}

const decoder = new TextDecoder();

/** Writes exactly what a test gives it and queues every V1 response as text. */
export class V1Client {
  private readonly responses: string[] = [];
  private socket!: Socket<undefined>;
  closed = false;
  private readonly decoder = new V1ResponseDecoder((d) => this.responses.push(decoder.decode(d)));

  static async connect(port: number, magic: string | null = "  V1"): Promise<V1Client> {
    const c = new V1Client();
    c.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_s, chunk) => c.decoder.feed(chunk),
        close: () => {
          c.closed = true;
        },
        error: () => {
          c.closed = true;
        },
      },
    });
    if (magic !== null) c.write(magic);
    return c;
  }

  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  identify(body: Record<string, unknown> | string): void {
    this.write(encodeV1Command("IDENTIFY", typeof body === "string" ? body : JSON.stringify(body)));
  }

  async response(timeoutMs = 3000): Promise<string> {
    return eventually<string | undefined>(
      () => {
        if (this.responses.length > 0) return this.responses.shift()!;
        if (this.closed) throw new Error("connection closed while waiting for a response");
        return undefined;
      },
      "a V1 response",
      timeoutMs,
    ) as Promise<string>;
  }

  async command(line: string): Promise<string> {
    this.write(`${line}\n`);
    return this.response();
  }

  async waitClosed(timeoutMs = 3000): Promise<void> {
    await eventually(() => this.closed, "the server to close the connection", timeoutMs);
  }

  close(): void {
    if (!this.closed) this.socket.end();
    this.closed = true;
  }
}

/** A valid IDENTIFY body for a fake nsqd. */
export function peerBody(tcpPort = 4150, httpPort = 4151, address = "127.0.0.1"): Record<string, unknown> {
  return { broadcast_address: address, hostname: "test-host", tcp_port: tcpPort, http_port: httpPort, version: "1.3.0" };
}
