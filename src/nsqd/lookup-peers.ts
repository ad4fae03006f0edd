/**
 * nsqd's side of discovery: one LookupPeer per --lookupd-tcp-address, fed with the
 * nsqd's topology events (ephemeral topics and channels included, as in NSQ), and
 * one timer that pings every lookupd.
 */
import { VERSION } from "../common/version.ts";
import type { NSQD, TopologyEvent } from "../core/nsqd.ts";
import type { Channel } from "../core/channel.ts";
import type { Topic } from "../core/topic.ts";
import { LookupPeer, type BackoffSettings, type LookupPeerHost, type LookupdInfo } from "./lookup-peer.ts";

/** The ports this nsqd announces, read at each IDENTIFY (they may be bound late). */
export interface AnnouncedPorts {
  tcpPort(): number;
  httpPort(): number;
}

export interface LookupPeersSettings {
  /** NSQ's nsqd pings every 15 s. */
  pingIntervalMs: number;
  backoff: BackoffSettings;
}

const DEFAULT_SETTINGS: LookupPeersSettings = {
  pingIntervalMs: 15_000,
  backoff: { minMs: 100, maxMs: 5_000 },
};

function commandFor(event: TopologyEvent, topic: Topic, channel?: Channel): string {
  const verb = event === "topic-created" || event === "channel-created" ? "REGISTER" : "UNREGISTER";
  return channel === undefined ? `${verb} ${topic.name}` : `${verb} ${topic.name} ${channel.name}`;
}

export class LookupPeers implements LookupPeerHost {
  private readonly peers = new Map<string, LookupPeer>();
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private closed = false;

  constructor(
    private readonly nsqd: NSQD,
    private readonly ports: AnnouncedPorts,
    private readonly settings: LookupPeersSettings = DEFAULT_SETTINGS,
  ) {
    nsqd.onTopology((event, topic, channel) => {
      if (this.closed || this.peers.size === 0) return;
      const command = commandFor(event, topic, channel);
      for (const peer of this.peers.values()) peer.send(command);
    });
  }

  get logger() {
    return this.nsqd.logger;
  }

  /** The lookupd addresses in use. */
  get addresses(): string[] {
    return [...this.peers.keys()];
  }

  /** What each lookupd said about itself in answer to IDENTIFY (null before it answered). */
  infos(): (LookupdInfo | null)[] {
    return [...this.peers.values()].map((p) => p.info);
  }

  /** Connects to new addresses and drops the ones no longer listed (PUT /config/nsqlookupd_tcp_addresses). */
  setAddresses(addresses: readonly string[]): void {
    if (this.closed) return;
    const wanted = new Set(addresses);
    for (const [address, peer] of this.peers) {
      if (wanted.has(address)) continue;
      this.logger.info(`LOOKUP(${address}): removing peer`);
      peer.close();
      this.peers.delete(address);
    }
    for (const address of wanted) {
      if (this.peers.has(address)) continue;
      const peer = new LookupPeer(address, this, this.settings.backoff);
      this.peers.set(address, peer);
      peer.connect();
    }
    if (this.peers.size > 0 && this.pingTimer === null) {
      this.pingTimer = setInterval(() => this.pingAll(), this.settings.pingIntervalMs);
    } else if (this.peers.size === 0 && this.pingTimer !== null) {
      clearInterval(this.pingTimer);
      this.pingTimer = null;
    }
  }

  identifyBody(): string {
    return JSON.stringify({
      broadcast_address: this.nsqd.options.broadcastAddress,
      hostname: this.nsqd.hostname,
      http_port: this.ports.httpPort(),
      tcp_port: this.ports.tcpPort(),
      version: VERSION,
    });
  }

  registrations(): string[] {
    const lines: string[] = [];
    for (const topic of this.nsqd.topics.values()) {
      if (topic.channels.size === 0) lines.push(`REGISTER ${topic.name}`);
      for (const channel of topic.channels.values()) lines.push(`REGISTER ${topic.name} ${channel.name}`);
    }
    return lines;
  }

  close(): void {
    this.closed = true;
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
  }

  private pingAll(): void {
    for (const peer of this.peers.values()) peer.ping(this.settings.pingIntervalMs);
  }
}
