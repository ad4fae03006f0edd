import type { Socket, SocketHandler, TLSOptions } from "bun";
import type { CipherNameAndProtocol } from "node:tls";
import type { StreamCodec } from "../compress/codec.ts";
import type { AnswerGate, AnswerHolder } from "../core/answer-gate.ts";
import type { Logger } from "../common/logger.ts";
import type { Delivery } from "../core/message.ts";
import type { CommandParser } from "../protocol/command-parser.ts";
import type { Compression } from "./client-upgrades.ts";
import { CompressedTransport } from "./compressed-transport.ts";
import type { ClientSettings } from "./identify.ts";
import { OutputBuffer } from "./output-buffer.ts";
import { handshakeProblem, peerCommonName, type TlsSettings } from "./tls.ts";

/** What /stats reports of a TLS connection. */
export interface TlsSession {
  /** OpenSSL's name, e.g. "TLSv1.3". */
  version: string;
  cipher: CipherNameAndProtocol;
}

/** Where a connection is with TLS. */
const enum TlsPhase {
  Plain,
  /** Between the upgrade and the end of its handshake: nothing may be written. */
  Handshaking,
  Secure,
}

/**
 * The byte stream under one protocol V2 connection, and the one owner of its
 * state: the socket (replaced by the TLS socket when the connection upgrades),
 * the compression between the socket and the parser, the output queued for the
 * socket, and whether the socket is blocked or the connection closed.
 *
 * Queued output may stand for writes of this event-loop turn (a publish's OK, a
 * FIN), so the transport holds it in the AnswerGate and writes it once the turn's
 * writes are durable (or at once, after settling them, when the buffer is full).
 */
export class Transport<D> implements AnswerHolder {
  private readonly out = new OutputBuffer();
  private compressed: CompressedTransport | null = null;
  private tlsPhase = TlsPhase.Plain;
  /** The socket did not take everything: no new messages until it drains. */
  private blocked = false;
  private closed = false;
  /** Held in the answer gate for this turn. */
  private held = false;

  constructor(
    private socket: Socket<D>,
    /** Where received bytes go (decoded first when compressed). */
    private readonly parser: CommandParser,
    /** The connection's negotiated settings (outputBufferSize may change with IDENTIFY). */
    private readonly settings: Readonly<ClientSettings>,
    private readonly answers: AnswerGate,
    private readonly logger: Logger,
    /** The connection in log lines. */
    private readonly name: string,
  ) {}

  /** Closing or closed: nothing more is read or written. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** The socket has not taken all the output yet. */
  get isBlocked(): boolean {
    return this.blocked;
  }

  /** Open and not blocked: a message frame may be queued. */
  get writable(): boolean {
    return !this.blocked && !this.closed;
  }

  /** Upgraded to TLS (the handshake is complete). */
  get isTls(): boolean {
    return this.tlsPhase === TlsPhase.Secure;
  }

  /** Waiting for the TLS handshake: the next frame must be the upgrade's OK. */
  get isHandshaking(): boolean {
    return this.tlsPhase === TlsPhase.Handshaking;
  }

  get compression(): Compression {
    return this.compressed?.codec.name ?? "";
  }

  /** Output bytes the socket has not taken yet. */
  get pendingBytes(): number {
    return this.out.length + (this.compressed?.wire.length ?? 0);
  }

  // ---- input ----

  /** A received chunk, to the parser (decoded first when compressed); throws CodecError on corrupt input. */
  receive(chunk: Uint8Array): void {
    if (this.compressed === null) this.parser.feed(chunk);
    else this.compressed.receive(chunk);
  }

  // ---- output ----

  /** Queues an encoded frame (responses, errors, heartbeats). */
  write(frame: Uint8Array): void {
    this.out.writeBytes(frame);
    this.queued();
  }

  /** Queues a message frame. */
  writeMessage(d: Delivery): void {
    this.out.writeMessage(d);
    this.queued();
  }

  /** Writes `frame` and everything queued before it now, then closes (fatal errors). */
  writeAndClose(frame: Uint8Array): void {
    this.out.writeBytes(frame);
    this.parser.stop();
    this.flush();
    this.close();
  }

  private queued(): void {
    if (this.out.length >= this.settings.outputBufferSize) this.flush();
    else if (!this.held) {
      this.held = true;
      this.answers.hold(this);
    }
  }

  /** The end of the turn in which output was queued (see AnswerGate). */
  releaseAnswers(): void {
    this.held = false;
    this.flush();
  }

  abandonAnswers(): void {
    this.held = false;
    this.logger.error(`[${this.name}] closing: the disk could not make this turn's writes durable`);
    this.close();
  }

  /** Writes what is queued; whatever the socket does not take waits for drain. */
  flush(): void {
    if (this.closed || this.tlsPhase === TlsPhase.Handshaking) return;
    if (this.compressed !== null) return this.flushCompressed(this.compressed);
    if (this.out.length === 0) return;
    // an OK in this buffer may stand for a message still waiting for its fsync
    if (!this.answers.settleNow()) return this.abandonAnswers();
    const written = this.socket.write(this.out.pending());
    if (written < 0) return;
    this.out.consume(written);
    this.blocked = this.out.length > 0;
  }

  /** flush() of a compressed connection: the frames of this flush are encoded in one piece. */
  private flushCompressed(compressed: CompressedTransport): void {
    if (this.out.length > 0 && !this.answers.settleNow()) return this.abandonAnswers();
    compressed.encode(this.out);
    const wire = compressed.wire;
    if (wire.length === 0) return;
    const written = this.socket.write(wire.pending());
    if (written < 0) return;
    wire.consume(written);
    this.blocked = wire.length > 0;
  }

  // ---- closing ----

  /** Ends the connection; the socket's close event follows. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.parser.stop();
    this.socket.end();
  }

  /** The socket closed: releases the parser and the codec. */
  ended(): void {
    this.closed = true;
    this.parser.stop();
    this.compressed?.close();
  }

  // ---- upgrades (see ClientUpgrades for their order) ----

  /**
   * Starts the TLS handshake on the socket; from here until endHandshake nothing
   * is written. The raw socket's own events stop reaching `data`.
   */
  startTls(options: TLSOptions, handlers: SocketHandler<D>, data: D): void {
    this.tlsPhase = TlsPhase.Handshaking;
    const [raw, tlsSocket] = this.socket.upgradeTLS<D>({ data, tls: options, socket: handlers });
    (raw as Socket<D | undefined>).data = undefined;
    this.socket = tlsSocket;
  }

  /** Why the finished handshake does not satisfy the client certificate policy, or null. */
  handshakeProblem(settings: TlsSettings, authError: Error | null): string | null {
    return handshakeProblem(settings, this.socket, authError);
  }

  /** The handshake is over: the connection is TLS when `secure`, else it is about to close. */
  endHandshake(secure: boolean): void {
    this.tlsPhase = secure ? TlsPhase.Secure : TlsPhase.Plain;
  }

  /** From here on both directions go through `codec`; what is queued so far leaves as it is. */
  compress(codec: StreamCodec): void {
    this.compressed = new CompressedTransport(codec, this.parser, this.out);
  }

  // ---- TLS facts ----

  /** The peer certificate's common name ("" without one), null without a certificate. */
  peerCommonName(): string | null {
    return peerCommonName(this.socket);
  }

  /** Protocol version and cipher of a TLS connection (for /stats), null before the upgrade. */
  tlsSession(): TlsSession | null {
    if (!this.isTls) return null;
    return { version: this.socket.getTLSVersion(), cipher: this.socket.getCipher() };
  }
}
