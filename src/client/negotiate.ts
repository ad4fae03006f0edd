/**
 * What follows the magic on a new connection, in go-nsq's order: IDENTIFY (its
 * answer in plain text), the TLS upgrade and its OK, compression (deflate, else
 * snappy) and its OK, then AUTH when nsqd says auth_required.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { ConnectionOptions as TlsOptions } from "node:tls";
import { SnappyStream } from "../compress/snappy-stream.ts";
import { DeflateStream } from "../compress/sync-zlib.ts";
import { FRAME_TYPE_ERROR, FRAME_TYPE_RESPONSE } from "../protocol/frames.ts";
import * as cmd from "./commands.ts";
import { identifyBody, type ConnectionConfig } from "./config.ts";
import type { NegotiationFrame, NsqConnection } from "./connection.ts";

/** nsqd's answer to AUTH. */
export interface AuthResponse {
  identity: string;
  identity_url: string;
  permission_count: number;
}

/** An error frame nsqd sent while the connection was set up (IDENTIFY, the upgrades, AUTH). */
export class NegotiationError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "NegotiationError";
  }
}

const decoder = new TextDecoder();

/** The next frame that is not a heartbeat (answered here, as after the handshake). */
async function nextFrame(conn: NsqConnection): Promise<NegotiationFrame> {
  for (;;) {
    const frame = await conn.nextFrame();
    if (frame.type === FRAME_TYPE_RESPONSE && decoder.decode(frame.data) === "_heartbeat_") {
      conn.write(cmd.NOP);
      continue;
    }
    return frame;
  }
}

/** The response text of the next frame; an error frame throws with `what` and nsqd's text. */
async function expectResponse(conn: NsqConnection, what: string): Promise<string> {
  const frame = await nextFrame(conn);
  const text = decoder.decode(frame.data);
  if (frame.type === FRAME_TYPE_ERROR) {
    const space = text.indexOf(" ");
    throw new NegotiationError(space < 0 ? text : text.slice(0, space), `${what} failed: ${text}`);
  }
  if (frame.type !== FRAME_TYPE_RESPONSE) throw new Error(`${what}: unexpected frame type ${frame.type}`);
  return text;
}

async function expectOk(conn: NsqConnection, what: string): Promise<void> {
  const text = await expectResponse(conn, what);
  if (text !== "OK") throw new Error(`${what}: expected OK, got ${JSON.stringify(text)}`);
}

/** node:tls options for the settings: CA, client certificate, and the name checked against nsqd's certificate. */
function tlsOptions(c: ConnectionConfig, host: string): TlsOptions {
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`failed to read ${what} ${path}: ${(err as Error).message}`);
    }
  };
  const name = c.tlsServerName !== "" ? c.tlsServerName : host;
  const options: TlsOptions = {
    host: name,
    rejectUnauthorized: !c.tlsInsecureSkipVerify,
  };
  // SNI carries host names only
  if (isIP(name) === 0) options.servername = name;
  if (c.tlsInsecureSkipVerify) options.checkServerIdentity = () => undefined;
  if (c.tlsRootCaFile !== "") options.ca = read("tls_root_ca_file", c.tlsRootCaFile);
  if (c.tlsCert !== "") {
    options.cert = read("tls_cert", c.tlsCert);
    options.key = read("tls_key", c.tlsKey);
  }
  return options;
}

/** Runs the negotiation on a freshly dialed connection; throws when any step fails. */
export async function negotiate(conn: NsqConnection, c: ConnectionConfig, host: string): Promise<void> {
  // files are read before anything is sent, so a bad path fails fast
  const tls = c.tlsV1 ? tlsOptions(c, host) : null;
  conn.write(cmd.MAGIC_V2);
  conn.write(cmd.identify(identifyBody(c)));
  const text = await expectResponse(conn, "IDENTIFY");
  // an nsqd without feature negotiation answers OK
  const settings = text.startsWith("{") ? (JSON.parse(text) as Record<string, unknown>) : {};
  conn.serverSettings = settings;
  if (settings.tls_v1 === true && tls !== null) {
    await conn.startTls(tls);
    await expectOk(conn, "TLS upgrade");
  }
  if (settings.deflate === true && c.deflate) {
    conn.startCompression(new DeflateStream(c.deflateLevel));
    await expectOk(conn, "deflate upgrade");
  } else if (settings.snappy === true && c.snappy) {
    conn.startCompression(new SnappyStream());
    await expectOk(conn, "snappy upgrade");
  }
  if (settings.auth_required === true) {
    if (c.authSecret === "") throw new NegotiationError("E_AUTH_REQUIRED", "nsqd requires AUTH and no authSecret is set");
    conn.write(cmd.auth(c.authSecret));
    conn.auth = JSON.parse(await expectResponse(conn, "AUTH")) as AuthResponse;
  }
}
