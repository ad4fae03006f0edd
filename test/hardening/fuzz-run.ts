/**
 * Drives the fuzzer against a running nsqd: many connections at once sending
 * hostile frames in random chunkings (some vanishing mid-frame), malformed HTTP,
 * and a clean producer/consumer pair whose every message must arrive.
 */
import type { Socket } from "bun";
import { RawClient } from "../helpers/raw-client.ts";
import { Fuzzer, mulberry32 } from "./fuzzer.ts";

export interface FuzzOptions {
  tcpPort: number;
  httpPort: number;
  seed: number;
  frames: number;
  connections: number;
  httpRequests: number;
  maxBodySize: number;
  cleanMessages: number;
}

export interface FuzzResult {
  framesSent: number;
  connectionsOpened: number;
  httpRequestsSent: number;
  cleanDelivered: number;
}

/** A raw connection that ignores what it receives; `closed` tells whether the server hung up. */
/** A raw connection of the fuzzers; `closed` once the server hung up. */
export interface RawConnection {
  socket: Socket<undefined>;
  closed: boolean;
}

export async function openRaw(port: number): Promise<RawConnection | null> {
  const conn = { socket: null as unknown as Socket<undefined>, closed: false };
  try {
    conn.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data() {},
        error() {
          conn.closed = true;
        },
        close() {
          conn.closed = true;
        },
      },
    });
    return conn;
  } catch {
    return null;
  }
}

/**
 * Writes `frame` in random chunks, or, with probability `vanish`, a random part
 * of it before hanging up (false: the connection is gone).
 */
export function sendFrame(conn: RawConnection, fuzzer: Fuzzer, frame: Uint8Array, vanish: number): boolean {
  if (fuzzer.random() < vanish) {
    conn.socket.write(frame.subarray(0, fuzzer.random() * frame.length));
    conn.socket.terminate();
    return false;
  }
  for (const chunk of fuzzer.chunks(frame)) conn.socket.write(chunk);
  return true;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzResult> {
  const fuzzer = new Fuzzer(mulberry32(o.seed));
  const result: FuzzResult = { framesSent: 0, connectionsOpened: 0, httpRequestsSent: 0, cleanDelivered: 0 };

  // clean traffic running alongside
  const producer = await RawClient.connect(o.tcpPort);
  const consumer = await RawClient.connect(o.tcpPort);
  await consumer.subscribe("clean", "ch", 100);
  const expected = new Set<string>();
  const clean = (async () => {
    for (let i = 0; i < o.cleanMessages; i++) {
      const body = `clean-${i}`;
      await producer.publish("clean", body);
      expected.add(body);
      await Bun.sleep(1);
    }
  })();
  const received = (async () => {
    const dec = new TextDecoder();
    while (result.cleanDelivered < o.cleanMessages) {
      const m = await consumer.message(10_000);
      if (expected.has(dec.decode(m.body)) || dec.decode(m.body).startsWith("clean-")) result.cleanDelivered++;
      consumer.fin(m.id);
    }
  })();

  const perConnection = Math.ceil(o.frames / o.connections);
  const worker = async () => {
    let conn: Awaited<ReturnType<typeof openRaw>> = null;
    for (let sent = 0; sent < perConnection && result.framesSent < o.frames; sent++) {
      if (conn === null || conn.closed || fuzzer.random() < 0.01) {
        conn?.socket.end();
        conn = await openRaw(o.tcpPort);
        if (conn === null) continue;
        result.connectionsOpened++;
        conn.socket.write(fuzzer.magic());
      }
      if (!sendFrame(conn, fuzzer, fuzzer.frame(), 0.02)) conn = null;
      result.framesSent++;
      // let the server answer (most frames are fatal: the next one needs a new connection)
      if (sent % 4 === 0) await Bun.sleep(0);
    }
    conn?.socket.end();
  };
  const http = async () => {
    for (let i = 0; i < o.httpRequests; i++) {
      const conn = await openRaw(o.httpPort);
      if (conn === null) continue;
      conn.socket.write(fuzzer.httpRequest(o.maxBodySize));
      result.httpRequestsSent++;
      await Bun.sleep(1);
      conn.socket.end();
    }
  };
  await Promise.all([...Array.from({ length: o.connections }, worker), http()]);
  await clean;
  await received;
  producer.close();
  consumer.close();
  return result;
}

/** Resident memory of a process in bytes (Linux). */
export async function rssOf(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}
