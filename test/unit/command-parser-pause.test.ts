/**
 * CommandParser.pause() / resume(): what a handler's pause leaves unparsed (the
 * rest of the chunk and later chunks) is parsed on resume, in order, whatever
 * the chunk boundaries. The TCP server uses it while AUTH asks its auth server
 * and during a TLS handshake.
 */
import { expect, test } from "bun:test";
import { CommandParser, type CommandHandler, type CommandLine } from "../../src/protocol/command-parser.ts";
import { concatBytes } from "../helpers/raw-client.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function stream(): Uint8Array {
  const parts: Uint8Array[] = [encoder.encode("  V2")];
  for (let i = 0; i < 20; i++) {
    const body = encoder.encode(`body-${i}`);
    const size = new Uint8Array(4);
    new DataView(size.buffer).setUint32(0, body.length);
    parts.push(encoder.encode(i % 3 === 0 ? `PUB t${i}\n` : `NOP ${i}\n`));
    if (i % 3 === 0) parts.push(size, body);
  }
  return concatBytes(...parts);
}

/** Records events; pauses after every PUB body and after every third line. */
function recorder(pauseOn: (event: string) => boolean) {
  const events: string[] = [];
  let parser!: CommandParser;
  const handler: CommandHandler = {
    magic: () => true,
    line(line: CommandLine) {
      const text = line.text();
      events.push(text);
      if (pauseOn(text)) parser.pause();
      return text.startsWith("PUB");
    },
    bodySize: () => {},
    body(bytes) {
      const text = `body:${decoder.decode(bytes)}`;
      events.push(text);
      if (pauseOn(text)) parser.pause();
    },
    lineTooLong: () => {},
  };
  parser = new CommandParser(handler);
  return { parser, events };
}

test("paused input is parsed on resume, in order, for any chunking", () => {
  const bytes = stream();
  const reference = recorder(() => false);
  reference.parser.feed(bytes);
  for (const chunkSize of [1, 3, 7, 64, bytes.length]) {
    const { parser, events } = recorder((e) => e.startsWith("body:") || e.endsWith("3"));
    let resumes = 0;
    for (let i = 0; i < bytes.length; i += chunkSize) {
      parser.feed(bytes.subarray(i, i + chunkSize));
      // resume only every other chunk: input also piles up while paused
      if (i % (2 * chunkSize) === 0) {
        parser.resume();
        resumes++;
      }
    }
    for (let i = 0; i < 100; i++) parser.resume();
    expect(resumes).toBeGreaterThan(0);
    expect(events).toEqual(reference.events);
  }
});

test("stop() while paused drops what was held", () => {
  const { parser, events } = recorder((e) => e === "NOP 1");
  parser.feed(encoder.encode("  V2NOP 1\nNOP 2\n"));
  expect(events).toEqual(["NOP 1"]);
  parser.stop();
  parser.resume();
  parser.feed(encoder.encode("NOP 3\n"));
  expect(events).toEqual(["NOP 1"]);
});
