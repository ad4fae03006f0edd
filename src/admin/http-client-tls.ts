/**
 * TLS for nsqadmin's requests to nsqds and nsqlookupds over HTTPS
 * (--http-client-tls-*), read once at start as NSQ's nsqadmin does, with its
 * messages when a file is missing or unusable.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AdminOptions } from "./options.ts";

/** Bun's fetch() `tls` option. */
export interface HttpClientTls {
  rejectUnauthorized: boolean;
  ca?: string;
  cert?: string;
  key?: string;
}

type TlsFlags = Pick<
  AdminOptions,
  "httpClientTlsCert" | "httpClientTlsKey" | "httpClientTlsRootCaFile" | "httpClientTlsInsecureSkipVerify"
>;

export function loadHttpClientTls(o: TlsFlags): HttpClientTls {
  if (o.httpClientTlsCert !== "" && o.httpClientTlsKey === "") {
    throw new Error("--http-client-tls-key must be specified with --http-client-tls-cert");
  }
  if (o.httpClientTlsKey !== "" && o.httpClientTlsCert === "") {
    throw new Error("--http-client-tls-cert must be specified with --http-client-tls-key");
  }
  const tls: HttpClientTls = { rejectUnauthorized: !o.httpClientTlsInsecureSkipVerify };
  if (o.httpClientTlsCert !== "") {
    try {
      tls.cert = readFileSync(o.httpClientTlsCert, "utf8");
      tls.key = readFileSync(o.httpClientTlsKey, "utf8");
      if (!new X509Certificate(tls.cert).checkPrivateKey(createPrivateKey(tls.key))) {
        throw new Error("private key does not match public key");
      }
    } catch (err) {
      throw new Error(
        `failed to LoadX509KeyPair ${o.httpClientTlsCert}, ${o.httpClientTlsKey} - ${(err as Error).message}`,
      );
    }
  }
  if (o.httpClientTlsRootCaFile !== "") {
    try {
      tls.ca = readFileSync(o.httpClientTlsRootCaFile, "utf8");
    } catch (err) {
      throw new Error(`failed to read TLS root CA file ${o.httpClientTlsRootCaFile} - ${(err as Error).message}`);
    }
    if (!tls.ca.includes("-----BEGIN CERTIFICATE-----")) {
      throw new Error(`failed to AppendCertsFromPEM ${o.httpClientTlsRootCaFile}`);
    }
  }
  return tls;
}
