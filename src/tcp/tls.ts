/**
 * nsqd's TLS settings as Bun TLS options, shared by the TCP upgrade and the HTTPS
 * listener, and the client certificate policy checked after each handshake.
 */
import type { Socket, TLSOptions } from "bun";
import { constants } from "node:crypto";
import { readFileSync } from "node:fs";
import type { NsqdOptions, TlsVersionName } from "../core/options.ts";

/** Protocol versions below the minimum, switched off as OpenSSL options. */
const DISABLE_BELOW: Record<TlsVersionName, number> = {
  "ssl3.0": 0,
  "tls1.0": 0,
  "tls1.1": constants.SSL_OP_NO_TLSv1,
  "tls1.2": constants.SSL_OP_NO_TLSv1 | constants.SSL_OP_NO_TLSv1_1,
  "tls1.3": constants.SSL_OP_NO_TLSv1 | constants.SSL_OP_NO_TLSv1_1 | constants.SSL_OP_NO_TLSv1_2,
};

export interface TlsSettings {
  readonly options: TLSOptions;
  /** "require": any client certificate; "require-verify": one signed by --tls-root-ca-file. */
  readonly clientAuthPolicy: "" | "require" | "require-verify";
}

/** Reads the certificate files; null without --tls-cert. Throws with the file at fault. */
export function loadTlsSettings(opts: NsqdOptions): TlsSettings | null {
  if (opts.tlsCert === "") return null;
  const read = (flag: string, path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch (err) {
      throw new Error(`failed to read ${flag} ${path} - ${(err as Error).message}`);
    }
  };
  const policy = opts.tlsClientAuthPolicy as TlsSettings["clientAuthPolicy"];
  const options: TLSOptions = {
    cert: read("--tls-cert", opts.tlsCert),
    key: read("--tls-key", opts.tlsKey),
    requestCert: policy !== "",
    // "require" takes any certificate: its presence is checked after the handshake
    rejectUnauthorized: policy === "require-verify",
    secureOptions: DISABLE_BELOW[opts.tlsMinVersion as TlsVersionName],
  };
  if (opts.tlsRootCaFile !== "") options.ca = read("--tls-root-ca-file", opts.tlsRootCaFile);
  return { options, clientAuthPolicy: policy };
}

/** Why a finished handshake does not satisfy the policy, or null when it does. */
export function handshakeProblem(settings: TlsSettings, socket: Socket<unknown>, authError: Error | null): string | null {
  if (settings.clientAuthPolicy === "require-verify" && authError !== null) return authError.message;
  if (settings.clientAuthPolicy === "require" && peerCommonName(socket) === null) return "no client certificate";
  return null;
}

/** The subject common name of the peer's certificate, "" when it has none, null without a certificate. */
export function peerCommonName(socket: Socket<unknown>): string | null {
  const cert = socket.getPeerCertificate() as { subject?: { CN?: string | string[] } } | null | undefined;
  if (cert === null || cert === undefined || cert.subject === undefined) return null;
  const cn = cert.subject.CN;
  return Array.isArray(cn) ? (cn[0] ?? "") : (cn ?? "");
}
