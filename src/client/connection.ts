/**
 * One TCP connection to nsqd speaking protocol V2: magic, IDENTIFY and what it
 * negotiates (negotiate.ts), frame decoding, heartbeat answers, and an output
 * buffer written once per event-loop turn (or on drain) so that many commands
 * cost one socket write. With compression negotiated, each write is encoded and
 * each read decoded by the stream codec.
 */
import type { StreamCodec } from "../compress/codec.ts";
import { FrameDecoder } from "../protocol/frame-decoder.ts";
import { FRAME_TYPE_ERROR, FRAME_TYPE_MESSAGE, FRAME_TYPE_RESPONSE, readInt32BE } from "../protocol/frames.ts";
import * as cmd from "./commands.ts";
import { splitHostPort } from "../common/host-port.ts";
import { effectiveReadTimeout, validateConnectionConfig, type ConnectionConfig } from "./config.ts";
import { deferred, type Deferred, type TimerHandle } from "./deferred.ts";
import { negotiate, type AuthResponse } from "./negotiate.ts";
import { dial, defaultTransportKind, type Transport, type TransportHandler } from "./transport.ts";
import type { ConnectionOptions as TlsOptions } from "node:tls";

/** Receives what a connection reads after the handshake. */
export interface ConnectionHandler {
  /** A message frame; `data` stays valid (the transport hands out a fresh buffer per read). */
  onMessage(data: Uint8Array): void;
  /** A response frame other than the heartbeat. */
  onResponse(data: Uint8Array): void;
  /** An error frame ("E_CODE description"). */
  onError(data: Uint8Array): void;
  /** The socket closed; `reason` says why when it was not asked for. */
  onClose(reason: Error | undefined): void;
}

/** What a connection negotiated, for users and tests. */
export interface ConnectionInfo {
  address: string;
  /** nsqd's IDENTIFY answer (feature negotiation), e.g. `max_rdy_count`, `auth_required`. */
  serverSettings: Record<string, unknown>;
  tls: boolean;
  compression: "" | "snappy" | "deflate";
  /** nsqd's answer to AUTH (identity, identity_url, permission_count), or null without AUTH. */
  auth: AuthResponse | null;
}

/** A frame read while negotiating; `data` is the connection's own copy. */
export interface NegotiationFrame {
  type: number;
  data: Uint8Array;
}

const decoder = new TextDecoder();
const HEARTBEAT_LENGTH = 11; // "_heartbeat_"
const ID_COMMAND_LENGTH = 4 + 16 + 1; // "FIN " + id + "\n"

function isHeartbeat(data: Uint8Array): boolean {
  return data.length === HEARTBEAT_LENGTH && data[0] === 0x5f && data[1] === 0x68 && data[10] === 0x5f;
}

/** A connected, identified nsqd connection. Create with `NsqConnection.connect`. */
export class NsqConnection implements TransportHandler {
  /** nsqd's IDENTIFY answer (with feature negotiation), e.g. `max_rdy_count`. */
  serverSettings: Record<string, unknown> = {};
  tls = false;
  auth: AuthResponse | null = null;
  closed = false;

  private socket: Transport | null = null;
  private handler: ConnectionHandler | null = null;
  private out = new Uint8Array(16 * 1024);
  private outLength = 0;
  private flushScheduled = false;
  private lastReadAt = Date.now();
  private readTimer: TimerHandle | null = null;
  private readonly decoder: FrameDecoder;
  private closeReason: Error | undefined;
  /** Negotiated compression of both directions, from its OK on. */
  private codec: StreamCodec | null = null;
  /** Encoded bytes the socket has not taken yet (compressed connections only). */
  private wire: Uint8Array | null = null;
  private readonly feedDecoded = (bytes: Uint8Array) => this.decoder.feed(bytes);
  /** While negotiating: bytes read (decoded once a codec is on) not yet taken as frames. */
  private inbox: Uint8Array | null = new Uint8Array(0);
  private frameWaiter: Deferred<NegotiationFrame> | null = null;
  private readonly appendInbox = (bytes: Uint8Array) => {
    this.inbox = concat(this.inbox!, bytes);
  };

  private constructor(readonly address: string) {
    this.decoder = new FrameDecoder((type, data) => this.onFrame(type, data));
  }

  /** What the connection negotiated. */
  info(): ConnectionInfo {
    return {
      address: this.address,
      serverSettings: this.serverSettings,
      tls: this.tls,
      compression: this.codec?.name ?? "",
      auth: this.auth,
    };
  }

