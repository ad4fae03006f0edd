/**
 * One V2 connection from a worker to a sibling's private TCP port, subscribed to
 * a channel for one subscriber of the shared address: it identifies with the
 * subscriber's msg_timeout and sample_rate, so the sibling times out, samples
 * and counts attempts exactly as if the subscriber were connected to it. Message
 * frames and the non-fatal errors of forwarded commands are passed on as they
 * came; heartbeats are answered here.
 */
import type { Socket, SocketHandler, TLSOptions } from "bun";
import type { Logger } from "../common/logger.ts";
import {
  FRAME_TYPE_ERROR,
  FRAME_TYPE_MESSAGE,
  FRAME_TYPE_RESPONSE,
  HEARTBEAT,
  MAGIC_V2,
  readUint32BE,
  writeUint32BE,
} from "../protocol/frames.ts";

const encoder = new TextEncoder();
const NOP = encoder.encode("NOP\n");
const HEARTBEAT_BYTES = encoder.encode(HEARTBEAT);
/** Errors of FIN / REQ / TOUCH: the subscriber sees them as a direct connection would. */
const FORWARDED_ERRORS = ["E_FIN_FAILED", "E_REQ_FAILED", "E_TOUCH_FAILED"];

export interface LinkOwner {
  /** Message frames (and forwarded errors), encoded as the subscriber receives them. */
  deliver(frames: Uint8Array): void;
  /** SUB succeeded: the link can take RDY. */
  linkUp(link: RelayLink): void;
  /** The connection ended (or never opened). */
  linkDown(link: RelayLink): void;
}

export interface LinkIdentity {
  clientId: string;
  hostname: string;
  userAgent: string;
  msgTimeout: number;
  sampleRate: number;
  /** The subscriber's AUTH secret, sent to the sibling before SUB; null when it did not AUTH. */
  authSecret: string | null;
}

const enum LinkState {
  Connecting,
  Identifying,
  /** TLS handshake, then the sibling's OK over TLS. */
  Upgrading,
  Authenticating,
  Subscribing,
  Up,
  Closed,
}

export class RelayLink {
  private state = LinkState.Connecting;
  private socket: Socket<RelayLink> | null = null;
  /** Unparsed input (a partial frame) carried to the next read. */
  private rest: Uint8Array | null = null;
  /** Commands waiting for the end of this turn (or for drain). */
  private pending: Uint8Array = new Uint8Array(256);
  private pendingLength = 0;
  private flushQueued = false;
  private readonly flushNow = () => {
    this.flushQueued = false;
    this.flush();
  };
  /** RDY last sent (-1: none yet). */
  private sentReady = -1;
  private reported = false;
  /** Messages received and not yet finished or requeued through this link (an estimate: sibling timeouts are not seen). */
  inFlight = 0;
  /** Brought messages since the last RDY share (see Relay.share). */
  busy = false;
  /** Last message received or TOUCH sent on this link, ms. */
  lastActivity = Date.now();
  /** AUTH and SUB, sent once IDENTIFY (and the TLS upgrade) are through. */
  private afterIdentify: Uint8Array[] = [];
  private authenticates = false;

  constructor(
    readonly index: number,
    readonly port: number,
    private readonly owner: LinkOwner,
    private readonly logger: Logger,
    /** Client TLS options when the siblings require TLS (--tls-required), else null. */
    private readonly tls: TLSOptions | null = null,
  ) {}

  get up(): boolean {
    return this.state === LinkState.Up;
  }

  /** Not closed: a command given now is sent (after its SUB while it is still connecting, see command()). */
  get takesCommands(): boolean {
    return this.state !== LinkState.Closed;
  }

