/**
 * Snappy and deflate: the codecs themselves, nsqjs (which implements both) through
 * a real bunsq, the negotiation rules, and corrupt compressed input.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { inflateRawSync } from "node:zlib";
import { CodecError } from "../../src/compress/codec.ts";
import { jsSnappy, snappyEngine } from "../../src/compress/snappy-engine.ts";
import { SnappyStream } from "../../src/compress/snappy-stream.ts";
import { DeflateStream } from "../../src/compress/sync-zlib.ts";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { FrameDecoder } from "../../src/protocol/frame-decoder.ts";
import { FRAME_TYPE_RESPONSE } from "../../src/protocol/frames.ts";
import { nsqjsRoundTrip } from "../helpers/features.ts";
import { startTestNsqd, until } from "../helpers/nsqd.ts";
import { RawClient, concatBytes, sizePrefixed } from "../helpers/raw-client.ts";

// snappystream is what nsqjs itself uses: an implementation we did not write
const { SnappyStream: TheirSnappy, UnsnappyStream: TheirUnsnappy } = require("snappystream") as {
  SnappyStream: new () => NodeJS.ReadWriteStream;
  UnsnappyStream: new () => NodeJS.ReadWriteStream;
};

const decoder = new TextDecoder();

function concat(parts: Uint8Array[]): Uint8Array {
  return concatBytes(...parts);
}

function sample(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i % 89) ^ ((i >> 11) & 0x3f);
  return b;
}

async function throughStream(stream: NodeJS.ReadWriteStream, input: Uint8Array): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  stream.on("data", (d: Uint8Array) => out.push(d));
  const ended = new Promise<void>((resolve) => stream.on("end", () => resolve()));
  stream.end(Buffer.from(input));
  await ended;
  return concat(out);
}

describe("codecs", () => {
  const inputs = [new Uint8Array(0), new TextEncoder().encode("hi"), sample(200_000), crypto.getRandomValues(new Uint8Array(70_000))];

  test("the native snappy packages load here (they are dependencies), the hand-written codec is the fallback", () => {
    expect(snappyEngine.name).toBe("native");
    expect(jsSnappy.name).toBe("js");
  });

  for (const engine of [snappyEngine, jsSnappy]) {
    const other = engine === jsSnappy ? snappyEngine : jsSnappy;
    test(`snappy framing (${engine.name}) round-trips in pieces and interoperates with the ${other.name} engine and snappystream`, async () => {
      for (const input of inputs) {
        const framed = new SnappyStream(engine).encode(input);
        for (const reader of [engine, other]) {
          const decoded: Uint8Array[] = [];
          const ours = new SnappyStream(reader);
          for (let i = 0; i < framed.length; i += 999) ours.decode(framed.subarray(i, i + 999), (b) => decoded.push(b));
          expect(concat(decoded)).toEqual(input);
        }
        expect(await throughStream(new TheirUnsnappy(), framed)).toEqual(input);
        const theirs = await throughStream(new TheirSnappy(), input);
        const back: Uint8Array[] = [];
        new SnappyStream(engine).decode(theirs, (b) => back.push(b));
        expect(concat(back)).toEqual(input);
      }
      // repetitive data really compresses
      expect(new SnappyStream(engine).encode(sample(200_000)).length).toBeLessThan(50_000);
    });

    test(`corrupt snappy blocks throw CodecError (${engine.name})`, () => {
      const decode = (bytes: Uint8Array) => () => new SnappyStream(engine).decode(bytes, () => {});
      // a compressed chunk (CRC 0) whose block announces 60,000 bytes and holds 3
      const block = [0xe0, 0xd4, 0x03, 0x08, 0x61, 0x62, 0x63];
      const chunk = concatBytes(new Uint8Array([0xff, 0x06, 0x00, 0x00]), "sNaPpY", new Uint8Array([0x00, 4 + block.length, 0, 0, 0, 0, 0, 0, ...block]));
      expect(decode(chunk)).toThrow(CodecError);
      // a large compressed block with its body damaged
      const framed = new SnappyStream(engine).encode(sample(50_000));
      for (let i = 30; i < 60; i++) framed[i] ^= 0x5a;
      expect(decode(framed)).toThrow(CodecError);
    });
  }

  test("deflate keeps one stream across flushes, readable by zlib", () => {
    const enc = new DeflateStream(6);
    const parts = [enc.encode(sample(100_000)), enc.encode(new TextEncoder().encode("tail"))];
    const stream = concat(parts);
    expect(inflateRawSync(stream, { finishFlush: 2 }).length).toBe(100_004);
    const dec = new DeflateStream(6);
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += 500) dec.decode(stream.subarray(i, i + 500), (b) => out.push(b));
    expect(concat(out)).toEqual(concatBytes(sample(100_000), "tail"));
  });

  test("corrupt input throws CodecError", () => {
    const bad = (codec: SnappyStream | DeflateStream, bytes: number[]) => () => codec.decode(new Uint8Array(bytes), () => {});
    expect(bad(new SnappyStream(), [0x00, 0x05, 0x00, 0x00, 1, 2, 3, 4, 5])).toThrow(CodecError); // no stream identifier
    const framed = new SnappyStream().encode(new TextEncoder().encode("hello hello hello hello"));
    framed[framed.length - 1] ^= 0xff;
    expect(() => new SnappyStream().decode(framed, () => {})).toThrow(CodecError);
    expect(bad(new SnappyStream(), [0xff, 0x06, 0x00, 0x00, ...new TextEncoder().encode("sNaPpY"), 0x02, 0x01, 0x00, 0x00, 0])).toThrow(CodecError);
    expect(bad(new DeflateStream(6), [0xff, 0xff, 0xff, 0xff, 1, 2, 3])).toThrow(CodecError);
  });
});

let server: NsqdDaemon | null = null;
const clients: RawClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  server?.stop();
  server = null;
});

function start(overrides: Record<string, unknown> = {}): NsqdDaemon {
  server = startTestNsqd(overrides);
  return server;
}

describe("nsqjs with compression", () => {
  for (const [name, options] of [
    ["snappy", { snappy: true }],
    ["deflate", { deflate: true, deflateLevel: 3 }],
  ] as const) {
    test(`${name}: publish and consume`, async () => {
      const s = start();
      const { received, writer, reader } = await nsqjsRoundTrip(s, `compressed_${name}`, options, 60);
      expect(received.sort()).toEqual(Array.from({ length: 60 }, (_, i) => `msg-${i}`).sort());
      expect(writer.compression).toBe(name);
      expect(reader.compression).toBe(name);
      expect(writer.pubCounts.get(`compressed_${name}`)).toBe(60);
    });
  }
});

/** IDENTIFY with feature negotiation; returns the parsed JSON response. */
async function identify(c: RawClient, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  c.identify({ feature_negotiation: true, ...body });
  return JSON.parse(await c.response()) as Record<string, unknown>;
}

