/**
 * One TCP connection to nsqd speaking protocol V2: magic, IDENTIFY handshake,
 * frame decoding, heartbeat answers, and an output buffer written once per
 * event-loop turn (or on drain) so that many commands cost one socket write.
 */
import { FrameDecoder } from "../protocol/frame-decoder.ts";
import { FRAME_TYPE_ERROR, FRAME_TYPE_MESSAGE, FRAME_TYPE_RESPONSE } from "../protocol/frames.ts";
import * as cmd from "./commands.ts";
import { splitAddress } from "./address.ts";
import type { TimerHandle } from "./deferred.ts";
import { dial, type Transport, type TransportHandler } from "./transport.ts";

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

export interface ConnectionOptions {
  /** The IDENTIFY body. */
  identify: Record<string, unknown>;
  /** Give up connecting after this many ms. */
  dialTimeout: number;
  /** Close when nothing was read for this long (ms); 0 disables. */
  readTimeout: number;
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
  closed = false;

  private socket: Transport | null = null;
  private handler: ConnectionHandler | null = null;
  private out = new Uint8Array(16 * 1024);
  private outLength = 0;
  private flushScheduled = false;
  private lastReadAt = Date.now();
  private readTimer: TimerHandle | null = null;
  private readonly decoder: FrameDecoder;
  private handshake: ((type: number, data: Uint8Array) => void) | null = null;
  private closeReason: Error | undefined;

  private constructor(readonly address: string) {
    this.decoder = new FrameDecoder((type, data) => this.onFrame(type, data));
  }

  /** Dials, sends the magic and IDENTIFY, and resolves once nsqd accepted it. */
  static async connect(address: string, opts: ConnectionOptions): Promise<NsqConnection> {
    const conn = new NsqConnection(address);
    const { hostname, port } = splitAddress(address);
    let timer: TimerHandle | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        conn.destroy(new Error(`connecting to ${address} timed out after ${opts.dialTimeout}ms`));
        reject(new Error(`connecting to ${address} timed out after ${opts.dialTimeout}ms`));
      }, opts.dialTimeout);
    });
    try {
      const identified = new Promise<void>((resolve, reject) => {
        conn.handshake = (type, data) => {
          conn.handshake = null;
          if (type !== FRAME_TYPE_RESPONSE) return reject(new Error(`IDENTIFY failed: ${decoder.decode(data)}`));
          const text = decoder.decode(data);
          if (text !== "OK") conn.serverSettings = JSON.parse(text) as Record<string, unknown>;
          resolve();
        };
        conn.handler = {
          onMessage() {},
          onResponse() {},
          onError() {},
          onClose: (reason) => reject(reason ?? new Error(`connection to ${address} closed during IDENTIFY`)),
        };
      });
      identified.catch(() => {}); // a close before the socket is up is reported by the race below
      const dialing = dial(hostname, port, conn, opts.dialTimeout);
      // a socket that connects after the dial timed out is not kept
      dialing.then(
        (socket) => {
          if (conn.closed) socket.terminate();
        },
        () => {},
      );
      conn.socket = await Promise.race([dialing, timeout]);
      conn.write(cmd.MAGIC_V2);
      conn.write(cmd.identify(opts.identify));
      await Promise.race([identified, timeout]);
    } catch (err) {
      conn.destroy(err as Error);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    if (opts.readTimeout > 0) {
      const period = Math.max(10, opts.readTimeout / 4);
      conn.readTimer = setInterval(() => {
        if (Date.now() - conn.lastReadAt > opts.readTimeout) {
          conn.destroy(new Error(`no data from ${address} for ${opts.readTimeout}ms`));
        }
      }, period);
      conn.readTimer.unref();
    }
    return conn;
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
    if (this.outLength === 0 || this.closed || this.socket === null) return;
    const n = this.socket.write(this.out.subarray(0, this.outLength));
    if (n <= 0) return; // full: drain calls flush again
    if (n < this.outLength) this.out.copyWithin(0, n, this.outLength);
    this.outLength -= n;
  }

  /** @internal */
  onTransportData(chunk: Uint8Array): void {
    this.lastReadAt = Date.now();
    try {
      this.decoder.feed(chunk);
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  private onFrame(type: number, data: Uint8Array): void {
    if (this.handshake !== null) return this.handshake(type, data);
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
    this.handler?.onClose(this.closeReason);
  }
}

export function frameText(data: Uint8Array): string {
  return decoder.decode(data);
}
