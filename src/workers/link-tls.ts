/**
 * The client side of TLS for the relay links between workers. With
 * --tls-required a sibling's private port, like any nsqd, wants the in-place TLS
 * upgrade after IDENTIFY, so a link upgrades as a client would, presenting the
 * nsqd's own certificate (every worker has the same one) for
 * --tls-client-auth-policy.
 */
import type { TLSOptions } from "bun";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { NsqdOptions } from "../core/options.ts";

/** The extended key usage that lets a certificate authenticate a TLS client. */
const CLIENT_AUTH_EKU = "1.3.6.1.5.5.7.3.2";

/** The links' client TLS options; null when the siblings do not require TLS. Throws when they cannot satisfy the policy. */
export function linkTlsOptions(opts: NsqdOptions): TLSOptions | null {
  if (opts.tlsRequired === "false" || opts.tlsCert === "") return null;
  const cert = readFileSync(opts.tlsCert, "utf8");
  if (opts.tlsClientAuthPolicy === "require-verify") checkClientCertificate(cert, opts);
  return {
    cert,
    key: readFileSync(opts.tlsKey, "utf8"),
    // Not verified: a link dials a sibling's private port that the supervisor
    // announced, on the worker's own host, and the sibling holds the very
    // certificate this worker holds; a name check against the dialled address
    // would only fail certificates made for the public host name.
    rejectUnauthorized: false,
  };
}

/**
 * With require-verify a sibling accepts the link only if the nsqd's certificate
 * is signed by --tls-root-ca-file and may serve as a client certificate.
 */
function checkClientCertificate(certPem: string, opts: NsqdOptions): void {
  const cert = new X509Certificate(certPem);
  const usage = cert.keyUsage;
  if (usage !== undefined && !usage.includes(CLIENT_AUTH_EKU)) {
    throw new Error(
      "--workers with --tls-client-auth-policy=require-verify needs a --tls-cert that may authenticate a client " +
        "(extendedKeyUsage clientAuth, or none): the workers' links present it to each other",
    );
  }
  if (opts.tlsRootCaFile === "") return;
  const ca = new X509Certificate(readFileSync(opts.tlsRootCaFile, "utf8"));
  if (!cert.verify(ca.publicKey)) {
    throw new Error(
      "--workers with --tls-client-auth-policy=require-verify needs a --tls-cert signed by --tls-root-ca-file: " +
        "the workers' links present it to each other",
    );
  }
}
