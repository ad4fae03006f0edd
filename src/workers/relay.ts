/**
 * The relay of `--workers=N`: a subscriber of the shared address receives the
 * channel's messages of every worker. Its own worker delivers the local ones as
 * usual; for each sibling a RelayLink subscribes to the same channel on the
 * sibling's private port and passes its messages on unchanged (same id,
 * timestamp and attempts). FIN / REQ / TOUCH of a sibling's message (its node
 * id says which) go back over that link.
 *
 * RDY is shared out over the sources (this worker and each sibling) as a
 * go-nsq consumer shares max-in-flight over connections, but every 25 ms and
 * following the messages: credits go where messages are (see Relay.share), so a
 * subscriber whose channel has messages on one worker only still gets its whole
 * RDY's worth in flight, and never more than its RDY in total.
 */
import type { TLSOptions } from "bun";
import type { Logger } from "../common/logger.ts";
import type { ClientV2 } from "../tcp/client-v2.ts";
import { RELAY_AGENT_MARK, type RelayOpener, type SubscriberRelay } from "../tcp/relay-hook.ts";
import type { WorkerPeers } from "./peers.ts";
import { RelayLink, type LinkOwner } from "./relay-link.ts";

/** How often RDY shares are given out again. */
const SHARE_MS = 25;
/** Every this many shares, idle links get a credit each (if free) to find out whether their sibling has messages. */
const PROBE_EVERY = 4;
/** Reconnect delays of a link whose sibling went away (it may be restarting). */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;
/** A link's estimate of messages in flight is dropped after this long without activity (sibling timeouts). */
const QUIET_GRACE_MS = 1_000;
/** Commands for siblings a subscriber may give before its worker knows them (see Relay.forward). */
const EARLY_COMMANDS_MAX = 10_000;

export class RelayHub implements RelayOpener {
  private readonly relays = new Set<Relay>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private ticks = 0;

  constructor(
    readonly peers: WorkerPeers,
    readonly logger: Logger,
    /** --msg-timeout, the same on every worker. */
    readonly defaultMsgTimeout: number,
    /** The links' client TLS options when the siblings require TLS, else null (see linkTlsOptions). */
    readonly linkTls: TLSOptions | null = null,
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
    this.timer ??= setInterval(() => this.shareAll(), SHARE_MS);
    return relay;
  }

  private shareAll(): void {
    const probe = ++this.ticks % PROBE_EVERY === 0;
    for (const relay of this.relays) relay.share(probe);
  }

  forget(relay: Relay): void {
    this.relays.delete(relay);
    if (this.relays.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
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
  /** The idle link probed next. */
  private turn = 0;
  /** FIN / REQ / TOUCH for siblings given before this worker knew them, by worker index. */
  private early: { index: number; line: Uint8Array }[] | null = null;

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
      const fresh = new RelayLink(index, ports.tcpPort, this, this.hub.logger, this.hub.linkTls);
      this.links.set(index, fresh);
      const c = this.client;
      fresh.open(peers.host, this.topic, this.channel, {
        clientId: c.clientId,
        hostname: c.hostname,
        userAgent: `${RELAY_AGENT_MARK}${c.remoteAddress} (worker ${peers.self})`,
        // 0 keeps the sibling's --msg-timeout (the same option), which IDENTIFY could not set below 1 s
        msgTimeout: c.settings.msgTimeout === this.hub.defaultMsgTimeout ? 0 : c.settings.msgTimeout,
        sampleRate: c.settings.sampleRate,
        // the sibling asks its auth server about the same secret, so it grants the same topics and channels
        authSecret: c.authSecret,
      });
      if (this.early !== null) for (const e of this.early) if (e.index === index) fresh.command(e.line, 0, e.line.length);
    }
    // what was meant for a sibling that is down is dropped: it requeues its messages anyway
    if (peers.known) this.early = null;
  }

  // ---- SubscriberRelay ----

  ready(count: number): void {
    this.requested = count;
    this.share();
  }

  forward(node: number, buf: Uint8Array, start: number, end: number): boolean {
    const peers = this.hub.peers;
    const index = peers.workerOf(node);
    const link = this.links.get(index);
    // a link still connecting takes it too: the sibling answers it after SUB, as nsqd would answer it
    if (link !== undefined && link.takesCommands) {
      link.command(buf, start, end);
      return true;
    }
    // a worker serves the shared address from its start, before the supervisor has told it where its
    // siblings are: until then a sibling's command waits for the link, instead of being refused here
    if (!peers.known && index >= 0 && index !== peers.self && (this.early?.length ?? 0) < EARLY_COMMANDS_MAX) {
      (this.early ??= []).push({ index, line: buf.slice(start, end) });
      return true;
    }
    return false;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.forget(this);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }

  // ---- LinkOwner ----

  deliver(frames: Uint8Array): void {
    if (!this.closed && !this.client.closed) this.client.respond(frames);
  }

  linkUp(link: RelayLink): void {
    this.retries.delete(link.index);
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

  /**
   * Gives out the subscriber's RDY: each source keeps what it has in flight, and
   * the free credits go to the sources that have messages (local: its channel
   * has some waiting; a link: it brought some lately). With no such source they
   * are spread evenly, and on a probe tick an idle link gets one first, so a
   * sibling whose messages start to arrive is noticed.
   */
  share(probe = false): void {
    if (this.closed) return;
    const links = this.upLinks();
    const r = this.requested;
    if (links.length === 0 || r === 0) {
      for (const link of links) link.ready(0);
      return this.setLocal(r);
    }
    const now = Date.now();
    const msgTimeout = this.client.settings.msgTimeout;
    const localHeld = this.client.inFlightCount;
    let free = r - localHeld;
    for (const link of links) free -= heldBy(link, now, msgTimeout);
    if (free < 0) free = 0;
    const extra = new Array<number>(links.length + 1).fill(0);
    if (probe) {
      for (let k = 0; k < links.length && free > 0; k++) {
        const i = (this.turn + k) % links.length;
        if (links[i].busy) continue;
        extra[i + 1]++;
        free--;
      }
      this.turn = (this.turn + 1) % links.length;
    }
    const wanting: number[] = [];
    const channel = this.client.channel;
    if (channel !== null && channel.depth > 0) wanting.push(0);
    links.forEach((link, i) => {
      if (link.busy) wanting.push(i + 1);
    });
    const to = wanting.length > 0 ? wanting : extra.map((_, i) => i);
    const each = Math.floor(free / to.length);
    for (const i of to) extra[i] += each;
    extra[to[0]] += free - each * to.length;
    links.forEach((link, i) => link.ready(link.inFlight + extra[i + 1]));
    this.setLocal(localHeld + extra[0]);
    for (const link of links) link.busy = link.inFlight > 0;
  }

  private setLocal(count: number): void {
    const raised = count > this.localReady;
    this.localReady = count;
    if (raised) this.client.channel?.pump();
  }
}

/** What a link holds in flight (its estimate is dropped once quiet for longer than the sibling would hold a message). */
function heldBy(link: RelayLink, now: number, msgTimeout: number): number {
  if (link.inFlight > 0 && now - link.lastActivity > msgTimeout + QUIET_GRACE_MS) link.inFlight = 0;
  return link.inFlight;
}
