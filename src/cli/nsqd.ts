#!/usr/bin/env bun
/**
 * The nsqd program: flags and config file to options, then the broker model and
 * its TCP door, and process concerns (signals, exit codes).
 */
import { mkdirSync } from "node:fs";
import { NSQD } from "../core/nsqd.ts";
import { Logger } from "../common/logger.ts";
import { nsqdOptionTable, resolveNsqdOptions, type NsqdOptions } from "../core/options.ts";
import { TcpServer } from "../tcp/server.ts";
import { loadTlsSettings } from "../tcp/tls.ts";
import { StatsdPusher } from "../statsd/pusher.ts";
import { statsdPrefix } from "../statsd/packets.ts";
import { HttpServer } from "../http/server.ts";
import { LookupPeers } from "../lookupd/nsqd-peers.ts";
import { lookupdChannelDiscovery } from "../lookupd/channel-discovery.ts";
import { splitHostPort } from "../common/host-port.ts";
import { main } from "./program.ts";

export interface RunningNsqd {
  nsqd: NSQD;
  tcp: TcpServer;
  /** The TCP port actually bound (useful with port 0). */
  tcpPort: number;
  http: HttpServer;
  /** The HTTP port actually bound. */
  httpPort: number;
  /** The HTTPS port actually bound (0 without TLS). */
  httpsPort: number;
  /** Connections to --lookupd-tcp-address; setAddresses() changes them at run time. */
  lookupPeers: LookupPeers;
  /** Stops accepting, closes clients, writes what is in memory to disk, saves metadata. */
  stop(): void;
}

export function startNsqd(options: NsqdOptions, logger?: Logger): RunningNsqd {
  const tls = loadTlsSettings(options);
  if (options.dataPath !== "") mkdirSync(options.dataPath, { recursive: true });
  const nsqd = new NSQD(options, logger);
  nsqd.start(); // locks the data path and restores topics before any client can connect
  const tcp = new TcpServer(nsqd, tls);
  const { hostname, port } = splitHostPort(options.tcpAddress, "0.0.0.0");
  const lookupPeers = new LookupPeers(nsqd, {
    tcpPort: () => options.broadcastTcpPort || tcp.port,
    httpPort: () => options.broadcastHttpPort || http.port,
  });
  const http = new HttpServer(nsqd, tcp, { onLookupdAddressesChanged: (a) => lookupPeers.setAddresses(a) });
  const httpAddress = splitHostPort(options.httpAddress, "0.0.0.0");
  try {
    tcp.listen(hostname, port);
    http.listen(httpAddress.hostname, httpAddress.port);
    // as nsqd: HTTPS is served when TLS is configured
    if (tls !== null && options.httpsAddress !== "") {
      const httpsAddress = splitHostPort(options.httpsAddress, "0.0.0.0");
      http.listenHttps(httpsAddress.hostname, httpsAddress.port, tls);
    }
  } catch (err) {
    http.close();
    tcp.close();
    nsqd.close(false);
    throw err;
  }
  lookupPeers.setAddresses(options.lookupdTcpAddresses);
  nsqd.channelDiscovery = lookupdChannelDiscovery(lookupPeers, () => nsqd.options.httpClientRequestTimeout, nsqd.logger);
  let statsd: StatsdPusher | null = null;
  if (options.statsdAddress !== "") {
    const { hostname: host, port: statsdPort } = splitHostPort(options.statsdAddress, "0.0.0.0");
    statsd = new StatsdPusher(nsqd, tcp.latency, {
      host,
      port: statsdPort,
      prefix: statsdPrefix(options.statsdPrefix, options.broadcastAddress, http.port),
      intervalMs: options.statsdInterval,
      packetSize: options.statsdUdpPacketSize,
      memStats: options.statsdMemStats,
      excludeEphemeral: options.statsdExcludeEphemeral,
    });
    statsd.start();
  }
  return {
    nsqd,
    tcp,
    tcpPort: tcp.port,
    http,
    httpPort: http.port,
    httpsPort: http.httpsPort,
    lookupPeers,
    stop() {
      statsd?.stop();
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
