// Frame codec hot paths: parsing PUB/MPUB/FIN streams, encoding message frames,
// decoding frames on the client side. Registers on import; runs when executed directly.
import { bench, do_not_optimize, group, run } from "mitata";
import { Delivery } from "../src/core/message.ts";
import { CommandParser, type CommandHandler, type CommandLine } from "../src/protocol/command-parser.ts";
import { FrameDecoder } from "../src/protocol/frame-decoder.ts";
import { writeUint32BE } from "../src/protocol/frames.ts";
import { decodeMpub } from "../src/protocol/mpub.ts";
import { OutputBuffer } from "../src/tcp/output-buffer.ts";
import { concatBytes } from "../test/helpers/raw-client.ts";

const BODY = new Uint8Array(200).fill(0x61);
const encoder = new TextEncoder();


function sized(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  writeUint32BE(out, 0, body.length);
  out.set(body, 4);
  return out;
}

/** Counts events; touches the bytes so nothing is optimised away. */
class CountingHandler implements CommandHandler {
  lines = 0;
  bodies = 0;
  magic(): boolean {
    return true;
  }
  line(line: CommandLine): boolean {
    this.lines++;
    return line.buf[line.argStart[0]] === 0x50 || line.buf[line.argStart[0]] === 0x4d; // PUB / MPUB
  }
  bodySize(): void {}
  body(bytes: Uint8Array): void {
    this.bodies += bytes.length;
  }
  lineTooLong(): void {}
}

const PUB_STREAM = concatBytes(...Array.from({ length: 200 }, () => concatBytes("PUB bench\n", sized(BODY))));
const count = new Uint8Array(4);
writeUint32BE(count, 0, 200);
const MPUB_BODY = concatBytes(count, ...Array.from({ length: 200 }, () => sized(BODY)));
const MPUB_FRAME = concatBytes("MPUB bench\n", sized(MPUB_BODY));
const FIN_STREAM = encoder.encode("FIN 0a1b2c3d4e5f6071\n".repeat(200));

group("parse 200 commands from one chunk", () => {
  bench("200 x PUB (200 B)", () => {
    const parser = new CommandParser(new CountingHandler(), 16384, false);
    parser.feed(PUB_STREAM);
  });
  bench("1 x MPUB of 200 (200 B) + decode", () => {
    const parser = new CommandParser(new CountingHandler(), 16384, false);
    parser.feed(MPUB_FRAME);
    const spans: number[] = [];
    do_not_optimize(decodeMpub(MPUB_BODY, 1 << 20, 5 << 20, spans));
  });
  bench("200 x FIN", () => {
    const parser = new CommandParser(new CountingHandler(), 16384, false);
    parser.feed(FIN_STREAM);
  });
});

group("encode message frames", () => {
  const out = new OutputBuffer();
  const d = new Delivery(7_000_000_000_000, 42, Date.now() * 1e6, BODY, 0, BODY.length);
  d.attempts = 1;
  bench("200 x writeMessage (200 B) into a 64 KiB buffer", () => {
    for (let i = 0; i < 200; i++) out.writeMessage(d);
    out.consume(out.length);
  });
});

group("client-side frame decoding", () => {
  const frames: Uint8Array[] = [];
  const buf = new OutputBuffer();
  const d = new Delivery(7_000_000_000_000, 42, Date.now() * 1e6, BODY, 0, BODY.length);
  for (let i = 0; i < 200; i++) buf.writeMessage(d);
  frames.push(buf.pending().slice());
  const stream = frames[0];
  let n = 0;
  const decoder = new FrameDecoder((_t, data) => {
    n += data.length;
  });
  bench("decode 200 message frames (one chunk)", () => {
    decoder.feed(stream);
    do_not_optimize(n);
  });
  bench("decode 200 message frames (4 KiB chunks)", () => {
    for (let off = 0; off < stream.length; off += 4096) decoder.feed(stream.subarray(off, off + 4096));
    do_not_optimize(n);
  });
});

if (import.meta.main) await run();
