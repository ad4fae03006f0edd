/** Opens many idle V2 connections (magic + IDENTIFY) to an nsqd, in batches. */
import type { Socket } from "bun";

const enc = new TextEncoder();

function identifyFrame(): Uint8Array {
  const body = enc.encode(JSON.stringify({ client_id: "idle", heartbeat_interval: 60000 }));
  const out = new Uint8Array(4 + 9 + 4 + body.length);
  out.set(enc.encode("  V2IDENTIFY\n"));
  new DataView(out.buffer).setUint32(13, body.length);
  out.set(body, 17);
  return out;
}

export interface IdleConnections {
  sockets: Socket<undefined>[];
  /** IDENTIFY answers received so far (one per connection the server took on). */
  answered: number;
}

export async function openIdleConnections(port: number, count: number): Promise<IdleConnections> {
  const frame = identifyFrame();
  const result: IdleConnections = { sockets: [], answered: 0 };
  const sockets = result.sockets;
  const onData = () => {
    result.answered++; // the 10-byte "OK" frame arrives in one piece on loopback
  };
  for (let opened = 0; opened < count; ) {
    const batch = Math.min(500, count - opened);
    const made = await Promise.all(
      Array.from({ length: batch }, () =>
        Bun.connect({ hostname: "127.0.0.1", port, socket: { data: onData, error() {}, close() {} } }),
      ),
    );
    for (const s of made) {
      s.write(frame);
      sockets.push(s);
    }
    opened += batch;
  }
  return result;
}
