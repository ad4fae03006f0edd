import type { DiskStore } from "../diskqueue/store.ts";

/**
 * Holds answers (a connection's buffered output) that may stand for writes of
 * this event-loop turn: a publish's OK, a FIN, REQ or deferral record.
 */
export interface AnswerHolder {
  /** Sends what is held; called once the turn's writes are as durable as the flags promise. */
  releaseAnswers(): void;
  /**
   * The turn's writes could not be made durable (an fsync failed): what is held
   * must not be sent. A connection closes, so its client sees no OK and its
   * messages in flight go back to the channel.
   */
  abandonAnswers(): void;
}

/**
 * The one place that decides when an answer may leave: only after every write of
 * the turn it was given in is stored as --sync-every promises (written to its
 * file; with --sync-every=1 also fsynced, one fsync for the whole turn). Entry
 * points never write an answer themselves: a connection queues its output and
 * hold()s it; an answer that cannot wait for the end of the turn (a full output
 * buffer) calls settleNow() first; an async entry point awaits settled().
 */
export class AnswerGate {
  private readonly held: AnswerHolder[] = [];
  private scheduled = false;
  private readonly releaseHeld = () => this.release();

  constructor(private readonly store: DiskStore) {}

  /** Sends the holder's answers at the end of this turn, after the turn's writes settle. */
  hold(holder: AnswerHolder): void {
    this.held.push(holder);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.releaseHeld);
    }
  }

  /**
   * Makes the turn's writes durable now, for an answer that leaves before the end
   * of the turn. False if they could not be: the answer must not leave.
   */
  settleNow(): boolean {
    return !this.store.hasPendingWrites || this.store.barrier();
  }

  /**
   * Resolves once the writes made so far are durable (for answers outside a
   * connection's output), to false if they could not be made durable.
   */
  settled(): Promise<boolean> {
    return this.store.settled();
  }

  private release(): void {
    this.scheduled = false;
    const durable = this.settleNow();
    const held = this.held;
    for (let i = 0; i < held.length; i++) {
      if (durable) held[i].releaseAnswers();
      else held[i].abandonAnswers();
    }
    held.length = 0;
  }
}