  /**
   * Dials, sends the magic and IDENTIFY, runs what nsqd's answer negotiated (TLS,
   * compression, AUTH) and resolves once all of it succeeded, within dialTimeout.
   */
  static async connect(address: string, config: ConnectionConfig): Promise<NsqConnection> {
    validateConnectionConfig(config);
    const conn = new NsqConnection(address);
    const { hostname, port } = splitHostPort(address, "127.0.0.1");
    // port 0 means "any free port" only to a listener
    if (port === 0) throw new Error(`invalid port in ${JSON.stringify(address)}`);
    const limit = `connecting to ${address} timed out after ${config.dialTimeout}ms`;
    let timer: TimerHandle | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        conn.destroy(new Error(limit));
        reject(new Error(limit));
      }, config.dialTimeout);
    });
    conn.handler = { onMessage() {}, onResponse() {}, onError() {}, onClose() {} };
    try {
      // the TLS upgrade runs on node:tls, which takes a node:net socket
      const kind = config.tlsV1 ? "node" : defaultTransportKind;
      const dialing = dial(hostname, port, conn, config.dialTimeout, kind);
      // a socket that connects after the dial timed out is not kept
      dialing.then(
        (socket) => {
          if (conn.closed) socket.terminate();
        },
        () => {},
      );
      conn.socket = await Promise.race([dialing, timeout]);
      const negotiating = negotiate(conn, config, hostname);
      negotiating.catch(() => {}); // a failure after the timeout is reported by the race
      await Promise.race([negotiating, timeout]);
    } catch (err) {
      conn.destroy(err as Error);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    conn.endNegotiation();
    const readTimeout = effectiveReadTimeout(config);
    if (readTimeout > 0) {
      const period = Math.max(10, readTimeout / 4);
      conn.readTimer = setInterval(() => {
        if (Date.now() - conn.lastReadAt > readTimeout) {
          conn.destroy(new Error(`no data from ${address} for ${readTimeout}ms`));
        }
      }, period);
      conn.readTimer.unref();
    }
    return conn;
  }

  // ---- negotiation (used by negotiate.ts) ----

  /** The next frame read while negotiating (heartbeats included). */
  nextFrame(): Promise<NegotiationFrame> {
    if (this.closed) return Promise.reject(this.closeReason ?? new Error(`connection to ${this.address} closed`));
    this.frameWaiter = deferred<NegotiationFrame>();
    const waiting = this.frameWaiter.promise;
    this.deliverInboxFrame();
    return waiting;
  }

  /** Upgrades the socket to TLS; nothing may be queued or read beyond the last frame. @internal */
  async startTls(options: TlsOptions): Promise<void> {
    if (this.outLength > 0 || this.inbox!.length > 0) throw new Error("TLS upgrade with bytes still in flight");
    const socket = this.socket!;
    if (socket.startTls === undefined) throw new Error("this transport cannot upgrade to TLS");
    await socket.startTls(options);
    this.tls = true;
  }

  /** Compresses both directions from here on (the bytes already read after the last frame are compressed). */
  startCompression(codec: StreamCodec): void {
    this.flush();
    this.codec = codec;
    const rest = this.inbox!;
    this.inbox = new Uint8Array(0);
    if (rest.length > 0) codec.decode(rest, this.appendInbox);
  }

  private deliverInboxFrame(): void {
    const waiter = this.frameWaiter;
    const inbox = this.inbox;
    if (waiter === null || inbox === null || inbox.length < 8) return;
    const size = readInt32BE(inbox, 0);
    if (size < 4) return this.destroy(new Error(`invalid frame size ${size}`));
    if (inbox.length < 4 + size) return;
    this.frameWaiter = null;
    this.inbox = inbox.subarray(4 + size);
    waiter.resolve({ type: readInt32BE(inbox, 4), data: inbox.slice(8, 4 + size) });
  }

  /** Frames from here on go to the handler. */
  private endNegotiation(): void {
    const rest = this.inbox;
    this.inbox = null;
    if (rest !== null && rest.length > 0) this.decoder.feed(rest);
  }

  /** Routes frames read from now on to `handler`. */
  attach(handler: ConnectionHandler): void {
    this.handler = handler;
    if (this.closed) handler.onClose(this.closeReason);
  }

  /** Queues bytes; they are written at the end of this turn. */
  write(data: Uint8Array): void {
    const need = this.outLength + data.length;
    if (need > this.out.length) this.grow(need);
    this.out.set(data, this.outLength);
    this.outLength = need;
    this.scheduleFlush();
  }

  /** Queues "FIN <id>\n", "REQ <id> <ms>\n" or "TOUCH <id>\n" straight from the id's bytes. */
  writeFin(id: Uint8Array): void {
    this.writeIdCommand(0x46, 0x49, 0x4e, id); // FIN
  }

  writeTouch(id: Uint8Array): void {
    const need = this.outLength + ID_COMMAND_LENGTH + 2;
    if (need > this.out.length) this.grow(need);
    const o = this.out;
    const p = this.outLength;
    o[p] = 0x54; // T
    o[p + 1] = 0x4f; // O
    o[p + 2] = 0x55; // U
    o[p + 3] = 0x43; // C
    o[p + 4] = 0x48; // H
    o[p + 5] = 0x20;
    o.set(id, p + 6);
    o[p + 22] = 0x0a;
    this.outLength = p + 23;
    this.scheduleFlush();
  }

  writeReq(id: Uint8Array, delayMs: number): void {
    this.writeIdCommand(0x52, 0x45, 0x51, id); // REQ, then replace "\n" by " <ms>\n"
    this.outLength--;
    this.write(cmd.command(` ${Math.max(0, Math.floor(delayMs))}`));
  }

  private writeIdCommand(a: number, b: number, c: number, id: Uint8Array): void {
    const need = this.outLength + ID_COMMAND_LENGTH;
    if (need > this.out.length) this.grow(need);
    const o = this.out;
    const p = this.outLength;
    o[p] = a;
    o[p + 1] = b;
    o[p + 2] = c;
    o[p + 3] = 0x20;
    o.set(id, p + 4);
    o[p + 20] = 0x0a;
    this.outLength = need;
    this.scheduleFlush();
  }

  /** Ends the connection after writing what is queued. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.socket?.end();
  }

  /** Drops the connection at once, reporting `reason` to the handler. */
  destroy(reason?: Error): void {
    if (reason) this.closeReason ??= reason;
    if (this.socket !== null && !this.closed) this.socket.terminate();
    else this.onSocketClosed();
  }

  private grow(need: number): void {
    const grown = new Uint8Array(Math.max(need, this.out.length * 2));
    grown.set(this.out.subarray(0, this.outLength));
    this.out = grown;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.codec !== null) return this.flushEncoded();
    if (this.outLength === 0 || this.closed || this.socket === null) return;
    const n = this.socket.write(this.out.subarray(0, this.outLength));
    if (n <= 0) return; // full: drain calls flush again
    if (n < this.outLength) this.out.copyWithin(0, n, this.outLength);
    this.outLength -= n;
  }

  /** Encodes what is queued and writes what the socket takes of the encoded bytes. */
  private flushEncoded(): void {
    if (this.closed || this.socket === null) return;
    if (this.outLength > 0) {
      const encoded = this.codec!.encode(this.out.subarray(0, this.outLength));
      this.outLength = 0;
      this.wire = this.wire === null ? encoded : concat(this.wire, encoded);
    }
    const wire = this.wire;
    if (wire === null) return;
    const n = this.socket.write(wire);
    if (n <= 0) return; // full: drain calls flush again
    this.wire = n < wire.length ? wire.subarray(n) : null;
  }

  /** @internal */
  onTransportData(chunk: Uint8Array): void {
    this.lastReadAt = Date.now();
    try {
      if (this.inbox !== null) {
        if (this.codec !== null) this.codec.decode(chunk, this.appendInbox);
        else this.appendInbox(chunk);
        this.deliverInboxFrame();
      } else if (this.codec !== null) this.codec.decode(chunk, this.feedDecoded);
      else this.decoder.feed(chunk);
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  private onFrame(type: number, data: Uint8Array): void {
    const h = this.handler!;
    if (type === FRAME_TYPE_MESSAGE) h.onMessage(data);
    else if (type === FRAME_TYPE_RESPONSE) {
      if (isHeartbeat(data)) this.write(cmd.NOP);
      else h.onResponse(data);
    } else if (type === FRAME_TYPE_ERROR) h.onError(data);
  }

  /** @internal */
  onTransportDrain(): void {
    this.flush();
  }

  /** @internal */
  onTransportError(err: Error): void {
    this.closeReason ??= err;
  }

  /** @internal */
  onTransportClose(): void {
    this.onSocketClosed();
  }

  private onSocketClosed(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.readTimer) clearInterval(this.readTimer);
    this.codec?.close();
    this.frameWaiter?.reject(this.closeReason ?? new Error(`connection to ${this.address} closed while negotiating`));
    this.frameWaiter = null;
    this.handler?.onClose(this.closeReason);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function frameText(data: Uint8Array): string {
  return decoder.decode(data);
}
