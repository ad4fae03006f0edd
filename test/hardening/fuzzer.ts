/**
 * A seeded, replayable generator of hostile V2 traffic: grammar-aware mutations of
 * every command, bad size prefixes, MPUB bodies that disagree with their counts,
 * broken IDENTIFY JSON, junk before the magic and truncated frames. Used by the
 * bounded test and by scripts/reliability.ts.
 */
import { concatBytes } from "../helpers/raw-client.ts";

export { mulberry32 } from "../helpers/random.ts";

export type Random = () => number;

const enc = new TextEncoder();

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
}

export class Fuzzer {
  constructor(readonly random: Random) {}

  protected int(n: number): number {
    return Math.floor(this.random() * n);
  }

  protected pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  protected bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }

  /** A topic or channel name: usually valid, often not. */
  name(): Uint8Array | string {
    switch (this.int(10)) {
      case 0:
        return "";
      case 1:
        return "x".repeat(65 + this.int(200));
      case 2:
        return this.bytes(1 + this.int(20));
      case 3:
        return `bad name${this.int(5)}`;
      case 4:
        return concatBytes("t", new Uint8Array([0]), "x");
      case 5:
        return "#ephemeral";
      case 6:
        return `fz${this.int(4)}#ephemeral`;
      default:
        return `fz${this.int(8)}`;
    }
  }

  /** A number argument: usually sane, often huge, negative or not a number. */
  number(): string {
    return this.pick(["0", "1", "100", "2500", "-1", "99999999999999999999", "1e3", "", " 5", "abc", String(this.int(5000))]);
  }

  /** A 4-byte size prefix for a body of length n: right, or wrong in one of the classic ways. */
  size(n: number): Uint8Array {
    if (this.random() < 0.7) return u32(n);
    return u32(this.pick([0, n + 1 + this.int(100), Math.max(0, n - 1), 0x80000000, 0xffffffff, 0x7fffffff, 1 << 20]));
  }

  private body(): Uint8Array {
    return this.random() < 0.8 ? enc.encode(`body-${this.int(1e6)}`) : this.bytes(this.int(300));
  }

  private identify(): Uint8Array {
    const json = this.pick([
      JSON.stringify({ client_id: "fz", feature_negotiation: this.random() < 0.5, heartbeat_interval: this.int(3) ? 30000 : -1 }),
      JSON.stringify({ heartbeat_interval: this.pick([-2, 0, 999, 60001, "1s", 1.5]) }),
      JSON.stringify({ output_buffer_size: this.pick([-1, 63, 1e9]), output_buffer_timeout: this.pick([-1, 1, 1e9]) }),
      JSON.stringify({ sample_rate: this.pick([-1, 50, 100]), msg_timeout: this.pick([0, 999, 1e9]) }),
      JSON.stringify({ snappy: true, deflate: true, feature_negotiation: true }),
      "[".repeat(50000),
      '{"a":'.repeat(20000),
      "{not json",
      "null",
      "[]",
      "",
    ]);
    const body = enc.encode(json);
    return concatBytes("IDENTIFY\n", this.size(body.length), body);
  }

  private mpub(): Uint8Array {
    const count = this.int(5);
    const parts: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const b = this.body();
      parts.push(this.size(b.length), b);
    }
    const claimed = this.random() < 0.7 ? count : this.pick([0, count + 3, -1, 0x7fffffff]);
    const body = concatBytes(u32(claimed), ...parts);
    return concatBytes("MPUB ", this.name(), "\n", this.size(body.length), body);
  }

  /** One frame of V2 traffic (possibly several commands' worth of garbage). */
  frame(): Uint8Array {
    switch (this.int(16)) {
      case 0:
        return this.identify();
      case 1:
        return concatBytes("SUB ", this.name(), " ", this.name(), "\n");
      case 2:
        return concatBytes("RDY ", this.number(), "\n");
      case 3:
        return concatBytes("FIN ", this.pick(["0123456789abcdef", "short", this.bytes(16), ""]), "\n");
      case 4:
        return concatBytes("REQ ", this.pick(["0123456789abcdef", "x"]), " ", this.number(), "\n");
      case 5:
        return concatBytes("TOUCH ", this.bytes(16), "\n");
      case 6: {
        const b = this.body();
        return concatBytes("PUB ", this.name(), "\n", this.size(b.length), b);
      }
      case 7:
        return this.mpub();
      case 8: {
        const b = this.body();
        return concatBytes("DPUB ", this.name(), " ", this.number(), "\n", this.size(b.length), b);
      }
      case 9:
        return concatBytes("AUTH\n", this.size(6), "secret");
      case 10:
        return enc.encode(this.pick(["NOP\n", "CLS\n", "\n", "\r\n", "nop\n", "PUB\n", "SUB\n"]));
      case 11:
        return this.bytes(1 + this.int(64));
      case 12:
        return concatBytes(this.bytes(this.int(8)), "\n");
      case 13:
        return enc.encode(`${"A".repeat(17 * 1024)}`); // a command line with no end
      case 14:
        return concatBytes("PUB fz1\n", u32(0x7fffffff)); // a 2 GiB body that never comes
      default: {
        const b = this.body();
        return concatBytes("PUB fz0\n", u32(b.length), b);
      }
    }
  }

  /** The magic a connection starts with: right, or preceded by junk. */
  magic(): Uint8Array {
    if (this.random() < 0.9) return enc.encode("  V2");
    return concatBytes(this.bytes(this.int(8)), "  V2");
  }

  /** Splits bytes into chunks the way a network might deliver them. */
  chunks(data: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let pos = 0;
    while (pos < data.length) {
      const n = this.random() < 0.5 ? data.length - pos : 1 + this.int(Math.max(1, data.length - pos));
      out.push(data.subarray(pos, pos + n));
      pos += n;
    }
    return out;
  }

  /** Malformed HTTP requests (raw bytes for a TCP socket). */
  httpRequest(maxBodySize: number): Uint8Array {
    switch (this.int(8)) {
      case 0:
        return enc.encode("POST /pub?topic=fz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nbad\r\n0\r\n\r\n");
      case 1:
        return enc.encode("POST /pub?topic=fz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort");
      case 2:
        return enc.encode(`POST /mpub?topic=fz HTTP/1.1\r\nHost: x\r\nContent-Length: ${maxBodySize + 1}\r\n\r\n`);
      case 3:
        return enc.encode(`GET /stats HTTP/1.1\r\nHost: x\r\n${"X-Flood: y\r\n".repeat(2000)}\r\n`);
      case 4:
        return enc.encode(`${this.pick(["BREW", "DELETE", "PATCH", "OPTIONS"])} /${this.pick(["pub", "..%2f..%2fetc", "%00", "topic//create", "a".repeat(5000)])} HTTP/1.1\r\nHost: x\r\n\r\n`);
      case 5:
        return concatBytes(this.bytes(200), "\r\n\r\n");
      case 6:
        return enc.encode("POST /pub?topic=%ff%fe HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx");
      default:
        return enc.encode("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
    }
  }
}
