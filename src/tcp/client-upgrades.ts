import type { Socket } from "bun";
import { SnappyStream } from "../compress/snappy-stream.ts";
import { DeflateStream } from "../compress/sync-zlib.ts";
import { fatal } from "../protocol/errors.ts";
import { FRAME_OK } from "../protocol/frames.ts";
import type { ClientHost, ClientV2 } from "./client-v2.ts";
import { CompressedTransport } from "./compressed-transport.ts";
import { handshakeProblem } from "./tls.ts";

export type Compression = "" | "snappy" | "deflate";

/**
 * The in-place upgrades IDENTIFY negotiates for a connection, in nsqd's order: the
 * IDENTIFY response in plain text, then the TLS handshake and its OK, then
 * compression and its OK. They switch the connection's socket and transport state.
 */
export class ClientUpgrades {
  /** Compression negotiated to follow the TLS handshake. */
  private compressionAfterTls: Compression = "";
  private deflateLevelAfterTls = 0;

  constructor(
    private readonly client: ClientV2,
    private readonly host: ClientHost,
  ) {}

  /** Starts what IDENTIFY negotiated, once its response is buffered. */
  begin(tlsV1: boolean, compression: Compression, deflateLevel: number): void {
    if (tlsV1) this.upgradeTls(compression, deflateLevel);
    else if (compression !== "") this.compress(compression, deflateLevel);
  }

  /** Starts the TLS handshake on the client's socket once the IDENTIFY response is out. */
  private upgradeTls(compression: Compression, deflateLevel: number): void {
    const client = this.client;
    this.host.nsqd.logger.info(`PROTOCOL(V2): [${client}] upgrading connection to TLS`);
    client.flush();
    if (client.out.length > 0) throw fatal("E_IDENTIFY_FAILED", "IDENTIFY failed socket not writable");
    client.handshaking = true;
    // commands wait for the handshake; the raw socket's own events stop reaching the client
    client.parser.pause();
    const [raw, tlsSocket] = client.socket.upgradeTLS<ClientV2>({
      data: client,
      tls: this.host.tls!.options,
      socket: this.host.tlsHandlers,
    });
    (raw as Socket<ClientV2 | undefined>).data = undefined;
    client.socket = tlsSocket;
    this.compressionAfterTls = compression;
    this.deflateLevelAfterTls = deflateLevel;
  }

  /** The TLS socket's handshake event. */
  onHandshake(success: boolean, authError: Error | null): void {
    const client = this.client;
    if (!client.handshaking || client.closed) return;
    client.handshaking = false;
    const problem = success ? handshakeProblem(this.host.tls!, client.socket, authError) : (authError?.message ?? "handshake failed");
    if (problem !== null) {
      this.host.nsqd.logger.error(`PROTOCOL(V2): [${client}] TLS handshake failed - ${problem}`);
      return client.close();
    }
    client.tls = true;
    client.tlsRequired = false;
    client.respond(FRAME_OK);
    if (this.compressionAfterTls !== "") this.compress(this.compressionAfterTls, this.deflateLevelAfterTls);
    client.parser.resume();
  }

  /** Everything buffered so far leaves as it is; from the OK on, both directions are compressed. */
  private compress(kind: "snappy" | "deflate", level: number): void {
    const client = this.client;
    this.host.nsqd.logger.info(`PROTOCOL(V2): [${client}] upgrading connection to ${kind}`);
    const codec = kind === "snappy" ? new SnappyStream() : new DeflateStream(level);
    client.compressed = new CompressedTransport(codec, client.parser, client.out);
    client.respond(FRAME_OK);
  }
}