async function raw(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

describe("negotiation", () => {
  test("IDENTIFY reports snappy / deflate with the level capped at --max-deflate-level", async () => {
    const s = start({ maxDeflateLevel: 4 });
    const plain = await identify(await raw(s.tcpPort), {});
    expect(plain).toMatchObject({ snappy: false, deflate: false, deflate_level: 4, max_deflate_level: 4 });
    const r = await identify(await raw(s.tcpPort), { deflate: true, deflate_level: 9 });
    expect(r).toMatchObject({ deflate: true, deflate_level: 4, snappy: false });
  });

  test("asking for both is E_IDENTIFY_FAILED", async () => {
    const s = start();
    const c = await raw(s.tcpPort);
    c.identify({ feature_negotiation: true, snappy: true, deflate: true });
    expect(await c.error()).toBe("E_IDENTIFY_FAILED cannot enable both deflate and snappy compression");
    await c.waitClosed();
  });

  test("--snappy=false and --deflate=false turn them off", async () => {
    const s = start({ snappy: false, deflate: false });
    const c = await raw(s.tcpPort);
    expect(await identify(c, { snappy: true })).toMatchObject({ snappy: false, deflate: false });
    // nothing was upgraded: the connection still speaks plain text
    await c.publish("plain_topic", "x");
  });
});

/** A hand-driven compressed connection: the IDENTIFY response arrives in plain text, the rest compressed. */
async function compressedConnection(port: number, codec: SnappyStream | DeflateStream, negotiate: Record<string, unknown>) {
  const frames: { type: number; text: string }[] = [];
  let closed = false;
  let plain = true;
  const frameDecoder = new FrameDecoder((type, data) => frames.push({ type, text: decoder.decode(data) }));
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        let rest: Uint8Array = chunk;
        if (plain) {
          // the first frame (the JSON) is plain; whatever follows it is compressed
          const size = new DataView(chunk.buffer, chunk.byteOffset).getUint32(0) + 4;
          frameDecoder.feed(chunk.subarray(0, size));
          plain = false;
          rest = chunk.subarray(size);
        }
        if (rest.length > 0) codec.decode(rest, (b) => frameDecoder.feed(b));
      },
      close() {
        closed = true;
      },
    },
  });
  socket.write(concatBytes("  V2", "IDENTIFY\n", sizePrefixed(JSON.stringify({ feature_negotiation: true, ...negotiate }))));
  await until(() => frames.length >= 2, "IDENTIFY response and the compressed OK");
  expect(frames[0].type).toBe(FRAME_TYPE_RESPONSE);
  expect(frames[1]).toEqual({ type: FRAME_TYPE_RESPONSE, text: "OK" });
  return {
    frames,
    send: (bytes: Uint8Array | string) => socket.write(codec.encode(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes)),
    sendRaw: (bytes: Uint8Array) => socket.write(bytes),
    isClosed: () => closed,
    close: () => socket.end(),
  };
}

describe("compressed connections", () => {
  for (const [name, make, negotiate] of [
    ["snappy", () => new SnappyStream(), { snappy: true }],
    ["deflate", () => new DeflateStream(6), { deflate: true }],
  ] as const) {
    test(`${name}: OK and later frames compressed, commands compressed both ways`, async () => {
      const s = start();
      const c = await compressedConnection(s.tcpPort, make(), negotiate);
      c.send(concatBytes("PUB t_raw\n", sizePrefixed("hello"), "NOP\n", "PUB t_raw\n", sizePrefixed("again")));
      await until(() => c.frames.length >= 4, "two OKs for the PUBs");
      expect(c.frames.slice(2).map((f) => f.text)).toEqual(["OK", "OK"]);
      expect(s.nsqd.getExistingTopic("t_raw")?.messageCount).toBe(2);
      c.close();
    });

    test(`${name}: corrupt input closes that connection only`, async () => {
      const s = start();
      const c = await compressedConnection(s.tcpPort, make(), negotiate);
      c.sendRaw(new Uint8Array([0x00, 0x10, 0x00, 0x00, 9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
      c.sendRaw(crypto.getRandomValues(new Uint8Array(64)));
      await until(c.isClosed, "the server to close the corrupt connection");
      const other = await raw(s.tcpPort);
      await other.publish("still_alive", "yes");
    });
  }
});
