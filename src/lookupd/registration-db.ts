/**
 * nsqlookupd's registry: which nsqd (peer) produces which topic and channel.
 *
 * NSQ keys one map by (category, key, subkey) and scans it for wildcard queries;
 * here every query a request makes is a direct lookup: topic registrations by
 * topic name, channel registrations by topic then channel, and each peer's own
 * registrations, so /lookup, /channels and a disconnect cost what they return.
 * As in NSQ, a registration outlives its last producer until it is removed
 * explicitly (ephemeral ones are removed by the protocol when they empty).
 */

/** What an nsqd told us about itself in IDENTIFY, plus how we reach it. */
export interface PeerInfo {
  /** The connection's remote address: unique per live connection. */
  readonly id: string;
  readonly remoteAddress: string;
  readonly hostname: string;
  readonly broadcastAddress: string;
  readonly tcpPort: number;
  readonly httpPort: number;
  readonly version: string;
  /** Date.now() of the IDENTIFY or the last PING. */
  lastUpdate: number;
}

/** A peer as a producer of one topic or channel; tombstones are per topic. */
export class Producer {
  tombstonedAt = 0;

  constructor(readonly peer: PeerInfo) {}

  tombstone(now: number): void {
    this.tombstonedAt = now;
  }

  isTombstoned(lifetimeMs: number, now: number): boolean {
    return this.tombstonedAt !== 0 && now - this.tombstonedAt < lifetimeMs;
  }
}

export type ProducerMap = Map<string, Producer>;

/** A peer's registrations, for removing them all when it disconnects. */
interface PeerRegistrations {
  topics: Set<string>;
  channels: Map<string, Set<string>>;
}

export interface Removal {
  removed: boolean;
  /** Producers left in the registration. */
  left: number;
}

const NOT_REGISTERED: Removal = { removed: false, left: 0 };

export class RegistrationDB {
  /** Registration ("client", "", ""): every identified peer. */
  private readonly clients: ProducerMap = new Map();
  private readonly topics = new Map<string, ProducerMap>();
  private readonly channels = new Map<string, Map<string, ProducerMap>>();
  private readonly byPeer = new Map<string, PeerRegistrations>();

  // ---- peers ----

  addClient(peer: PeerInfo): boolean {
    if (this.clients.has(peer.id)) return false;
    this.clients.set(peer.id, new Producer(peer));
    return true;
  }

  clientProducers(): Iterable<Producer> {
    return this.clients.values();
  }

  /** Removes the peer from every registration; returns what it was registered for. */
  removePeer(id: string): { client: boolean; topics: string[]; channels: [string, string][] } {
    const client = this.clients.delete(id);
    const regs = this.byPeer.get(id);
    this.byPeer.delete(id);
    const topics: string[] = [];
    const channels: [string, string][] = [];
    if (regs !== undefined) {
      for (const topic of regs.topics) {
        if (this.topics.get(topic)?.delete(id)) topics.push(topic);
      }
      for (const [topic, names] of regs.channels) {
        const byName = this.channels.get(topic);
        for (const channel of names) {
          if (byName?.get(channel)?.delete(id)) channels.push([topic, channel]);
        }
      }
    }
    return { client, topics, channels };
  }

  /** Topics the peer produces, in registration order. */
  peerTopics(id: string): string[] {
    const regs = this.byPeer.get(id);
    return regs === undefined ? [] : [...regs.topics];
  }

  // ---- topics ----

  /** Registers the topic without producers (HTTP /topic/create); a no-op when it exists. */
  addTopic(topic: string): void {
    if (!this.topics.has(topic)) this.topics.set(topic, new Map());
  }

  hasTopic(topic: string): boolean {
    return this.topics.has(topic);
  }

  topicNames(): string[] {
    return [...this.topics.keys()];
  }

  topicProducers(topic: string): ProducerMap | undefined {
    return this.topics.get(topic);
  }

  addTopicProducer(topic: string, peer: PeerInfo): boolean {
    let producers = this.topics.get(topic);
    if (producers === undefined) {
      producers = new Map();
      this.topics.set(topic, producers);
    }
    if (producers.has(peer.id)) return false;
    producers.set(peer.id, new Producer(peer));
    this.regsOf(peer.id).topics.add(topic);
    return true;
  }

