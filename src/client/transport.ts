/**
 * The client's byte transport: one TCP connection behind one small interface, so
 * the rest of the client runs on Bun and on Node alike.
 *
 * On Bun it dials with `Bun.connect` (measured faster than Bun's `node:net` for
 * the bench pair, see docs/client-node.md); elsewhere with `node:net`. Both give
 * the handler a fresh buffer per read, so views of a chunk stay valid after the
 * callback returns.
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from "node:tls";

/** What a transport reports. Implemented by NsqConnection (no closure per event). */
export interface TransportHandler {
  /** Bytes read; the chunk is not reused by the transport. */
  onTransportData(chunk: Uint8Array): void;
  /** A write that returned less than asked can be retried now. */
  onTransportDrain(): void;
  /** The socket failed; `onTransportClose` follows. */
  onTransportError(err: Error): void;
  /** The socket is closed (by either side, or destroyed). */
  onTransportClose(): void;
}

/** A connected socket. */
export interface Transport {
  /**
   * Writes what it can of `data` and returns the number of bytes taken (the
   * caller may reuse `data` afterwards); 0 or less when the socket is full, in
   * which case `onTransportDrain` is called once it can take more.
   */
  write(data: Uint8Array): number;
  /** Closes after the bytes already taken are sent. */
  end(): void;
  /** Closes at once (the name is Bun's, so a Bun socket is a Transport as it is). */
  terminate(): void;
  /**
   * Runs a TLS client handshake on the connected socket and carries on over TLS
   * (nsqd's in-place upgrade). Only the node:net transport has it.
   * @internal
   */
  startTls?(options: TlsOptions): Promise<void>;
}

export type TransportKind = "bun" | "node";

/** The subset of Bun's TCP socket the transport uses (kept local so the types build without bun-types). */
interface BunSocket {
  write(data: Uint8Array): number;
  end(): void;
  terminate(): void;
}

interface BunRuntime {
  connect(options: {
    hostname: string;
    port: number;
    socket: {
      data(socket: BunSocket, chunk: Uint8Array): void;
      drain(socket: BunSocket): void;
      close(socket: BunSocket): void;
      error(socket: BunSocket, err: Error): void;
    };
  }): Promise<BunSocket>;
}

const bun = (globalThis as { Bun?: BunRuntime }).Bun;

/** "bun" when running on Bun, else "node". */
export const defaultTransportKind: TransportKind = bun !== undefined ? "bun" : "node";

/**
 * Connects to `hostname:port`; rejects if the connection cannot be made. With
 * node:net a connect still pending after `timeoutMs` is abandoned (so it does not
 * keep the process alive); callers race their own timeout in any case.
 */
export function dial(
  hostname: string,
  port: number,
  handler: TransportHandler,
  timeoutMs = 0,
  kind: TransportKind = defaultTransportKind,
): Promise<Transport> {
  return kind === "bun" && bun !== undefined
    ? dialBun(bun, hostname, port, handler)
    : dialNode(hostname, port, handler, timeoutMs);
}

function dialBun(runtime: BunRuntime, hostname: string, port: number, h: TransportHandler): Promise<Transport> {
  // Bun's socket is used as the Transport itself: no wrapper call on the write path
  return runtime.connect({
    hostname,
    port,
    socket: {
      data: (_s, chunk) => h.onTransportData(chunk),
      drain: () => h.onTransportDrain(),
      close: () => h.onTransportClose(),
      error: (_s, err) => h.onTransportError(err),
    },
  });
}

function dialNode(hostname: string, port: number, h: TransportHandler, timeoutMs: number): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: hostname, port });
    let connected = false;
    socket.setNoDelay(true);
    const timer =
      timeoutMs > 0
        ? setTimeout(() => socket.destroy(new Error(`connecting to ${hostname}:${port} timed out`)), timeoutMs)
        : undefined;
    socket.once("connect", () => {
      connected = true;
      clearTimeout(timer);
      resolve(new NodeTransport(socket, h));
    });
    socket.on("error", (err: Error) => {
      if (connected) return;
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** A node:net (later maybe node:tls) socket as a Transport. */
class NodeTransport implements Transport {
  private readonly onData = (chunk: Uint8Array) => this.h.onTransportData(chunk);
  private readonly onDrain = () => this.h.onTransportDrain();
  private readonly onError = (err: Error) => this.h.onTransportError(err);
  private readonly onClose = () => this.h.onTransportClose();

  constructor(
    private socket: Socket,
    private readonly h: TransportHandler,
  ) {
    this.listen(socket);
  }

  write(data: Uint8Array): number {
    const socket = this.socket;
    if (socket.destroyed || socket.writableEnded) return -1;
    if (socket.writableNeedDrain) return 0;
    // node:net keeps the buffer until it is sent; the caller reuses its own
    socket.write(data.slice());
    return data.length;
  }

  end(): void {
    this.socket.end();
  }

  terminate(): void {
    this.socket.destroy();
  }

  async startTls(options: TlsOptions): Promise<void> {
    const raw = this.socket;
    this.unlisten(raw);
    // the raw socket's errors surface on the TLS socket; this only keeps them from being unhandled
    raw.on("error", () => {});
    const secure = tlsConnect({ ...options, socket: raw });
    this.socket = secure;
    this.listen(secure);
    await new Promise<void>((resolve, reject) => {
      const failed = (err?: Error) => {
        secure.removeListener("secureConnect", done);
        reject(err ?? new Error("connection closed during the TLS handshake"));
      };
      const closed = () => failed();
      const done = () => {
        secure.removeListener("error", failed);
        secure.removeListener("close", closed);
        resolve();
      };
      secure.once("secureConnect", done);
      secure.once("error", failed);
      secure.once("close", closed);
    });
  }

  private listen(socket: Socket): void {
    socket.on("data", this.onData);
    socket.on("drain", this.onDrain);
    socket.on("error", this.onError);
    socket.on("close", this.onClose);
  }

  private unlisten(socket: Socket): void {
    socket.removeListener("data", this.onData);
    socket.removeListener("drain", this.onDrain);
    socket.removeListener("error", this.onError);
    socket.removeListener("close", this.onClose);
  }
}
