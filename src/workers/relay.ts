/**
 * The relay of `--workers=N`: a subscriber of the shared address receives the
 * channel's messages of every worker. Its own worker delivers the local ones as
 * usual; for each sibling a RelayLink subscribes to the same channel on the
 * sibling's private port and passes its messages on unchanged (same id,
 * timestamp and attempts). FIN / REQ / TOUCH of a sibling's message (its node
 * id says which) go back over that link.
 *
 * RDY is shared out as a go-nsq consumer shares max-in-flight over its
 * connections: with RDY >= sources each gets RDY / sources (the local share gets
 * the remainder); with fewer credits than sources, the credits rotate between
 * sources, moving on once the sources holding them have nothing in flight.
 */
import type { Logger } from "../common/logger.ts";
import type { ClientV2 } from "../tcp/client-v2.ts";
import type { RelayOpener, SubscriberRelay } from "../tcp/relay-hook.ts";
import type { WorkerPeers } from "./peers.ts";
import { RelayLink, type LinkOwner } from "./relay-link.ts";

/** How often credits rotate when RDY is smaller than the number of sources. */
const ROTATE_MS = 50;
/** Reconnect delays of a link whose sibling went away (it may be restarting). */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;
/** A link's estimate of messages in flight is dropped after this long without activity (sibling timeouts). */
const QUIET_GRACE_MS = 1_000;

/** The marker in a relay link's user_agent; the shared /stats folds such clients into their subscriber. */
export const RELAY_AGENT_MARK = "bunsq-relay for ";

export class RelayHub implements RelayOpener {
  private readonly relays = new Set<Relay>();

  constructor(
    readonly peers: WorkerPeers,
    readonly logger: Logger,
  ) {
    peers.onChange(() => {
      for (const relay of this.relays) relay.connectLinks();
    });
  }

  open(client: ClientV2, topic: string, channel: string): SubscriberRelay | null {
    if (this.peers.count <= 1) return null;
    const relay = new Relay(this, client, topic, channel);
    this.relays.add(relay);
    relay.connectLinks();
    return relay;
  }

  forget(relay: Relay): void {
    this.relays.delete(relay);
  }

  close(): void {
    for (const relay of [...this.relays]) relay.close();
  }
}

class Relay implements SubscriberRelay, LinkOwner {
  localReady = 0;
  private requested = 0;
  private closed = false;
  /** The link to each sibling, by worker index (up or connecting). */
  private readonly links = new Map<number, RelayLink>();
  private readonly retries = new Map<number, number>();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private rotateTimer: ReturnType<typeof setInterval> | null = null;
  /** Where the window of credits starts when they rotate (0: local, then links in index order). */
  private turn = 0;

  constructor(
    private readonly hub: RelayHub,
    private readonly client: ClientV2,
    private readonly topic: string,
    private readonly channel: string,
  ) {}

  /** Opens a link to every live sibling that has none (or whose port changed: it restarted). */
  connectLinks(): void {
    if (this.closed) return;
    const peers = this.hub.peers;
    for (const { index, ports } of peers.live()) {
      const link = this.links.get(index);
      if (link !== undefined && link.port === ports.tcpPort) continue;
      link?.close();
      const fresh = new RelayLink(index, ports.tcpPort, this, this.hub.logger);
      this.links.set(index, fresh);
      const c = this.client;
      fresh.open(peers.host, this.topic, this.channel, {
        clientId: c.clientId,
        hostname: c.hostname,
        userAgent: `${RELAY_AGENT_MARK}${c.remoteAddress} (worker ${peers.self})`,
        msgTimeout: c.settings.msgTimeout,
        sampleRate: c.settings.sampleRate,
      });
    }
  }

  // ---- SubscriberRelay ----

  ready(count: number): void {
    this.requested = count;
    this.share();
  }

  forward(node: number, line: Uint8Array): boolean {
    const link = this.links.get(this.hub.peers.workerOf(node));
    if (link === undefined || !link.up) return false;
    link.command(line);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.forget(this);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.stopRotating();
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }

  // ---- LinkOwner ----

  deliver(frames: Uint8Array): void {
    if (!this.closed && !this.client.closed) this.client.respond(frames);
  }

  linkUp(_link: RelayLink): void {
    this.retries.delete(_link.index);
    this.share();
  }

  linkDown(link: RelayLink): void {
    if (this.links.get(link.index) !== link) return;
    this.links.delete(link.index);
    this.share();
    if (this.closed) return;
    // the sibling may be restarting: try again, sooner than its new ports are announced if it kept them
    const tries = (this.retries.get(link.index) ?? 0) + 1;
    this.retries.set(link.index, tries);
    if (this.retryTimer === null) {
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (tries - 1));
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.connectLinks();
      }, delay);
    }
  }

  // ---- RDY shares ----

  /** The links that can take RDY, in index order. */
  private upLinks(): RelayLink[] {
    const out: RelayLink[] = [];
    for (const link of this.links.values()) if (link.up) out.push(link);
    return out.sort((a, b) => a.index - b.index);
  }

  private share(): void {
    if (this.closed) return;
    const links = this.upLinks();
    const sources = links.length + 1;
    const r = this.requested;
    if (r === 0 || r >= sources) {
      this.stopRotating();
      const base = Math.floor(r / sources);
      for (const link of links) link.ready(base);
      this.setLocal(r - base * links.length);
      return;
    }
    // fewer credits than sources: a window of `r` sources holds one each
    this.turn %= sources;
    const holds = (source: number) => (source - this.turn + sources) % sources < r;
    this.setLocal(holds(0) ? 1 : 0);
    links.forEach((link, i) => link.ready(holds(i + 1) ? 1 : 0));
    this.rotateTimer ??= setInterval(() => this.rotate(), ROTATE_MS);
  }

  /** Moves the credits on when every source holding one has nothing in flight. */
  private rotate(): void {
    const links = this.upLinks();
    const sources = links.length + 1;
    const r = this.requested;
    if (r === 0 || r >= sources) return this.stopRotating();
    const now = Date.now();
    for (let k = 0; k < r; k++) {
      const source = (this.turn + k) % sources;
      if (source === 0 ? this.client.inFlightCount > 0 : !idle(links[source - 1], now, this.client.settings.msgTimeout)) return;
    }
    this.turn = (this.turn + r) % sources;
    this.share();
  }

  private stopRotating(): void {
    if (this.rotateTimer !== null) clearInterval(this.rotateTimer);
    this.rotateTimer = null;
  }

  private setLocal(count: number): void {
    const raised = count > this.localReady;
    this.localReady = count;
    if (raised) this.client.channel?.pump();
  }
}

/** A link has nothing in flight (or has been quiet for longer than the sibling would hold a message). */
function idle(link: RelayLink, now: number, msgTimeout: number): boolean {
  if (link.inFlight > 0 && now - link.lastActivity > msgTimeout + QUIET_GRACE_MS) link.inFlight = 0;
  return link.inFlight === 0;
}
