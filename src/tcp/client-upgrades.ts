import { SnappyStream } from "../compress/snappy-stream.ts";
import { DeflateStream } from "../compress/sync-zlib.ts";
import { fatal } from "../protocol/errors.ts";
import { FRAME_OK } from "../protocol/frames.ts";
import type { ClientHost, ClientV2 } from "./client-v2.ts";
import type { Transport } from "./transport.ts";

export type Compression = "" | "snappy" | "deflate";

/**
 * The in-place upgrades IDENTIFY negotiates for a connection, in nsqd's order: the
 * IDENTIFY response in plain text, then the TLS handshake and its OK, then
 * compression and its OK. Commands wait from the upgrade to the end of its
 * handshake. The connection's Transport does the switching.
 */
export class ClientUpgrades {
  /** Compression negotiated to follow the TLS handshake. */
  private compressionAfterTls: Compression = "";
  private deflateLevelAfterTls = 0;

  constructor(
    private readonly client: ClientV2,
    private readonly transport: Transport<ClientV2>,
    private readonly host: ClientHost,
  ) {}

  /** Starts what IDENTIFY negotiated, once its response is queued. */
  begin(tlsV1: boolean, compression: Compression, deflateLevel: number): void {
    if (tlsV1) this.upgradeTls(compression, deflateLevel);
    else if (compression !== "") this.compress(compression, deflateLevel);
  }

  /** Starts the TLS handshake once the IDENTIFY response is out. */
  private upgradeTls(compression: Compression, deflateLevel: number): void {
    const transport = this.transport;
    this.host.nsqd.logger.info(`PROTOCOL(V2): [${this.client}] upgrading connection to TLS`);
    transport.flush();
    if (transport.pendingBytes > 0) throw fatal("E_IDENTIFY_FAILED", "IDENTIFY failed socket not writable");
    this.client.parser.pause();
    transport.startTls(this.host.tls!.options, this.host.tlsHandlers, this.client);
    this.compressionAfterTls = compression;
    this.deflateLevelAfterTls = deflateLevel;
  }

  /** The TLS socket's handshake event. */
  onHandshake(success: boolean, authError: Error | null): void {
    const client = this.client;
    const transport = this.transport;
    if (!transport.isHandshaking || transport.isClosed) return;
    const problem = success ? transport.handshakeProblem(this.host.tls!, authError) : (authError?.message ?? "handshake failed");
    transport.endHandshake(problem === null);
    if (problem !== null) {
      this.host.nsqd.logger.error(`PROTOCOL(V2): [${client}] TLS handshake failed - ${problem}`);
      return client.close();
    }
    client.respond(FRAME_OK);
    if (this.compressionAfterTls !== "") this.compress(this.compressionAfterTls, this.deflateLevelAfterTls);
    client.parser.resume();
  }

  /** Everything queued so far leaves as it is; from the OK on, both directions are compressed. */
  private compress(kind: "snappy" | "deflate", level: number): void {
    this.host.nsqd.logger.info(`PROTOCOL(V2): [${this.client}] upgrading connection to ${kind}`);
    this.transport.compress(kind === "snappy" ? new SnappyStream() : new DeflateStream(level));
    this.client.respond(FRAME_OK);
  }
}
