import type { StreamCodec } from "../compress/codec.ts";
import type { CommandParser } from "../protocol/command-parser.ts";
import { OutputBuffer } from "./output-buffer.ts";

/**
 * The compression a connection negotiated, between its socket and its parser and
 * output buffer: input is decoded before parsing, output encoded once per flush
 * into `wire`, which holds what the socket has not taken yet.
 */
export class CompressedTransport {
  readonly wire = new OutputBuffer();
  private readonly toParser: (bytes: Uint8Array) => void;

  constructor(
    readonly codec: StreamCodec,
    parser: CommandParser,
    /** Bytes already due before the upgrade; they leave as they are. */
    plain: OutputBuffer,
  ) {
    this.toParser = (bytes) => parser.feed(bytes);
    this.wire.writeBytes(plain.pending());
    plain.consume(plain.length);
  }

  /** Decodes a received chunk into the parser; throws CodecError on corrupt input. */
  receive(chunk: Uint8Array): void {
    this.codec.decode(chunk, this.toParser);
  }

  /** Moves the frames buffered in out, encoded, to the wire. */
  encode(out: OutputBuffer): void {
    if (out.length === 0) return;
    this.wire.writeBytes(this.codec.encode(out.pending()));
    out.consume(out.length);
  }

  close(): void {
    this.codec.close();
  }
}
