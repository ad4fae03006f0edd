import type { Logger } from "../common/logger.ts";
import { MESSAGE_HEADER_SIZE } from "../protocol/frames.ts";
import { DiskQueue, WriteUnit } from "./disk-queue.ts";
import { readdirSync } from "node:fs";

export interface DiskStoreOptions {
  dataPath: string;
  maxBytesPerFile: number;
  maxMsgSize: number;
  /** fsync after this many records per queue (1: before every publish is acknowledged). */
  syncEvery: number;
  /** fsync and save positions at least this often (ms). */
  syncTimeout: number;
}

/**
 * The nsqd's disk queues and when they reach stable storage. Writes are buffered
 * during an event-loop turn; barrier() runs before any response of that turn is
 * written, so with --sync-every=1 one fsync acknowledges every publish of the
 * turn (group commit). With --sync-every above 1 no answer waits for an fsync (as
 * in nsqd), so those fsyncs run on a worker thread. A timer fsyncs and saves
 * positions every --sync-timeout.
 */
export class DiskStore {
  private readonly queues = new Set<DiskQueue>();
  private readonly dirty: DiskQueue[] = [];
  private barrierScheduled = false;
  private waiters: ((durable: boolean) => void)[] = [];
  private readonly runBarrier = () => this.barrier();
  private timer: ReturnType<typeof setInterval> | null = null;

  /** The last disk error, until a write succeeds again (nsqd's health). */
  lastError: string | null = null;
  /** Groups the records of one publish (see WriteUnit). */
  readonly unit = new WriteUnit();

  constructor(
    private readonly opts: DiskStoreOptions,
    private readonly logger: Logger,
  ) {}

  private readonly onBackgroundSyncError = (err: Error) => this.onWriteError(err);

  private onWriteError(err: unknown): void {
    const text = (err as Error).message ?? String(err);
    if (this.lastError === null) this.logger.error(`DISKQUEUE: write failed - ${text}`);
    this.lastError = text;
  }

  /** A write went through: healthy again. */
  private recovered(): void {
    if (this.lastError === null) return;
    this.logger.info("DISKQUEUE: writes succeed again");
    this.lastError = null;
  }

  /** Queue names with a file in the data path when the store first looked (see DiskQueueOptions.existing). */
  private namesOnDisk: Set<string> | null = null;
  private readonly markDirtyNow = (q: DiskQueue) => this.markDirty(q);

  open(name: string): DiskQueue {
    if (this.namesOnDisk === null) this.namesOnDisk = queueNamesIn(this.opts.dataPath);
    const queue = new DiskQueue({
      dataPath: this.opts.dataPath,
      name,
      maxBytesPerFile: this.opts.maxBytesPerFile,
      // a record is a message frame's payload (src/core/message-record.ts)
      minRecordSize: MESSAGE_HEADER_SIZE,
      maxRecordSize: MESSAGE_HEADER_SIZE + this.opts.maxMsgSize,
      logger: this.logger,
      onWrite: this.markDirtyNow,
      unit: this.unit,
      existing: this.namesOnDisk.has(name),
    });
    this.queues.add(queue);
    return queue;
  }

  private markDirty(queue: DiskQueue): void {
    this.dirty.push(queue);
    if (!this.barrierScheduled) {
      this.barrierScheduled = true;
      setImmediate(this.runBarrier);
    }
  }

  /** Records were written since the last barrier. */
  get hasPendingWrites(): boolean {
    return this.dirty.length > 0;
  }

  /**
   * Resolves once this turn's records have passed the barrier (for answers that do
   * not go through the TCP output path, such as HTTP publishes).
   */
  settled(): Promise<boolean> {
    if (this.dirty.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Opens a write unit: every record reserved until commitUnit() is stored, or
   * none is (see WriteUnit).
   */
  beginUnit(): void {
    this.unit.begin();
  }

  /** Writes the unit's records to their files (no fsync); on failure none stays and the error is thrown. */
  commitUnit(): void {
    try {
      this.unit.commit();
    } catch (err) {
      this.onWriteError(err);
      throw err;
    }
    this.recovered();
  }

  /** Takes back every record of the open unit (after an error while writing them). */
  abortUnit(): void {
    this.unit.rollback();
  }

  /**
   * Writes this turn's records; fsyncs the queues that reached --sync-every.
   * False when an fsync that --sync-every=1 answers wait for failed.
   */
  barrier(): boolean {
    this.barrierScheduled = false;
    let durable = true;
    const dirty = this.dirty;
    for (let i = 0; i < dirty.length; i++) {
      const queue = dirty[i];
      queue.dirty = false;
      try {
        if (queue.unsyncedWrites < this.opts.syncEvery) queue.flush();
        else if (this.opts.syncEvery === 1) queue.syncData(); // the turn's OKs wait for this fsync
        else queue.syncDataInBackground(this.onBackgroundSyncError);
      } catch (err) {
        this.onWriteError(err);
        // with --sync-every=1 an answer promises stable storage: this turn's cannot be given
        if (this.opts.syncEvery === 1) durable = false;
      }
    }
    dirty.length = 0;
    if (this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve(durable);
    }
    return durable;
  }

  /** Forgets a queue whose topic or channel is gone (its files are already handled). */
  forget(queue: DiskQueue): void {
    this.queues.delete(queue);
  }

  start(): void {
    this.timer = setInterval(() => this.syncAll(), this.opts.syncTimeout);
  }

  /** fsync and positions for every queue that changed. */
  syncAll(): void {
    this.barrier();
    for (const queue of this.queues) {
      try {
        queue.sync();
      } catch (err) {
        this.onWriteError(err);
      }
    }
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.barrier();
    for (const queue of this.queues) queue.close();
    this.queues.clear();
  }
}

/** The names of the disk queues that have a file in `dataPath` (`<name>.diskqueue.*`). */
function queueNamesIn(dataPath: string): Set<string> {
  const names = new Set<string>();
  let files: string[];
  try {
    files = readdirSync(dataPath);
  } catch {
    return names;
  }
  for (const file of files) {
    const at = file.indexOf(".diskqueue.");
    if (at > 0) names.add(file.slice(0, at));
  }
  return names;
}