  /** Connects and subscribes; failures end in owner.linkDown(). */
  open(host: string, topic: string, channel: string, identity: LinkIdentity): void {
    const tls = this.tls !== null;
    const body = encoder.encode(
      JSON.stringify({
        client_id: identity.clientId,
        hostname: identity.hostname,
        user_agent: identity.userAgent,
        msg_timeout: identity.msgTimeout,
        sample_rate: identity.sampleRate,
        // the TLS upgrade is only offered with feature negotiation (a JSON answer)
        feature_negotiation: tls,
        tls_v1: tls,
      }),
    );
    const size = new Uint8Array(4);
    writeUint32BE(size, 0, body.length);
    this.write(encoder.encode(`${MAGIC_V2}IDENTIFY\n`));
    this.write(size);
    this.write(body);
    if (identity.authSecret !== null) {
      this.authenticates = true;
      const secret = encoder.encode(identity.authSecret);
      const secretSize = new Uint8Array(4);
      writeUint32BE(secretSize, 0, secret.length);
      this.afterIdentify.push(encoder.encode("AUTH\n"), secretSize, secret);
    }
    this.afterIdentify.push(encoder.encode(`SUB ${topic} ${channel}\n`));
    // without TLS the commands go at once (nsqd answers them in order); with TLS nothing may follow IDENTIFY before the handshake
    if (!tls) this.sendAfterIdentify();
    Bun.connect<RelayLink>({
      hostname: host,
      port: this.port,
      data: this,
      socket: {
        open: (socket) => {
          if (this.state === LinkState.Closed) return void socket.end();
          this.socket = socket;
          this.state = LinkState.Identifying;
          this.flush();
        },
        data: (socket, chunk) => {
          if (socket === this.socket) this.read(chunk);
        },
        drain: () => this.flush(),
        close: (socket) => {
          // the raw socket under TLS closes with the TLS one, which reports it
          if (socket === this.socket || this.state === LinkState.Connecting) this.down();
        },
        error: (_socket, err) => {
          this.logger.warn(`WORKERS: relay to worker ${this.index} failed - ${err.message}`);
          this.down();
        },
      },
    }).catch((err: Error) => {
      this.logger.warn(`WORKERS: relay to worker ${this.index} could not connect - ${err.message}`);
      this.down();
    });
  }

  private sendAfterIdentify(): void {
    for (const bytes of this.afterIdentify) this.write(bytes);
    this.afterIdentify = [];
  }

  /**
   * nsqd's in-place TLS upgrade after its IDENTIFY answer: the handshake runs on
   * the same socket, then the sibling says OK over TLS.
   */
  private upgrade(options: TLSOptions): void {
    const raw = this.socket!;
    this.socket = null;
    const handlers: SocketHandler<RelayLink> = {
      // the sibling's certificate is not verified (see linkTlsOptions), so a verification error (the
      // `success` flag) does not matter; a handshake that really failed ends in close
      handshake: (socket) => {
        this.socket = socket;
        this.flush();
      },
      data: (_socket, chunk) => this.read(chunk),
      drain: () => this.flush(),
      close: () => this.down(),
      error: (_socket, err) => {
        this.logger.warn(`WORKERS: relay to worker ${this.index} failed over TLS - ${err.message}`);
        this.down();
      },
    };
    this.state = LinkState.Upgrading;
    raw.upgradeTLS<RelayLink>({ data: this, tls: options, socket: handlers });
  }

  /** Sets this link's share of the subscriber's RDY. */
  ready(count: number): void {
    if (count === this.sentReady || this.state !== LinkState.Up) return;
    this.sentReady = count;
    this.write(encoder.encode(`RDY ${count}\n`));
  }

  /** A FIN / REQ / TOUCH line from the subscriber (buf[start, end)), for a message this link brought. */
  command(buf: Uint8Array, start: number, end: number): void {
    // FIN and REQ give the message back; TOUCH gives the sibling's timeout a new start
    if (buf[start] !== 0x54 /* T */) {
      if (this.inFlight > 0) this.inFlight--;
    } else this.lastActivity = Date.now();
    if (this.afterIdentify.length > 0) {
      // before a TLS upgrade nothing may follow IDENTIFY: the line goes after SUB, as all commands do
      const line = new Uint8Array(end - start + 1);
      line.set(buf.subarray(start, end));
      line[line.length - 1] = 0x0a;
      this.afterIdentify.push(line);
      return;
    }
    // one of these per relayed message: a byte loop over its ~40 bytes costs less
    // than a subarray view and TypedArray.set calls (28 % of a relaying worker's time)
    const length = end - start;
    this.reserve(length + 1);
    const pending = this.pending;
    let p = this.pendingLength;
    for (let i = start; i < end; i++) pending[p++] = buf[i];
    pending[p++] = 0x0a; // \n
    this.pendingLength = p;
    this.queueFlush();
  }

  close(): void {
    if (this.state === LinkState.Closed) return;
    this.state = LinkState.Closed;
    this.socket?.end();
  }

  /** Reports the end once, whichever of close, error or a failed connect comes first. */
  private down(): void {
    if (this.reported) return;
    this.reported = true;
    this.state = LinkState.Closed;
    this.socket = null;
    this.owner.linkDown(this);
  }

  private write(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.pending.set(bytes, this.pendingLength);
    this.pendingLength += bytes.length;
    this.queueFlush();
  }

