/**
 * Malformed and abandoned HTTP/1.1 requests for any of the daemons' HTTP ports,
 * seeded and replayable: bad request lines, methods, query strings and headers,
 * broken chunked bodies, 8 MiB bodies, and clients that hang up mid-request, reset
 * the connection right after asking or while the answer is being prepared.
 * Used by the bounded test (daemon-fuzz.test.ts) and by scripts/reliability.ts.
 */
import type { Socket } from "bun";
import { concatBytes } from "../helpers/raw-client.ts";
import { Fuzzer, mulberry32 } from "./fuzzer.ts";

const enc = new TextEncoder();
const EIGHT_MIB = 8 * 1024 * 1024;
const bigBody = new Uint8Array(EIGHT_MIB).fill(0x61);

/** What the client does once it has written (some of) its request. */
export type Ending = "read" | "reset" | "reset-later" | "midway" | "fin";

export interface FuzzRequest {
  bytes: Uint8Array;
  ending: Ending;
}

export class HttpFuzzer extends Fuzzer {
  /** A target on one of the daemon's routes (paths may hold ":topic"-style holes), bent in one of many ways. */
  target(paths: readonly string[]): string {
    const path = this.pick(paths).replace(/:[a-z]+/g, () => this.pick(["fz0", "fz1", "fz1:ch", "%zz", "..", "", "x".repeat(70)]));
    switch (this.int(12)) {
      case 0:
        return `${path}?topic=%zz&channel=%`;
      case 1:
        return `${path}?topic=%ff%fe&node=%00`;
      case 2:
        return `${path}?${"a=1&".repeat(2000 + this.int(4000))}`;
      case 3:
        return `${path}?topic=fz${this.int(3)}&topic=fz9&channel=c${this.int(3)}&inactive=true`;
      case 4:
        return `${path}?=&&=&topic&format=json&`;
      case 5:
        return `${path}/../..${path}`;
      case 6:
        return `/${"a".repeat(16 * 1024 + this.int(8 * 1024))}`;
      case 7:
        return this.pick(["*", "http://elsewhere/ping", "ping", "//ping", "/%2e%2e/%2e%2e/etc/passwd", "/#frag", "/\t/"]);
      default:
        return `${path}${this.pick(["", "?topic=fz0", "?topic=fz1&channel=c0", "?topic=fz2&node=127.0.0.1:1", "?format=json"])}`;
    }
  }

