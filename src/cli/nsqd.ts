#!/usr/bin/env bun
/**
 * The nsqd program: flags and config file to options, then the broker model and
 * its TCP door, and process concerns (signals, exit codes).
 */
import { mkdirSync } from "node:fs";
import { NSQD } from "../core/nsqd.ts";
import { Logger } from "../core/logger.ts";
import { nsqdOptionTable, resolveNsqdOptions, type NsqdOptions } from "../core/options.ts";
import { TcpServer } from "../tcp/server.ts";
import { HttpServer } from "../http/server.ts";
import { LookupPeers } from "../lookupd/nsqd-peers.ts";
import { splitHostPort } from "./address.ts";
import { main } from "./program.ts";

export interface RunningNsqd {
  nsqd: NSQD;
  tcp: TcpServer;
  /** The TCP port actually bound (useful with port 0). */
  tcpPort: number;
  http: HttpServer;
  /** The HTTP port actually bound. */
  httpPort: number;
  /** Connections to --lookupd-tcp-address; setAddresses() changes them at run time. */
  lookupPeers: LookupPeers;
  /** Stops accepting, closes clients, writes what is in memory to disk, saves metadata. */
  stop(): void;
}

/** Options accepted by the flag table whose feature has not landed yet. */
function unsupported(options: NsqdOptions): string[] {
  const problems: string[] = [];
  if (options.tlsCert !== "") problems.push("--tls-cert/--tls-key (TLS)");
  if (options.authHttpAddresses.length > 0) problems.push("--auth-http-address (AUTH)");
  if (options.statsdAddress !== "") problems.push("--statsd-address (statsd)");
  return problems;
}

export function startNsqd(options: NsqdOptions, logger?: Logger): RunningNsqd {
  const problems = unsupported(options);
  if (problems.length > 0) throw new Error(`not supported yet by bunsq: ${problems.join(", ")}`);
  if (options.dataPath !== "") mkdirSync(options.dataPath, { recursive: true });
  const nsqd = new NSQD(options, logger);
  nsqd.start(); // locks the data path and restores topics before any client can connect
  const tcp = new TcpServer(nsqd);
  const { hostname, port } = splitHostPort(options.tcpAddress);
  const lookupPeers = new LookupPeers(nsqd, {
    tcpPort: () => options.broadcastTcpPort || tcp.port,
    httpPort: () => options.broadcastHttpPort || http.port,
  });
  const http = new HttpServer(nsqd, tcp, { onLookupdAddressesChanged: (a) => lookupPeers.setAddresses(a) });
  const httpAddress = splitHostPort(options.httpAddress);
  try {
    tcp.listen(hostname, port);
    http.listen(httpAddress.hostname, httpAddress.port);
  } catch (err) {
    tcp.close();
    nsqd.close(false);
    throw err;
  }
  lookupPeers.setAddresses(options.lookupdTcpAddresses);
  return {
    nsqd,
    tcp,
    tcpPort: tcp.port,
    http,
    httpPort: http.port,
    lookupPeers,
    stop() {
      lookupPeers.close();
      http.close();
      tcp.close();
      nsqd.close(true);
    },
  };
}

if (import.meta.main) {
  main({
    name: "nsqd",
    table: nsqdOptionTable,
    resolve: resolveNsqdOptions,
    start: startNsqd,
    banner: (options, logger) => logger.info(`ID: ${options.nodeId}`),
  });
}
