/**
 * Hostile lookup-protocol (V1) traffic for nsqlookupd's TCP port, seeded and
 * replayable: IDENTIFY bodies of every wrong shape, REGISTER/UNREGISTER with bad
 * or missing arguments, PING, garbage, lines with no end, truncated frames, and
 * clients that vanish mid-frame. Used by daemon-fuzz.test.ts and scripts/reliability.ts.
 */
import { concatBytes } from "../helpers/raw-client.ts";
import { openRaw, sendFrame } from "./fuzz-run.ts";
import { Fuzzer, mulberry32 } from "./fuzzer.ts";

const enc = new TextEncoder();

export class LookupdFuzzer extends Fuzzer {
  private identifyBody(): Uint8Array {
    const port = () => this.pick([4150, 0, -1, 65536, 2 ** 31, 1.5, "4150", null]);
    return enc.encode(
      this.pick([
        JSON.stringify({ broadcast_address: "127.0.0.1", hostname: "fz", tcp_port: 40000 + this.int(100), http_port: 41000 + this.int(100), version: "1.3.0" }),
        JSON.stringify({ broadcast_address: this.pick(["", 5, null, "h".repeat(5000)]), tcp_port: port(), http_port: port(), version: "1" }),
        JSON.stringify({ broadcast_address: "127.0.0.1", tcp_port: port(), http_port: port(), version: this.pick(["", 1, [], {}]) }),
        JSON.stringify({ __proto__: { polluted: true }, constructor: { prototype: {} }, toString: 1 }),
        "[".repeat(50000),
        '{"a":'.repeat(20000),
        "{not json",
        "null",
        "[]",
        "\u0000\u00ff",
        "",
      ]),
    );
  }

  /** One frame of V1 traffic (after the magic). */
  override frame(): Uint8Array {
    switch (this.int(12)) {
      case 0:
      case 1: {
        const body = this.identifyBody();
        return concatBytes("IDENTIFY\n", this.size(body.length), body);
      }
      case 2:
      case 3:
        return concatBytes(this.pick(["REGISTER", "UNREGISTER"]), " ", this.name(), this.random() < 0.5 ? concatBytes(" ", this.name()) : "", "\n");
      case 4:
        return enc.encode(this.pick(["REGISTER\n", "UNREGISTER\n", "REGISTER  \n", "REGISTER a b c d\n", "UNREGISTER fz0 \n", "register fz0\n"]));
      case 5:
        return enc.encode(this.pick(["PING\n", "PING\n", "PING extra\n", "\n", "\r\n", " PING\n"]));
      case 6:
        return concatBytes("IDENTIFY\n", this.pick([new Uint8Array([0xff, 0xff, 0xff, 0xff]), new Uint8Array([0, 0x20, 0, 0]), new Uint8Array([0, 0])]));
      case 7:
        return this.bytes(1 + this.int(64));
      case 8:
        return concatBytes(this.bytes(this.int(8)), "\n");
      case 9:
        return enc.encode("R".repeat(17 * 1024)); // a command line with no end
      default:
        return concatBytes("REGISTER fz", String(this.int(4)), " c", String(this.int(3)), "\n");
    }
  }

  override magic(): Uint8Array {
    if (this.random() < 0.9) return enc.encode("  V1");
    return concatBytes(this.bytes(this.int(8)), this.pick(["  V1", "  V2", ""]));
  }
}

export interface LookupdFuzzOptions {
  tcpPort: number;
  seed: number;
  frames: number;
  connections: number;
}

export interface LookupdFuzzResult {
  framesSent: number;
  connectionsOpened: number;
}

/** `connections` clients at once, each sending frames in random chunkings and now and then vanishing mid-frame. */
export async function runLookupdFuzz(o: LookupdFuzzOptions): Promise<LookupdFuzzResult> {
  const fuzzer = new LookupdFuzzer(mulberry32(o.seed));
  const result: LookupdFuzzResult = { framesSent: 0, connectionsOpened: 0 };
  const worker = async () => {
    let conn: Awaited<ReturnType<typeof openRaw>> = null;
    while (result.framesSent < o.frames) {
      if (conn === null || conn.closed || fuzzer.random() < 0.02) {
        conn?.socket.end();
        conn = await openRaw(o.tcpPort);
        if (conn === null) continue;
        result.connectionsOpened++;
        if (fuzzer.random() < 0.1) {
          // gone before saying anything, often before the server has set the connection up
          conn.socket.terminate();
          conn = null;
          continue;
        }
        conn.socket.write(fuzzer.magic());
      }
      if (!sendFrame(conn, fuzzer, fuzzer.frame(), 0.03)) conn = null;
      result.framesSent++;
      if (result.framesSent % 4 === 0) await Bun.sleep(0);
    }
    conn?.socket.end();
  };
  await Promise.all(Array.from({ length: o.connections }, worker));
  return result;
}