  private method(): string {
    return this.pick(["GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "BREW", "get", "", "G\0ET", "CONNECT"]);
  }

  private version(): string {
    return this.pick(["HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9.9", "HTTP/1.1x", "", "HTTP/1.1 extra"]);
  }

  /** Header lines (without the blank line that ends them). */
  private headers(): string {
    const normal = "Host: fuzz\r\n";
    switch (this.int(14)) {
      case 0:
        return normal + "X-Flood: y\r\n".repeat(500 + this.int(3000));
      case 1:
        return `${normal}X-Huge: ${"h".repeat(64 * 1024 + this.int(64 * 1024))}\r\n`;
      case 2:
        return `${normal}${this.pick(["NoColon", " Leading: space", "Bad Name: x", "X: \x00\x01\x7f", "X: a\r\n folded", ": empty-name"])}\r\n`;
      case 3:
        return `${normal}Content-Length: ${this.pick(["-1", "abc", "1, 2", "99999999999999999999", " 3", "0x10"])}\r\n`;
      case 4:
        return `${normal}Content-Length: 3\r\nContent-Length: 7\r\n`;
      case 5:
        return "";
      case 6:
        return `${normal}Expect: 100-continue\r\n`;
      case 7:
        return `${normal}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n`;
      case 8:
        return `${normal}Authorization: Basic ${this.pick(["", "%%%", "Og==", "YWRtaW4="])}\r\nX-Forwarded-User: ${this.pick(["", "admin", "\u00ff"])}\r\n`;
      case 9:
        return `${normal}Content-Type: ${this.pick(["application/json", "multipart/form-data; boundary=", "application/x-www-form-urlencoded", "text/plain; charset=bogus"])}\r\n`;
      default:
        return `${normal}Connection: ${this.pick(["close", "keep-alive"])}\r\n`;
    }
  }

  /** A body with its framing headers: none, JSON, chunked (often broken), short, or 8 MiB. */
  private framedBody(): { headers: string; body: Uint8Array } {
    const none = { headers: "", body: new Uint8Array(0) };
    switch (this.int(12)) {
      case 0:
      case 1:
        return none;
      case 2: {
        const json = enc.encode(this.pick(['{"action":"pause"}', '{"action":"empty"}', '{"topic":"fz3","channel":"c1"}', '{"topic":', "[]", "null", '{"action":1}', "{".repeat(10000)]));
        return { headers: `Content-Type: application/json\r\nContent-Length: ${json.length}\r\n`, body: json };
      }
      case 3:
        return {
          headers: "Transfer-Encoding: chunked\r\n",
          body: enc.encode(this.pick(["5\r\nhello\r\n0\r\n\r\n", "zz\r\nbad\r\n0\r\n\r\n", "ffffffffffffffff\r\nx\r\n", "-1\r\n\r\n", "5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n", "3\r\nabcdef\r\n", "5\r\nhel"])),
        };
      case 4:
        return { headers: "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", body: enc.encode("0\r\n\r\nhello") };
      case 5:
        return { headers: "Transfer-Encoding: gzip, chunked\r\n", body: enc.encode("1\r\n\x1f\r\n0\r\n\r\n") };
      case 6:
        return { headers: `Content-Length: ${100 + this.int(1000)}\r\n`, body: enc.encode("short") };
      case 7:
        return { headers: `Content-Length: ${EIGHT_MIB}\r\n`, body: bigBody };
      case 8:
        return { headers: `Content-Length: ${EIGHT_MIB}\r\n`, body: bigBody.subarray(0, this.int(256 * 1024)) };
      default: {
        const text = enc.encode(`line ${this.int(1000)}\nline two\n`);
        return { headers: `Content-Length: ${text.length}\r\n`, body: text };
      }
    }
  }

  private ending(): Ending {
    const r = this.random();
    if (r < 0.35) return "read";
    if (r < 0.6) return "reset";
    if (r < 0.8) return "reset-later";
    if (r < 0.9) return "midway";
    return "fin";
  }

  /** One request to the daemon whose routes are `paths`. */
  request(paths: readonly string[]): FuzzRequest {
    const ending = this.ending();
    switch (this.int(10)) {
      case 0:
        return { bytes: concatBytes(this.bytes(1 + this.int(300)), "\r\n\r\n"), ending };
      case 1: {
        // pipelined: a fine request, then a broken one on the same connection
        const first = `GET ${this.pick(paths).replace(/:[a-z]+/g, "fz0")} HTTP/1.1\r\nHost: fuzz\r\n\r\n`;
        return { bytes: concatBytes(first, `${this.method()} ${this.target(paths)} ${this.version()}\r\n${this.headers()}\r\n`), ending };
      }
      default: {
        const body = this.framedBody();
        const head = `${this.method()} ${this.target(paths)} ${this.version()}\r\n${this.headers()}${body.headers}\r\n`;
        return { bytes: concatBytes(head, body.body), ending };
      }
    }
  }
}

export interface HttpFuzzOptions {
  port: number;
  /** The daemon's routes, e.g. "/lookup", "/api/topics/:topic". */
  paths: readonly string[];
  seed: number;
  requests: number;
  concurrency: number;
}

export interface HttpFuzzResult {
  sent: number;
  /** Requests the daemon answered (a status line came back). */
  answered: number;
  /** Answers with status 500: a request the daemon failed to handle. */
  internalErrors: number;
  /** Requests whose client reset or hung up before the answer. */
  abandoned: number;
  /** Connections the daemon refused (it should never refuse). */
  refused: number;
}

interface Conn {
  socket: Socket<undefined>;
  received: Uint8Array[];
  closed: boolean;
}

async function open(port: number): Promise<Conn | null> {
  const conn: Conn = { socket: null as unknown as Socket<undefined>, received: [], closed: false };
  try {
    conn.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_s, chunk) => void conn.received.push(chunk),
        close: () => void (conn.closed = true),
        error: () => void (conn.closed = true),
      },
    });
    return conn;
  } catch {
    return null;
  }
}

/** Writes everything, waiting for the socket to drain (8 MiB does not fit in one write); false when the daemon hung up. */
async function writeAll(conn: Conn, bytes: Uint8Array): Promise<boolean> {
  let pos = 0;
  const deadline = Date.now() + 5000;
  while (pos < bytes.length) {
    if (conn.closed || Date.now() > deadline) return false;
    const n = conn.socket.write(bytes.subarray(pos));
    if (n > 0) pos += n;
    else await Bun.sleep(1);
  }
  return true;
}

/** The status code of the first answer, once its status line arrived; 0 when nothing came within the time. */
async function status(conn: Conn, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = new TextDecoder().decode(concatBytes(...conn.received));
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
    if (m !== null) return Number(m[1]);
    if (conn.closed || Date.now() > deadline) return 0;
    await Bun.sleep(2);
  }
}

export async function runHttpFuzz(o: HttpFuzzOptions): Promise<HttpFuzzResult> {
  const fuzzer = new HttpFuzzer(mulberry32(o.seed));
  const result: HttpFuzzResult = { sent: 0, answered: 0, internalErrors: 0, abandoned: 0, refused: 0 };
  const worker = async () => {
    while (result.sent < o.requests) {
      result.sent++;
      const req = fuzzer.request(o.paths);
      const conn = await open(o.port);
      if (conn === null) {
        result.refused++;
        continue;
      }
      switch (req.ending) {
        case "read": {
          await writeAll(conn, req.bytes);
          const code = await status(conn, 2000);
          if (code > 0) result.answered++;
          if (code === 500) result.internalErrors++;
          conn.socket.terminate();
          break;
        }
        case "reset":
          conn.socket.write(req.bytes);
          conn.socket.terminate();
          result.abandoned++;
          break;
        case "reset-later":
          await writeAll(conn, req.bytes);
          await Bun.sleep(fuzzer.random() * 15);
          conn.socket.terminate();
          result.abandoned++;
          break;
        case "midway":
          conn.socket.write(req.bytes.subarray(0, Math.floor(fuzzer.random() * req.bytes.length)));
          conn.socket.terminate();
          result.abandoned++;
          break;
        case "fin":
          conn.socket.write(req.bytes);
          conn.socket.end();
          result.abandoned++;
          break;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return result;
}
