/** nsqlookupd's TCP door: Bun.listen, one LookupClientV1 per connection; a failure costs that connection only. */
import type { Socket, TCPSocketListener } from "bun";
import { encodeV1Response } from "./v1-codec.ts";
import { LookupClientV1, type LookupContext } from "./protocol-v1.ts";
import { SocketWriter } from "./socket-writer.ts";

interface ConnState {
  client: LookupClientV1;
  writer: SocketWriter;
}

export class LookupTcpServer {
  private listener: TCPSocketListener<ConnState> | null = null;
  private readonly connections = new Set<Socket<ConnState>>();

  constructor(private readonly ctx: LookupContext) {}

  get port(): number {
    return this.listener?.port ?? 0;
  }

  listen(hostname: string, port: number): void {
    try {
      this.listener = Bun.listen<ConnState>({
        hostname,
        port,
        socket: {
          open: (socket) => this.accept(socket),
          // socket.data is unset when the client was gone before open
          data: (socket, chunk) => socket.data?.client.onData(chunk),
          drain: (socket) => socket.data?.writer.onDrain(),
          close: (socket) => {
            this.connections.delete(socket);
            socket.data?.client.onClose();
          },
          // Bun reports here both the socket's errors and exceptions thrown by the handlers
          // above: either way only this connection ends, never the process
          error: (socket, err) => {
            this.ctx.logger.error(`client(${socket.data?.client}) socket error - ${err.stack ?? err.message}`);
            socket.terminate();
          },
        },
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new Error(`listen (${hostname}:${port}) failed - ${(err as Error).message}${code ? ` (${code})` : ""}`);
    }
    this.ctx.logger.info(`TCP: listening on ${this.listener.hostname}:${this.listener.port}`);
  }

  private accept(socket: Socket<ConnState>): void {
    const ip = socket.remoteAddress;
    if (ip === undefined) {
      // the client hung up before the connection was handed to us
      socket.terminate();
      return;
    }
    const remote = ip.includes(":") ? `[${ip}]:${socket.remotePort}` : `${ip}:${socket.remotePort}`;
    const writer = new SocketWriter(socket);
    const conn = { send: (data: string | Uint8Array) => writer.write(encodeV1Response(data)), end: () => writer.end() };
    socket.data = { client: new LookupClientV1(this.ctx, conn, remote), writer };
    this.connections.add(socket);
    this.ctx.logger.info(`TCP: new client(${remote})`);
  }

  /** Stops accepting and closes every connection. */
  close(): void {
    this.listener?.stop(true);
    this.listener = null;
    for (const socket of this.connections) socket.terminate();
    this.connections.clear();
  }
}
