/**
 * nsqd's connection to one nsqlookupd. On every (re)connect it sends the magic,
 * IDENTIFY and a REGISTER for everything the nsqd has at that moment; afterwards
 * it forwards registrations as they happen. Commands are pipelined: V1 answers
 * come back in order, so a FIFO of what was sent pairs them up. When the
 * connection fails it retries with exponential backoff.
 */
import type { Socket } from "bun";
import { splitHostPort } from "../common/host-port.ts";
import type { Logger } from "../common/logger.ts";
import { MAGIC_V1 } from "../protocol/frames.ts";
import { SocketWriter } from "../lookupd/socket-writer.ts";
import { V1ResponseDecoder, encodeV1Command } from "../lookupd/v1-codec.ts";

export interface LookupPeerHost {
  readonly logger: Logger;
  /** The IDENTIFY body: this nsqd's broadcast address, ports, hostname, version. */
  identifyBody(): string;
  /** REGISTER lines for every topic and channel the nsqd has now. */
  registrations(): string[];
}

/** What the lookupd said about itself in answer to IDENTIFY. */
export interface LookupdInfo {
  broadcast_address?: string;
  hostname?: string;
  http_port?: number;
  tcp_port?: number;
  version?: string;
}

export interface BackoffSettings {
  /** First retry delay; doubled after each failure. */
  minMs: number;
  maxMs: number;
}

type State = "idle" | "connecting" | "connected" | "closed";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class LookupPeer {
  private state: State = "idle";
  private socket: Socket<undefined> | null = null;
  private writer: SocketWriter | null = null;
  /** Commands sent and not yet answered, oldest first, with when they were sent. */
  private readonly pending: { command: string; at: number }[] = [];
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  info: LookupdInfo | null = null;

  constructor(
    readonly address: string,
    private readonly host: LookupPeerHost,
    private readonly backoff: BackoffSettings,
  ) {}

  get connected(): boolean {
    return this.state === "connected";
  }

  connect(): void {
    if (this.state !== "idle") return;
    this.state = "connecting";
    this.host.logger.info(`LOOKUP connecting to ${this.address}`);
    const { hostname, port } = splitHostPort(this.address, "0.0.0.0");
    const decoder = new V1ResponseDecoder((data) => this.onResponse(data));
    Bun.connect({
      hostname,
      port,
      socket: {
        open: (socket) => this.onOpen(socket),
        data: (socket, chunk) => {
          try {
            decoder.feed(chunk);
          } catch (err) {
            this.host.logger.error(`LOOKUPD(${this.address}): ${(err as Error).message}`);
            socket.terminate();
          }
        },
        drain: () => this.writer?.onDrain(),
        close: () => this.onClosed(),
        error: (_socket, err) => this.host.logger.error(`LOOKUPD(${this.address}): socket error - ${err.message}`),
      },
    }).catch((err: Error) => {
      this.host.logger.error(`LOOKUPD(${this.address}): failed to connect - ${err.message}`);
      this.onClosed();
    });
  }

  /** Sends a command if connected; while disconnected the next connect re-registers everything. */
  send(command: string): void {
    if (this.state !== "connected") return;
    this.pending.push({ command, at: Date.now() });
    this.writer!.write(encoder.encode(`${command}\n`));
  }

  /** Sends PING, or drops a connection whose oldest command has gone unanswered too long. */
  ping(staleAfterMs: number): void {
    if (this.state !== "connected") return;
    const oldest = this.pending[0];
    if (oldest !== undefined && Date.now() - oldest.at > staleAfterMs) {
      this.host.logger.error(`LOOKUPD(${this.address}): no answer to ${oldest.command}, reconnecting`);
      this.socket?.terminate();
      return;
    }
    this.host.logger.debug(`LOOKUPD(${this.address}): sending heartbeat`);
    this.send("PING");
  }

  close(): void {
    this.state = "closed";
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.socket?.terminate();
    this.socket = null;
  }

  private onOpen(socket: Socket<undefined>): void {
    if (this.state === "closed") {
      socket.terminate();
      return;
    }
    this.socket = socket;
    this.writer = new SocketWriter(socket);
    this.state = "connected";
    this.pending.length = 0;
    this.writer.write(encoder.encode(MAGIC_V1));
    this.pending.push({ command: "IDENTIFY", at: Date.now() });
    this.writer.write(encodeV1Command("IDENTIFY", this.host.identifyBody()));
    for (const line of this.host.registrations()) this.send(line);
  }

  private onResponse(data: Uint8Array): void {
    const sent = this.pending.shift();
    const text = decoder.decode(data);
    if (text.startsWith("E_")) {
      this.host.logger.error(`LOOKUPD(${this.address}): ${sent?.command ?? "command"} failed - ${text}`);
      return;
    }
    if (sent?.command !== "IDENTIFY") return;
    try {
      this.info = JSON.parse(text) as LookupdInfo;
    } catch {
      this.info = null;
    }
    this.failures = 0;
    this.host.logger.info(`LOOKUPD(${this.address}): peer info ${text}`);
  }

  private onClosed(): void {
    this.socket = null;
    this.writer = null;
    this.pending.length = 0;
    if (this.state === "closed") return;
    this.state = "idle";
    const delay = Math.min(this.backoff.minMs * 2 ** this.failures, this.backoff.maxMs);
    this.failures++;
    this.host.logger.warn(`LOOKUPD(${this.address}): connection lost, retrying in ${delay}ms`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }
}
