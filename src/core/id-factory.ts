import { MAX_NODE_ID } from "../protocol/message-id.ts";

/** Sequences handed out per millisecond before the counter runs ahead of the clock. */
const SEQUENCES_PER_MS = 2048;

/**
 * Unique message ids for one nsqd: a 53-bit sequence that starts from the clock
 * (ms * 2048) and only ever grows, so ids stay unique across restarts of the same
 * node as long as it averages under ~2 million ids per second.
 */
export class IdFactory {
  private last = 0;

  constructor(readonly node: number) {
    if (!Number.isInteger(node) || node < 0 || node > MAX_NODE_ID) {
      throw new Error(`node id ${node} out of range 0-${MAX_NODE_ID}`);
    }
  }

  next(nowMs: number): number {
    const fromClock = Math.floor(nowMs) * SEQUENCES_PER_MS;
    const seq = this.last + 1 > fromClock ? this.last + 1 : fromClock;
    this.last = seq;
    return seq;
  }
}
