import type { ClientV2 } from "./client-v2.ts";

/**
 * The start of a relay link's user_agent. Its nsqd makes such a connection a
 * standby consumer (see Subscriber.standby); the shared /stats folds it into the
 * subscriber it serves.
 */
export const RELAY_AGENT_MARK = "bunsq-relay for ";

/**
 * What a subscribed connection asks of the layer that relays its sibling
 * workers' messages (src/workers, with `--workers=N`). The connection stays an
 * ordinary subscriber of its own nsqd; the relay brings in the channel's
 * messages held by the siblings and takes back their FIN / REQ / TOUCH.
 */
export interface SubscriberRelay {
  /** The part of the subscriber's RDY its own nsqd may fill. */
  readonly localReady: number;
  /** The subscriber sent RDY (or CLS: 0). */
  ready(count: number): void;
  /**
   * FIN / REQ / TOUCH of a message of `node`: the command line is buf[start, end)
   * (without its newline), valid during this call only. False when no sibling
   * holds that node.
   */
  forward(node: number, buf: Uint8Array, start: number, end: number): boolean;
  /** The subscriber is gone: the siblings get their messages back. */
  close(): void;
}

/** Opens the relay of a connection that just subscribed (null: nothing to relay). */
export interface RelayOpener {
  open(client: ClientV2, topic: string, channel: string): SubscriberRelay | null;
}
