import type { AuthState } from "../auth/authorizations.ts";
import { queryAnyAuthServer, type AuthServers } from "../auth/query.ts";
import type { Logger } from "../common/logger.ts";
import { ClientError, fatal } from "../protocol/errors.ts";
import { FRAME_TYPE_RESPONSE, encodeFrame } from "../protocol/frames.ts";
import { goQuote } from "../protocol/go-quote.ts";
import type { ClientV2 } from "./client-v2.ts";
import type { Transport } from "./transport.ts";

const utf8 = new TextDecoder();
const encoder = new TextEncoder();
const goQuoteText = (s: string) => goQuote(encoder.encode(s));

/**
 * AUTH of one connection to an nsqd run with --auth-http-address: the secret the
 * client sent, what the auth servers granted for it, and nsqd's CheckAuth before
 * SUB and publishes. While a server is asked, the connection's commands wait.
 */
export class ClientAuth {
  /** The auth servers' last answer; null before AUTH. */
  state: AuthState | null = null;
  private secretText = "";

  constructor(
    private readonly client: ClientV2,
    private readonly transport: Transport<ClientV2>,
    private readonly servers: AuthServers,
    private readonly logger: Logger,
  ) {}

  /** The secret of a successful AUTH (the workers' relay links AUTH with it), else null. */
  get secret(): string | null {
    return this.state !== null && this.state.authorizations.length > 0 ? this.secretText : null;
  }

  /** AUTH: asks the auth servers about the secret in `body`, then answers with the identity they grant. */
  authenticate(body: Uint8Array): void {
    if (this.state !== null && this.state.authorizations.length > 0) throw fatal("E_INVALID", "AUTH already set");
    this.secretText = utf8.decode(body);
    this.query(() => {
      const state = this.state!;
      if (state.authorizations.length === 0) throw fatal("E_UNAUTHORIZED", "AUTH no authorizations found");
      const response = JSON.stringify({
        identity: state.identity,
        identity_url: state.identityUrl,
        permission_count: state.authorizations.length,
      });
      this.client.respond(encodeFrame(FRAME_TYPE_RESPONSE, response));
    });
  }

  /**
   * nsqd's CheckAuth: AUTH must have succeeded and allow `cmd` on the topic (and
   * the channel, for a SUB) before run() does the command; expired authorizations
   * are fetched again first (commands wait meanwhile).
   */
  authorize(cmd: string, topic: string, channel: string, run: () => void): void {
    const state = this.state;
    if (state === null || state.authorizations.length === 0) throw fatal("E_AUTH_FIRST", `AUTH required before ${cmd}`);
    if (state.isExpired()) this.query(() => this.runIfAllowed(cmd, topic, channel, run));
    else this.runIfAllowed(cmd, topic, channel, run);
  }

  private runIfAllowed(cmd: string, topic: string, channel: string, run: () => void): void {
    if (!this.state!.isAllowed(topic, channel)) {
      throw fatal("E_UNAUTHORIZED", `AUTH failed for ${cmd} on ${goQuoteText(topic)} ${goQuoteText(channel)}`);
    }
    run();
  }

  /** Asks the auth servers with the stored secret; commands wait until then() has run. */
  private query(then: () => void): void {
    const client = this.client;
    client.parser.pause();
    const remote = client.remoteAddress;
    const tls = this.transport.isTls;
    const query = {
      remoteIp: remote.slice(0, remote.lastIndexOf(":")).replace(/^\[|\]$/g, ""),
      tls,
      secret: this.secretText,
      commonName: tls ? (this.transport.peerCommonName() ?? "") : "",
    };
    queryAnyAuthServer(query, this.servers).then(
      (state) => {
        if (this.transport.isClosed) return;
        this.state = state;
        this.guarded(then);
      },
      (err: Error) => {
        if (this.transport.isClosed) return;
        // errors reaching the auth server are not the client's business
        this.logger.warn(`PROTOCOL(V2): [${client}] AUTH failed ${err.message}`);
        this.guarded(() => {
          throw fatal("E_AUTH_FAILED", "AUTH failed");
        });
      },
    );
  }

  /** Runs a command continuation outside the parser, then lets the parser go on. */
  private guarded(run: () => void): void {
    try {
      run();
      this.client.parser.resume();
    } catch (err) {
      if (err instanceof ClientError) return this.client.sendError(err);
      this.logger.error(`[${this.client}] internal error - ${(err as Error).stack ?? err}`);
      this.client.close();
    }
  }
}
