/**
 * nsqd as one object, like NSQLookupd and NSQAdmin: the broker (NSQD) with its
 * two doors (TCP and HTTP), its registration with nsqlookupd, the channel
 * discovery a new topic asks and the statsd pusher, started and stopped
 * together. The program (src/cli/nsqd.ts) adds flags, signals and exit codes;
 * tests and benchmarks start it in their own process.
 */
import { mkdirSync } from "node:fs";
import { joinHostPort, splitHostPort, type HostPort } from "../common/host-port.ts";
import type { Logger } from "../common/logger.ts";
import { NSQD } from "../core/nsqd.ts";
import type { NsqdOptions } from "../core/options.ts";
import { HttpServer } from "../http/server.ts";
import { statsdPrefix } from "../statsd/packets.ts";
import { StatsdPusher } from "../statsd/pusher.ts";
import { TcpServer } from "../tcp/server.ts";
import { loadTlsSettings, type TlsSettings } from "../tcp/tls.ts";
import { lookupdChannelDiscovery } from "./channel-discovery.ts";
import { LookupPeers } from "./lookup-peers.ts";

/** Where nsqd listens when an address leaves the host empty (":4150"). */
const ANY_HOST = "0.0.0.0";

export class NsqdDaemon {
  /** The broker: topics, channels, disk queues, metadata. */
  readonly nsqd: NSQD;
  /** The TCP protocol (V2) door. */
  readonly tcp: TcpServer;
  /** The HTTP (and HTTPS) API door. */
  readonly http: HttpServer;
  /** Connections to --lookupd-tcp-address; setAddresses() changes them at run time. */
  readonly lookupPeers: LookupPeers;
  readonly #tls: TlsSettings | null;
  readonly #tcpListen: HostPort;
  readonly #httpListen: HostPort;
  #statsd: StatsdPusher | null = null;
  #running = false;
  /** The ports bound by start(), kept after stop() so a test can restart on them. */
  #bound = { tcp: 0, http: 0, https: 0 };

  /** Builds every part without touching the network or the data path; throws on unreadable TLS files. */
  constructor(
    readonly options: NsqdOptions,
    logger?: Logger,
  ) {
    this.#tls = loadTlsSettings(options);
    this.#tcpListen = splitHostPort(options.tcpAddress, ANY_HOST);
    this.#httpListen = splitHostPort(options.httpAddress, ANY_HOST);
    this.nsqd = new NSQD(options, logger);
    this.tcp = new TcpServer(this.nsqd, this.#tls);
    this.lookupPeers = new LookupPeers(this.nsqd, {
      tcpPort: () => options.broadcastTcpPort || this.tcp.port,
      httpPort: () => options.broadcastHttpPort || this.http.port,
    });
    this.http = new HttpServer(this.nsqd, this.tcp, {
      onLookupdAddressesChanged: (addresses) => this.lookupPeers.setAddresses(addresses),
    });
  }

  /**
   * Locks the data path and restores topics before any client can connect, then
   * listens (TCP, HTTP, and HTTPS when TLS is configured, as nsqd does), registers
   * with the lookupds and starts statsd. Throws, with everything released, when
   * the data path is locked or an address cannot be bound.
   */
  start(): void {
    if (this.#running) return;
    const options = this.options;
    if (options.dataPath !== "") mkdirSync(options.dataPath, { recursive: true });
    this.nsqd.start();
    try {
      this.tcp.listen(this.#tcpListen.hostname, this.#tcpListen.port);
      this.http.listen(this.#httpListen.hostname, this.#httpListen.port);
      if (this.#tls !== null && options.httpsAddress !== "") {
        const https = splitHostPort(options.httpsAddress, ANY_HOST);
        this.http.listenHttps(https.hostname, https.port, this.#tls.options);
      }
    } catch (err) {
      this.http.close();
      this.tcp.close();
      this.nsqd.close(false);
      throw err;
    }
    this.#running = true;
    this.#bound = { tcp: this.tcp.port, http: this.http.port, https: this.http.httpsPort };
    this.lookupPeers.setAddresses(options.lookupdTcpAddresses);
    this.nsqd.channelDiscovery = lookupdChannelDiscovery(
      this.lookupPeers,
      () => this.nsqd.options.httpClientRequestTimeout,
      this.nsqd.logger,
    );
    if (options.statsdAddress !== "") {
      const statsd = splitHostPort(options.statsdAddress, ANY_HOST);
      this.#statsd = new StatsdPusher(this.nsqd, {
        host: statsd.hostname,
        port: statsd.port,
        prefix: statsdPrefix(options.statsdPrefix, options.broadcastAddress, this.http.port),
        intervalMs: options.statsdInterval,
        packetSize: options.statsdUdpPacketSize,
        memStats: options.statsdMemStats,
        excludeEphemeral: options.statsdExcludeEphemeral,
      });
      this.#statsd.start();
    }
  }

  /** Stops accepting, closes clients, writes what is in memory to disk, saves metadata. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#statsd?.stop();
    this.#statsd = null;
    this.lookupPeers.close();
    this.http.close();
    this.tcp.close();
    this.nsqd.close(true);
  }

  /** The TCP port start() bound (useful with port 0); 0 before start(). */
  get tcpPort(): number {
    return this.#bound.tcp;
  }

  /** The HTTP port start() bound; 0 before start(). */
  get httpPort(): number {
    return this.#bound.http;
  }

  /** The HTTPS port start() bound; 0 without TLS. */
  get httpsPort(): number {
    return this.#bound.https;
  }

  /** "host:port" of the bound TCP listener. */
  get tcpAddress(): string {
    return joinHostPort(this.#tcpListen.hostname, this.tcpPort);
  }

  /** "host:port" of the bound HTTP listener. */
  get httpAddress(): string {
    return joinHostPort(this.#httpListen.hostname, this.httpPort);
  }
}
