/** Corrupt or unsupported compressed input. */
export class CodecError extends Error {}

/**
 * A negotiated stream transform of one connection: everything written after the
 * upgrade goes through encode(), everything read through decode().
 */
export interface StreamCodec {
  readonly name: "snappy" | "deflate";
  /** Encodes bytes and flushes, so the peer can decode all of them from the result. */
  encode(data: Uint8Array): Uint8Array;
  /**
   * Decodes received bytes, handing the decoded pieces to sink in order; each piece
   * is fresh memory the receiver may keep. Throws on corrupt input.
   */
  decode(chunk: Uint8Array, sink: (bytes: Uint8Array) => void): void;
  /** Frees what the codec holds (the connection closed). */
  close(): void;
}
