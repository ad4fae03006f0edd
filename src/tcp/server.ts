import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import type { AuthServers } from "../auth/query.ts";
import type { NSQD } from "../core/nsqd.ts";
import { FRAME_TYPE_ERROR, encodeFrame } from "../protocol/frames.ts";
import { ClientV2, type ClientHost } from "./client-v2.ts";
import type { RelayOpener } from "./relay-hook.ts";
import type { TlsSettings } from "./tls.ts";

/** How often heartbeats are sent and read deadlines checked. */
const TICK_MS = 100;

/**
 * nsqd's TCP door: accepts connections with Bun.listen, gives each a ClientV2,
 * writes buffered output once per event-loop turn, and sends heartbeats and
 * enforces read deadlines from one timer for all connections.
 */
export class TcpServer implements ClientHost {
  /** The first is the address nsqd announces; a worker adds the address it shares with its siblings. */
  private listeners: TCPSocketListener<ClientV2>[] = [];
  readonly clients = new Set<ClientV2>();
  private nextClientId = 0;
  private ticker: ReturnType<typeof setInterval> | null = null;
  readonly auth: AuthServers | null;
  /** Clients of the first address never relay (see listen()). */
  readonly relays: RelayOpener | null = null;
  readonly tlsHandlers: SocketHandler<ClientV2> = {
    handshake: (socket, success, authError) => socket.data.onHandshake(success, authError),
    data: (socket, chunk) => socket.data.onData(chunk),
    drain: (socket) => socket.data.onDrain(),
    close: (socket) => socket.data.onClose(),
    error: (socket, err) => {
      this.nsqd.logger.error(`[${socket.data}] TLS socket error - ${err.stack ?? err.message}`);
      socket.terminate();
    },
  };

  constructor(
    readonly nsqd: NSQD,
    /** From --tls-cert and friends (loadTlsSettings); null without TLS. */
    readonly tls: TlsSettings | null = null,
  ) {
    const opts = nsqd.options;
    this.auth =
      opts.authHttpAddresses.length === 0
        ? null
        : {
            addresses: opts.authHttpAddresses,
            method: opts.authHttpRequestMethod as AuthServers["method"],
            timeoutMs: opts.httpClientConnectTimeout + opts.httpClientRequestTimeout,
          };
  }

  get port(): number {
    return this.listeners[0]?.port ?? 0;
  }

  get hostname(): string {
    return this.listeners[0]?.hostname ?? "";
  }

  /**
   * Listens on one more address. A worker of `--workers=N` listens on the address
   * it shares with its siblings with `reusePort` (other processes may listen on
   * it too) and `relays` (its subscribers also get the siblings' messages).
   */
  listen(hostname: string, port: number, shared: { reusePort: boolean; relays: RelayOpener } | null = null): void {
    let listener: TCPSocketListener<ClientV2>;
    const host: ClientHost =
      shared === null
        ? this
        : {
            nsqd: this.nsqd,
            tls: this.tls,
            tlsHandlers: this.tlsHandlers,
            auth: this.auth,
            relays: shared.relays,
            closed: (client) => this.closed(client),
          };
    try {
      listener = this.bind(hostname, port, shared?.reusePort ?? false, host);
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new Error(`listen (${hostname}:${port}) failed - ${(err as Error).message}${code ? ` (${code})` : ""}`);
    }
    this.listeners.push(listener);
    this.ticker ??= setInterval(() => this.tick(), TICK_MS);
    this.nsqd.logger.info(`TCP: listening on ${listener.hostname}:${listener.port}`);
  }

  private bind(hostname: string, port: number, reusePort: boolean, host: ClientHost): TCPSocketListener<ClientV2> {
    // bun-types does not declare reusePort for Bun.listen, though Bun honours it
    return Bun.listen<ClientV2>({
      hostname,
      port,
      ...({ reusePort } as object),
      socket: {
        open: (socket) => this.accept(socket, host),
        // socket.data is unset for a connection refused by --max-connections
        data: (socket, chunk) => socket.data?.onData(chunk),
        drain: (socket) => socket.data?.onDrain(),
        close: (socket) => socket.data?.onClose(),
        // Bun reports here both the socket's errors and exceptions thrown by the handlers
        // above: either way only this connection ends, never the process
        error: (socket, err) => {
          this.nsqd.logger.error(`[${socket.data}] socket error - ${err.stack ?? err.message}`);
          socket.terminate();
        },
      },
    });
  }

  private accept(socket: Socket<ClientV2>, host: ClientHost): void {
    if (socket.remoteAddress === undefined) {
      // the client hung up before the connection was handed to us
      socket.terminate();
      return;
    }
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const max = this.nsqd.options.maxConnections;
    if (max > 0 && this.clients.size >= max) {
      // refused before the magic: the frame tells NSQ clients why, then the socket closes
      this.nsqd.logger.warn(`TCP: refusing client(${remote}): --max-connections=${max} reached`);
      socket.write(encodeFrame(FRAME_TYPE_ERROR, `E_INVALID too many connections (max ${max})`));
      socket.end();
      return;
    }
    const client = new ClientV2(++this.nextClientId, socket, host, remote);
    socket.data = client;
    this.clients.add(client);
    this.nsqd.logger.info(`TCP: new client(${remote})`);
  }

  closed(client: ClientV2): void {
    this.clients.delete(client);
  }

  private tick(): void {
    const now = Date.now();
    for (const client of this.clients) client.tick(now);
  }

  /** Stops accepting and closes every connection. */
  close(): void {
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
    for (const listener of this.listeners) listener.stop(true);
    this.listeners = [];
    for (const client of this.clients) client.close();
  }
}