  removeTopicProducer(topic: string, id: string): Removal {
    const producers = this.topics.get(topic);
    if (producers === undefined) return NOT_REGISTERED;
    const removed = producers.delete(id);
    if (removed) this.byPeer.get(id)?.topics.delete(topic);
    return { removed, left: producers.size };
  }

  /** Drops the topic registration and its producers (not its channels). */
  removeTopic(topic: string): boolean {
    const producers = this.topics.get(topic);
    if (producers === undefined) return false;
    for (const id of producers.keys()) this.byPeer.get(id)?.topics.delete(topic);
    this.topics.delete(topic);
    return true;
  }

  // ---- channels ----

  addChannel(topic: string, channel: string): void {
    const byName = this.channelsFor(topic);
    if (!byName.has(channel)) byName.set(channel, new Map());
  }

  hasChannel(topic: string, channel: string): boolean {
    return this.channels.get(topic)?.has(channel) ?? false;
  }

  /** Names of the topic's channel registrations, in registration order. */
  channelNames(topic: string): string[] {
    const byName = this.channels.get(topic);
    return byName === undefined ? [] : [...byName.keys()];
  }

  addChannelProducer(topic: string, channel: string, peer: PeerInfo): boolean {
    const byName = this.channelsFor(topic);
    let producers = byName.get(channel);
    if (producers === undefined) {
      producers = new Map();
      byName.set(channel, producers);
    }
    if (producers.has(peer.id)) return false;
    producers.set(peer.id, new Producer(peer));
    const regs = this.regsOf(peer.id);
    let names = regs.channels.get(topic);
    if (names === undefined) {
      names = new Set();
      regs.channels.set(topic, names);
    }
    names.add(channel);
    return true;
  }

  removeChannelProducer(topic: string, channel: string, id: string): Removal {
    const producers = this.channels.get(topic)?.get(channel);
    if (producers === undefined) return NOT_REGISTERED;
    const removed = producers.delete(id);
    if (removed) this.forgetPeerChannel(id, topic, channel);
    return { removed, left: producers.size };
  }

  /** Removes the peer from every channel of the topic; returns the channels it left. */
  removePeerFromChannels(topic: string, id: string): string[] {
    const names = this.byPeer.get(id)?.channels.get(topic);
    if (names === undefined) return [];
    const left = [...names];
    const byName = this.channels.get(topic);
    for (const channel of left) byName?.get(channel)?.delete(id);
    this.byPeer.get(id)!.channels.delete(topic);
    return left;
  }

  removeChannel(topic: string, channel: string): boolean {
    const byName = this.channels.get(topic);
    const producers = byName?.get(channel);
    if (byName === undefined || producers === undefined) return false;
    for (const id of producers.keys()) this.forgetPeerChannel(id, topic, channel);
    byName.delete(channel);
    if (byName.size === 0) this.channels.delete(topic);
    return true;
  }

  /** Every registration with its producers, for /debug. */
  *entries(): Generator<[category: string, key: string, subkey: string, producers: ProducerMap]> {
    if (this.clients.size > 0) yield ["client", "", "", this.clients];
    for (const [topic, producers] of this.topics) yield ["topic", topic, "", producers];
    for (const [topic, byName] of this.channels) {
      for (const [channel, producers] of byName) yield ["channel", topic, channel, producers];
    }
  }

  private channelsFor(topic: string): Map<string, ProducerMap> {
    let byName = this.channels.get(topic);
    if (byName === undefined) {
      byName = new Map();
      this.channels.set(topic, byName);
    }
    return byName;
  }

  private regsOf(id: string): PeerRegistrations {
    let regs = this.byPeer.get(id);
    if (regs === undefined) {
      regs = { topics: new Set(), channels: new Map() };
      this.byPeer.set(id, regs);
    }
    return regs;
  }

  private forgetPeerChannel(id: string, topic: string, channel: string): void {
    const names = this.byPeer.get(id)?.channels.get(topic);
    if (names === undefined) return;
    names.delete(channel);
    if (names.size === 0) this.byPeer.get(id)!.channels.delete(topic);
  }
}