  /** Room for `more` bytes after what is pending. */
  private reserve(more: number): void {
    const need = this.pendingLength + more;
    if (need <= this.pending.length) return;
    const grown = new Uint8Array(Math.max(need, this.pending.length * 2));
    grown.set(this.pending.subarray(0, this.pendingLength));
    this.pending = grown;
  }

  /** Sends what is pending at the end of this turn. */
  private queueFlush(): void {
    if (!this.flushQueued && this.socket !== null) {
      this.flushQueued = true;
      queueMicrotask(this.flushNow);
    }
  }

  private flush(): void {
    const socket = this.socket;
    if (socket === null || this.pendingLength === 0) return;
    const written = socket.write(this.pending.subarray(0, this.pendingLength));
    if (written <= 0) return;
    this.pending.copyWithin(0, written, this.pendingLength);
    this.pendingLength -= written;
  }

  private read(chunk: Uint8Array): void {
    let buf = chunk;
    const rest = this.rest;
    if (rest !== null) {
      this.rest = null;
      const missing = rest.length >= 4 ? 4 + readUint32BE(rest, 0) - rest.length : -1;
      if (missing < 0 || missing > chunk.length) {
        // a split size prefix, or a frame still incomplete: join and parse what is whole
        buf = concat(rest, chunk);
      } else {
        // complete the partial frame with only the bytes it lacks, not a copy of the whole chunk
        this.parse(concat(rest, chunk.subarray(0, missing)));
        buf = chunk.subarray(missing);
      }
    }
    const used = this.parse(buf);
    if (used < buf.length) this.rest = buf.slice(used);
  }

  /** Handles the whole frames at the start of `buf`; returns how many bytes they took. */
  private parse(buf: Uint8Array): number {
    let p = 0;
    // consecutive message frames are passed on in one piece
    let runStart = -1;
    while (buf.length - p >= 8) {
      const size = readUint32BE(buf, p);
      if (buf.length - p < 4 + size) break;
      const type = readUint32BE(buf, p + 4);
      if (type === FRAME_TYPE_MESSAGE) {
        if (runStart < 0) runStart = p;
        this.inFlight++;
        this.busy = true;
        p += 4 + size;
        continue;
      }
      if (runStart >= 0) {
        this.owner.deliver(buf.subarray(runStart, p));
        runStart = -1;
      }
      this.frame(type, buf.subarray(p, p + 4 + size));
      p += 4 + size;
    }
    if (runStart >= 0) {
      this.lastActivity = Date.now();
      this.owner.deliver(buf.subarray(runStart, p));
    }
    return p;
  }

  /** The state after IDENTIFY: waiting for AUTH's answer when there is an AUTH, else for SUB's. */
  private afterAuth(): LinkState {
    return this.authenticates ? LinkState.Authenticating : LinkState.Subscribing;
  }

  /** A response or error frame (whole, with its size prefix). */
  private frame(type: number, frame: Uint8Array): void {
    const data = frame.subarray(8);
    if (type === FRAME_TYPE_RESPONSE) {
      if (isBytes(data, HEARTBEAT_BYTES)) return this.write(NOP);
      switch (this.state) {
        case LinkState.Identifying:
          if (this.tls !== null) {
            // a sibling that does not offer TLS would never answer the handshake
            if (!new TextDecoder().decode(data).includes('"tls_v1":true')) {
              this.logger.error(`WORKERS: relay to worker ${this.index} refused - no TLS offered`);
              return this.close();
            }
            return this.upgrade(this.tls);
          }
          this.state = this.afterAuth();
          return;
        case LinkState.Upgrading:
          this.state = this.afterAuth();
          this.sendAfterIdentify();
          return;
        case LinkState.Authenticating:
          this.state = LinkState.Subscribing;
          return;
        case LinkState.Subscribing:
          this.state = LinkState.Up;
          this.owner.linkUp(this);
          return;
      }
      return;
    }
    if (type !== FRAME_TYPE_ERROR) return;
    const text = new TextDecoder().decode(data);
    if (this.state === LinkState.Up && FORWARDED_ERRORS.some((code) => text.startsWith(code))) {
      this.owner.deliver(frame);
      return;
    }
    this.logger.error(`WORKERS: relay to worker ${this.index} refused - ${text}`);
    this.close();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function isBytes(data: Uint8Array, expected: Uint8Array): boolean {
  if (data.length !== expected.length) return false;
  for (let i = 0; i < data.length; i++) if (data[i] !== expected[i]) return false;
  return true;
}
