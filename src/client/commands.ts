/** Encoders for the V2 commands a client sends; each returns the bytes to write. */
import { writeUint32BE } from "../protocol/frames.ts";

const encoder = new TextEncoder();

/** A command as text or bytes; strings are UTF-8 encoded. */
export type Body = string | Uint8Array;

export function toBytes(body: Body): Uint8Array {
  return typeof body === "string" ? encoder.encode(body) : body;
}

/** "NAME args\n" optionally followed by a 4-byte size and a body. */
export function command(line: string, body?: Uint8Array): Uint8Array {
  const head = encoder.encode(`${line}\n`);
  if (body === undefined) return head;
  const out = new Uint8Array(head.length + 4 + body.length);
  out.set(head);
  writeUint32BE(out, head.length, body.length);
  out.set(body, head.length + 4);
  return out;
}

export function identify(data: Record<string, unknown>): Uint8Array {
  return command("IDENTIFY", encoder.encode(JSON.stringify(data)));
}

export function pub(topic: string, body: Body): Uint8Array {
  return command(`PUB ${topic}`, toBytes(body));
}

export function dpub(topic: string, delayMs: number, body: Body): Uint8Array {
  return command(`DPUB ${topic} ${Math.floor(delayMs)}`, toBytes(body));
}

/** MPUB body: [4-byte count] then each message as [4-byte size][bytes], encoded in one buffer. */
export function mpub(topic: string, bodies: readonly Body[]): Uint8Array {
  const parts = bodies.map(toBytes);
  let size = 4;
  for (const p of parts) size += 4 + p.length;
  const head = encoder.encode(`MPUB ${topic}\n`);
  const out = new Uint8Array(head.length + 4 + size);
  out.set(head);
  let pos = head.length;
  writeUint32BE(out, pos, size);
  writeUint32BE(out, pos + 4, parts.length);
  pos += 8;
  for (const p of parts) {
    writeUint32BE(out, pos, p.length);
    out.set(p, pos + 4);
    pos += 4 + p.length;
  }
  return out;
}

export function sub(topic: string, channel: string): Uint8Array {
  return command(`SUB ${topic} ${channel}`);
}

export function rdy(count: number): Uint8Array {
  return command(`RDY ${count}`);
}

export const NOP = encoder.encode("NOP\n");
export const CLS = encoder.encode("CLS\n");
export const MAGIC_V2 = encoder.encode("  V2");

export function auth(secret: string): Uint8Array {
  return command("AUTH", encoder.encode(secret));
}
