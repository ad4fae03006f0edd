import {
  closeSync,
  existsSync,
  fstatSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { Logger } from "../common/logger.ts";
import { readUint32BE, readUint64BE, writeUint32BE, writeUint64BE } from "../protocol/frames.ts";
import { JournalWriter, keyFileNum, keyOffset, recordKey, replayJournal, type HeldRecords, type JournalState } from "./journal.ts";
import { formatPositions, readPositions, writeFileAtomic, type QueuePositions } from "./metadata-file.ts";

export interface DiskQueueOptions {
  dataPath: string;
  /** Files are `<name>.diskqueue.NNNNNN.dat` and `<name>.diskqueue.meta.dat`, as go-diskqueue names them. */
  name: string;
  maxBytesPerFile: number;
  /** Bounds of a valid record's payload; anything outside means corruption. */
  minRecordSize: number;
  maxRecordSize: number;
  logger: Logger;
  /** Called at the first write after the queue was last flushed (the store's barrier). */
  onWrite: (queue: DiskQueue) => void;
  /**
   * False when the data path holds no file of this queue (the store looked once):
   * the queue then starts empty without touching the file system, so a new topic
   * or channel costs no file until it holds a message.
   */
  existing?: boolean;
  /** The store's write unit, which this queue joins at its first record while one is open. */
  unit?: WriteUnit;
}

/**
 * Records that are stored together or not at all: one publish (its message in
 * every channel's queue, and what a spill moves) is one unit. Queues join it at
 * their first record; commit() writes them all, or takes every one of them back.
 */
export class WriteUnit {
  open = false;
  readonly queues: DiskQueue[] = [];

  begin(): void {
    this.open = true;
  }

  /** Writes the unit's records (page cache); on failure none of them stays, and the error is thrown. */
  commit(): void {
    const queues = this.queues;
    try {
      for (let i = 0; i < queues.length; i++) queues[i].flush();
    } catch (err) {
      this.rollback();
      throw err;
    }
    for (let i = 0; i < queues.length; i++) queues[i].endUnit();
    this.close();
  }

  rollback(): void {
    for (const queue of this.queues) queue.rollbackUnit();
    this.close();
  }

  private close(): void {
    this.queues.length = 0;
    this.open = false;
  }
}

/** What a retaining queue keeps track of beyond its positions. */
interface Holdings {
  /** Segments read to the end, deleted once no record in them is held (see sweepReadSegments). */
  readThrough: Set<number>;
  /** Records held before the reader reached them (see takeLastWritten): the reader skips them. */
  takenAhead: Set<number>;
}

/** A record that was held (read, not finished) when the queue last stopped. */
export interface RecoveredRecord {
  key: number;
  /** A copy of the payload. */
  payload: Uint8Array;
  /** When it is due again (ms since the epoch; 0: now). */
  dueMs: number;
  /** Deliveries so far, or -1 when the record's own count stands. */
  attempts: number;
}

/**
 * The write call used for segment files: a seam through which tests make a write
 * fail part way (a full disk at a chosen moment), nothing else.
 */
export const segmentWrites: { write: (fd: number, buffer: Uint8Array, offset: number, length: number) => number } = {
  write: (fd, buffer, offset, length) => writeSync(fd, buffer, offset, length),
};

/** Set in a record's size word when an 8-byte due time (ms since the epoch) precedes the payload. */
const DUE_FLAG = 0x80000000;
/** The journal is rewritten as a snapshot once it grows past this. */
const JOURNAL_COMPACT_BYTES = 4 * 1024 * 1024;

const WRITE_BUFFER_FLUSH = 64 * 1024;
const READ_AHEAD = 1024 * 1024;
/** What an idle queue holds instead of its write and read buffers. */
const NO_BYTES = new Uint8Array(0);

/**
 * One FIFO of records on disk: append-only segment files of `[4-byte size][payload]`
 * rolled at maxBytesPerFile, read back in order. Writes are buffered in memory and
 * reach the file on flush(); sync() adds fsync and persists the read/write
 * positions. All file access is synchronous: it is page-cache work, and fsync
 * happens only when asked for.
 *
 * A plain queue (a topic's) deletes a segment once it is read. A retaining queue
 * (a channel's, see retainReads) keeps each record until finish() and journals
 * what became of the records it handed out, so a restart finds every record that
 * was in flight, requeued or deferred. A record may carry a due time (deferred
 * messages): bit 31 of its size word is set and 8 bytes of due time precede the
 * payload.
 */
export class DiskQueue {
  depth = 0;
  private readFileNum = 0;
  private readPos = 0;
  private writeFileNum = 0;
  /** End of the last record written, buffered bytes included. */
  private writePos = 0;

  private writeFd = -1;
  /** Allocated at the first write, let go when the queue is idle (see sync). */
  private wbuf = NO_BYTES;
  /** Buffered bytes: the file holds the write segment up to writePos - wlen. */
  private wlen = 0;
  /** Records written since the last fsync. */
  unsynced = 0;
  /** A syncDataInBackground fsync is running. */
  private backgroundSync = false;
  /** Has writes the store's next barrier must flush. */
  dirty = false;
  private positionsDirty = false;
  /** Some file of this queue may exist (found at open, or written since). */
  private hasFiles: boolean;
  /** Written or read since the last sync(): an idle queue lets go of its buffers. */
  private busy = false;

  /** Key and due time of the record reserveRecord() last appended. */
  lastWriteKey = 0;
  private lastWriteDueMs = 0;
  /** Key and due time (0: none) of the record readNext() last returned. */
  lastReadKey = 0;
  lastReadDueMs = 0;
  /** Attempts the journal recorded for the last record read, or -1 (the record's own count). */
  lastReadAttempts = -1;
  /** The last record read was delivered before a restart without the journal saying more (count one more attempt). */
  lastReadRedelivered = false;

  private readFd = -1;
  private readFdFileNum = -1;
  private readFileSize = 0;
  /** Allocated at the first read from a file, let go when the queue is idle (see sync). */
  private rbuf = NO_BYTES;
  private rbufOffset = 0;
  private rbufLength = 0;

  // ---- retaining queues only ----
  private journal: JournalWriter | null = null;
  private heldRecords: HeldRecords | null = null;
  /** What a retaining queue holds; created at its first held record (idle channels have none). */
  private held: Holdings | null = null;
  /** A plain queue's segments read to the end, deleted by deleteReadSegments(). */
  private readonly readSegments: number[] = [];
  /** Records after the journal's read position that were finished, or requeued, before a restart. */
  private finishedAhead: Set<number> | null = null;
  private journaledAhead: JournalState["held"] | null = null;
  /** The journal file has its snapshot header (it is written before the first record is held). */
  private journalStarted = false;
  /** Read position last written to the journal (a READ entry). */
  private journaledReadKey = 0;
  /** Records before this key were delivered before the restart (the journal's last READ entry). */
  private deliveredBefore = 0;

  // ---- the open write unit (see beginUnit) ----
  private unitOpen = false;
  private unitFileNum = 0;
  private unitPos = 0;
  private unitDepth = 0;
  private unitUnsynced = 0;

  constructor(private readonly opts: DiskQueueOptions) {
    this.hasFiles = opts.existing ?? true;
    if (this.hasFiles) this.open();
  }

  get name(): string {
    return this.opts.name;
  }

  private segmentPath(num: number): string {
    return join(this.opts.dataPath, `${this.opts.name}.diskqueue.${String(num).padStart(6, "0")}.dat`);
  }

  private get metaPath(): string {
    return join(this.opts.dataPath, `${this.opts.name}.diskqueue.meta.dat`);
  }

  private get journalPath(): string {
    return join(this.opts.dataPath, `${this.opts.name}.diskqueue.journal.dat`);
  }

  /** Numbers of this queue's segment files present on disk, ascending. */
  private listSegments(): number[] {
    const prefix = `${this.opts.name}.diskqueue.`;
    const nums: number[] = [];
    for (const file of readdirSync(this.opts.dataPath)) {
      if (!file.startsWith(prefix) || !file.endsWith(".dat")) continue;
      const m = /^(\d+)\.dat$/.exec(file.slice(prefix.length));
      if (m !== null) nums.push(Number(m[1]));
    }
    return nums.sort((a, b) => a - b);
  }

  // ---- writing ----

  /**
   * Appends a record of `payloadLength` bytes, due at `dueMs` (0: at once), and
   * returns where its payload starts in `writeBuffer`; the caller writes the
   * payload there before the next call. May flush or roll to a new segment, and
   * so throw a write error.
   */
  reserveRecord(payloadLength: number, dueMs = 0): number {
    const unit = this.opts.unit;
    if (unit !== undefined && unit.open && !this.unitOpen) {
      this.beginUnit();
      unit.queues.push(this);
    }
    const headerLength = dueMs > 0 ? 12 : 4;
    const recordLength = headerLength + payloadLength;
    if (this.writePos > 0 && this.writePos + recordLength > this.opts.maxBytesPerFile) this.roll();
    if (this.wlen >= WRITE_BUFFER_FLUSH || this.wlen + recordLength > this.wbuf.length) {
      this.flush();
      if (recordLength > this.wbuf.length) this.wbuf = new Uint8Array(Math.max(recordLength, WRITE_BUFFER_FLUSH * 2));
    }
    this.busy = true;
    this.markDirty();
    const pos = this.wlen;
    if (dueMs > 0) {
      writeUint32BE(this.wbuf, pos, (payloadLength | DUE_FLAG) >>> 0);
      writeUint64BE(this.wbuf, pos + 4, dueMs);
    } else {
      writeUint32BE(this.wbuf, pos, payloadLength);
    }
    this.lastWriteKey = recordKey(this.writeFileNum, this.writePos);
    this.lastWriteDueMs = dueMs;
    this.wlen += recordLength;
    this.writePos += recordLength;
    this.depth++;
    this.unsynced++;
    this.positionsDirty = true;
    return pos + headerLength;
  }

  /** Where reserveRecord's payloads go. */
  get writeBuffer(): Uint8Array {
    return this.wbuf;
  }

  private markDirty(): void {
    if (this.dirty) return;
    this.dirty = true;
    this.opts.onWrite(this);
  }

  /**
   * Writes buffered records (and journal entries) to their files: page cache, no
   * fsync. If a write fails (e.g. ENOSPC) the segment is cut back to where it was
   * and the records stay buffered: nothing half-written stays behind, and the
   * caller decides whether to try again or roll them back (rollbackUnit).
   */
  flush(): void {
    this.flushJournal();
    if (this.wlen === 0) return;
    const committed = this.writePos - this.wlen;
    try {
      if (this.writeFd < 0) {
        this.hasFiles = true;
        this.writeFd = openSync(this.segmentPath(this.writeFileNum), "a");
      }
      let off = 0;
      while (off < this.wlen) off += segmentWrites.write(this.writeFd, this.wbuf, off, this.wlen - off);
    } catch (err) {
      this.truncateWriteFile(committed);
      throw err;
    }
    this.wlen = 0;
  }

  private flushJournal(): void {
    const journal = this.journal;
    if (journal === null || !this.journalStarted) return;
    if (journal.size > JOURNAL_COMPACT_BYTES) return this.compactJournal();
    this.markRead();
    journal.flushLazily();
  }

  /** Journals how far the reader has got (a READ entry), when it moved. */
  private markRead(): void {
    const readKey = recordKey(this.readFileNum, this.readPos);
    if (readKey > this.journaledReadKey) {
      this.journal!.readUpTo(readKey);
      this.journaledReadKey = readKey;
    }
  }

  /** Cuts the write segment back to `length` bytes after a failed or rolled-back write. */
  private truncateWriteFile(length: number): void {
    if (this.writeFd < 0) return;
    try {
      ftruncateSync(this.writeFd, length);
    } catch (err) {
      // appends must not land after bytes the positions do not know of: continue in a new segment
      this.opts.logger.error(
        `DISKQUEUE(${this.opts.name}): cannot cut segment ${this.writeFileNum} back to ${length} bytes - ${(err as Error).message}; continuing in a new segment`,
      );
      closeSync(this.writeFd);
      this.writeFd = -1;
      this.writeFileNum++;
      this.writePos = this.wlen;
    }
  }

  /** Starts the next segment file. */
  private roll(): void {
    this.flush();
    if (this.writeFd >= 0) {
      fsyncSync(this.writeFd);
      closeSync(this.writeFd);
      this.writeFd = -1;
    }
    this.writeFileNum++;
    this.writePos = 0;
    this.positionsDirty = true;
  }

  /**
   * Joins a write unit (see WriteUnit): the records reserved from now on either
   * all stay (endUnit) or all go (rollbackUnit), whatever flushes or segment
   * rolls happen in between.
   */
  private beginUnit(): void {
    this.unitOpen = true;
    this.unitFileNum = this.writeFileNum;
    this.unitPos = this.writePos;
    this.unitDepth = this.depth;
    this.unitUnsynced = this.unsynced;
  }

  endUnit(): void {
    this.unitOpen = false;
  }

  /** Removes every record reserved since beginUnit, from the buffer and the files. */
  rollbackUnit(): void {
    if (!this.unitOpen) return;
    this.unitOpen = false;
    if (this.writeFileNum !== this.unitFileNum) {
      // rolled meanwhile: the newer segments hold only this unit's records
      if (this.writeFd >= 0) closeSync(this.writeFd);
      this.writeFd = -1;
      for (let num = this.unitFileNum + 1; num <= this.writeFileNum; num++) rmSync(this.segmentPath(num), { force: true });
      this.writeFileNum = this.unitFileNum;
      this.wlen = 0;
      try {
        this.writeFd = openSync(this.segmentPath(this.writeFileNum), "a");
      } catch {
        // reopened by the next flush
      }
      this.truncateWriteFile(this.unitPos);
    } else if (this.unitPos >= this.writePos - this.wlen) {
      this.wlen -= this.writePos - this.unitPos; // still buffered
    } else {
      this.wlen = 0;
      this.truncateWriteFile(this.unitPos);
    }
    if (this.writeFileNum === this.unitFileNum) this.writePos = this.unitPos;
    this.depth = this.unitDepth;
    this.unsynced = this.unitUnsynced;
    this.positionsDirty = true;
  }

  /** Flushes, fsyncs the data, and persists positions; a queue idle since the last sync lets go of its buffers. */
  sync(): void {
    this.sweepReadSegments();
    this.syncData();
    if (this.positionsDirty && this.hasFiles) this.persistPositions();
    if (!this.busy && this.wlen === 0) {
      this.wbuf = NO_BYTES;
      this.rbuf = NO_BYTES;
      this.rbufLength = 0;
    }
    this.busy = false;
  }

  /** Records and journal entries written since their last fsync (what --sync-every counts). */
  get unsyncedWrites(): number {
    return this.journal === null ? this.unsynced : this.unsynced + this.journal.unsynced;
  }

  /** fsync of the data and journal (group commit); positions follow with the next sync(). */
  syncData(): void {
    this.flush();
    if (this.writeFd >= 0 && this.unsynced > 0) fsyncSync(this.writeFd);
    if (this.journal !== null && this.journalStarted) {
      this.markRead();
      this.journal.syncData();
    }
    this.unsynced = 0;
  }

  /**
   * syncData for an fsync that no answer waits for (--sync-every above 1): the
   * data is written now and the fsync runs on a worker thread, so the event loop
   * keeps serving every connection meanwhile. One at a time per queue: while one
   * runs, `unsynced` keeps counting and the next barrier starts the next.
   */
  syncDataInBackground(onError: (err: Error) => void): void {
    this.flush();
    if (this.journal !== null) this.journal.unsynced = 0; // its fsync comes with the next sync()
    if (this.backgroundSync || this.writeFd < 0 || this.unsynced === 0) return;
    this.unsynced = 0;
    this.backgroundSync = true;
    // a roll or close meanwhile fsyncs and closes the fd itself; an error on the closed fd is harmless
    const fd = this.writeFd;
    fsync(fd, (err) => {
      this.backgroundSync = false;
      if (err !== null && fd === this.writeFd) onError(err);
    });
  }

  private persistPositions(): void {
    this.hasFiles = true;
    writeFileAtomic(this.metaPath, formatPositions(this.positions()));
    this.positionsDirty = false;
  }

  private positions(): QueuePositions {
    return {
      depth: this.depth,
      readFileNum: this.readFileNum,
      readPos: this.readPos,
      writeFileNum: this.writeFileNum,
      writePos: this.writePos,
    };
  }

  // ---- reading ----

  /**
   * The next record's payload, or null when the queue is empty. The view is valid
   * until the next call; lastReadKey, lastReadDueMs and lastReadAttempts describe
   * it. A segment that cannot be read is moved aside as `.bad`.
   */
  readNext(): Uint8Array | null {
    for (;;) {
      const payload = this.readRecord();
      if (payload === null || this.journal === null) return payload;
      const key = this.lastReadKey;
      // finished before a restart, or held already: skipped, and depth never counted them
      const skip =
        (this.finishedAhead !== null && this.finishedAhead.delete(key)) || (this.held !== null && this.held.takenAhead.size > 0 && this.held.takenAhead.delete(key));
      if (skip) {
        this.depth++;
        continue;
      }
      this.lastReadAttempts = -1;
      this.lastReadRedelivered = key < this.deliveredBefore;
      if (this.journaledAhead !== null) {
        const held = this.journaledAhead.get(key);
        if (held !== undefined) {
          this.journaledAhead.delete(key);
          this.lastReadAttempts = held.attempts;
          this.lastReadRedelivered = false;
          if (held.dueMs > this.lastReadDueMs) this.lastReadDueMs = held.dueMs;
        }
      }
      if (!this.journalStarted) this.startJournal(key);
      return payload;
    }
  }

  private readRecord(): Uint8Array | null {
    this.busy = true;
    for (;;) {
      if (this.readFileNum === this.writeFileNum && this.readPos >= this.writePos) {
        if (this.depth !== 0) this.depth = 0;
        return null;
      }
      if (this.readFileNum === this.writeFileNum && this.wlen > 0) this.flush();
      this.openReadFile();
      const isWriteFile = this.readFileNum === this.writeFileNum;
      if (!isWriteFile && this.readPos >= this.readFileSize && this.readFd >= 0) {
        // the size was taken while this was still the file being written: look again
        this.readFileSize = fstatSync(this.readFd).size;
      }
      const end = isWriteFile ? this.writePos : this.readFileSize;
      if (this.readPos >= end) {
        this.finishReadFile();
        continue;
      }
      const header = this.bufferAt(this.readPos, 4, end);
      if (header < 0) {
        this.badSegment(`incomplete record header at offset ${this.readPos}`);
        continue;
      }
      const word = readUint32BE(this.rbuf, header);
      const size = (word & ~DUE_FLAG) >>> 0;
      const headerLength = word & DUE_FLAG ? 12 : 4;
      if (size < this.opts.minRecordSize || size > this.opts.maxRecordSize) {
        this.badSegment(`invalid record size ${word | 0} at offset ${this.readPos}`);
        continue;
      }
      const start = this.bufferAt(this.readPos + 4, headerLength - 4 + size, end);
      if (start < 0) {
        this.badSegment(`record of ${size} bytes at offset ${this.readPos} runs past the end`);
        continue;
      }
      this.lastReadKey = recordKey(this.readFileNum, this.readPos);
      this.lastReadDueMs = headerLength === 12 ? readUint64BE(this.rbuf, start) : 0;
      const payload = start + headerLength - 4;
      this.readPos += headerLength + size;
      if (this.depth > 0) this.depth--;
      this.positionsDirty = true;
      return this.rbuf.subarray(payload, payload + size);
    }
  }

  private openReadFile(): void {
    // the file being written is read up to writePos; the others' sizes are checked at their end
    if (this.readFdFileNum === this.readFileNum) return;
    this.closeReadFile();
    const path = this.segmentPath(this.readFileNum);
    if (!existsSync(path)) {
      // a segment that never got data (or was lost): treat it as empty
      this.readFileSize = 0;
      this.readFdFileNum = this.readFileNum;
      return;
    }
    this.readFd = openSync(path, "r");
    this.readFdFileNum = this.readFileNum;
    this.readFileSize = fstatSync(this.readFd).size;
    this.rbufLength = 0;
  }

  private closeReadFile(): void {
    if (this.readFd >= 0) closeSync(this.readFd);
    this.readFd = -1;
    this.readFdFileNum = -1;
    this.rbufLength = 0;
  }

  /**
   * Makes `length` bytes at `offset` of the read file available in the read-ahead
   * buffer and returns where they start in it; -1 if past `end`. (An index, not a
   * view: the record header is read in place, only the payload gets a view.)
   */
  private bufferAt(offset: number, length: number, end: number): number {
    if (offset + length > end || this.readFd < 0) return -1;
    const inBuffer = offset >= this.rbufOffset && offset + length <= this.rbufOffset + this.rbufLength;
    if (!inBuffer) {
      if (length > this.rbuf.length) this.rbuf = new Uint8Array(Math.max(length, READ_AHEAD));
      this.rbufOffset = offset;
      this.rbufLength = readSync(this.readFd, this.rbuf, 0, Math.min(this.rbuf.length, end - offset), offset);
      if (this.rbufLength < length) return -1;
    }
    return offset - this.rbufOffset;
  }

  /**
   * Done with a segment: move to the next. A retaining queue deletes it once no
   * record in it is held; a plain queue once its reader says that what it read
   * is safe elsewhere (deleteReadSegments).
   */
  private finishReadFile(): void {
    const finished = this.readFileNum;
    this.closeReadFile();
    this.readFileNum++;
    this.readPos = 0;
    this.positionsDirty = true;
    if (this.journal === null) {
      this.readSegments.push(finished);
      return;
    }
    this.holdings().readThrough.add(finished);
    this.sweepReadSegments();
  }

  /**
   * Deletes the segments read to the end that hold no record still held (in
   * flight, requeued or deferred). Asks the channel what it holds, so it runs when
   * a segment is read to the end and at each sync(), not per message.
   */
  private sweepReadSegments(): void {
    const readThrough = this.held?.readThrough;
    if (readThrough === undefined || readThrough.size === 0) return;
    let lowest = Number.POSITIVE_INFINITY;
    this.heldRecords!.forEachHeld((key) => {
      if (key < lowest) lowest = key;
    });
    this.deleteReadSegmentsBelow(keyFileNum(lowest));
  }

  private deleteReadSegmentsBelow(fileNum: number): void {
    const readThrough = this.held!.readThrough;
    for (const num of readThrough) {
      if (num >= fileNum) continue;
      rmSync(this.segmentPath(num), { force: true });
      readThrough.delete(num);
    }
  }

  /**
   * A plain queue (a topic's): the records read so far are stored elsewhere now
   * (in the channels' queues), so the segments read to the end can go. Until
   * then a crash finds them again (a duplicate at worst, never a loss).
   */
  deleteReadSegments(): void {
    for (const num of this.readSegments) rmSync(this.segmentPath(num), { force: true });
    this.readSegments.length = 0;
  }

  /** Moves the current read segment aside as `.bad` and continues with the next one. */
  private badSegment(reason: string): void {
    const num = this.readFileNum;
    const path = this.segmentPath(num);
    this.closeReadFile();
    if (num === this.writeFileNum) {
      this.wlen = 0; // the buffered records follow the corrupt part: they go with it
      if (this.writeFd >= 0) closeSync(this.writeFd);
      this.writeFd = -1;
      this.writeFileNum++;
      this.writePos = 0;
    }
    if (existsSync(path)) renameSync(path, `${path}.bad`);
    this.readFileNum = num + 1;
    this.readPos = 0;
    const before = this.depth;
    this.depth = this.countRecords(this.readFileNum, 0, this.writeFileNum, Number.MAX_SAFE_INTEGER);
    this.positionsDirty = true;
    this.opts.logger.error(
      `DISKQUEUE(${this.opts.name}): segment ${num} is corrupt (${reason}); moved aside as ${path}.bad, ` +
        `about ${Math.max(0, before - this.depth)} messages lost, ${this.depth} remain`,
    );
  }

  // ---- records held until finished (retaining queues) ----

  /**
   * Makes this queue keep every record it hands out until finish(), with a
   * journal of what became of them. Returns the records that were held when the
   * queue last stopped (in flight, requeued or deferred), to hand out again; the
   * queue reads on after them, skipping what was finished.
   */
  retainReads(heldRecords: HeldRecords): RecoveredRecord[] {
    this.heldRecords = heldRecords;
    this.journal = new JournalWriter(this.journalPath);
    const state = this.hasFiles ? replayJournal(this.journalPath) : null;
    if (state === null) {
      if (this.hasFiles && existsSync(this.journalPath)) {
        this.opts.logger.error(
          `DISKQUEUE(${this.opts.name}): journal ${this.journalPath} is unreadable; resuming at the saved read position ` +
            `(messages that were in flight before it may not come back)`,
        );
      }
      return []; // no journal yet, or a queue from before journals: what was read is finished
    }
    this.journalStarted = true;
    this.journaledReadKey = state.readMark;
    this.deliveredBefore = state.readMark;
    this.closeReadFile();
    this.readFileNum = keyFileNum(state.readKey);
    this.readPos = keyOffset(state.readKey);
    if (state.readKey > recordKey(this.writeFileNum, this.writePos)) {
      // the journal is ahead of the segment files (they were lost): nothing to read back
      this.readFileNum = this.writeFileNum;
      this.readPos = this.writePos;
    }
    this.positionsDirty = true;
    this.depth = Math.max(0, this.countRecords(this.readFileNum, this.readPos, this.writeFileNum, this.writePos) - state.finishedAhead.size);
    if (state.finishedAhead.size > 0) this.finishedAhead = state.finishedAhead;
    const now = Date.now();
    const recovered: RecoveredRecord[] = [];
    const ahead = new Map<number, { dueMs: number; attempts: number }>();
    for (const [key, held] of state.held) {
      // what is due later is held at once (its deferral shows); the rest after R waits for the reader
      const deferredAhead = key >= state.readKey && held.dueMs > now;
      if (key >= state.readKey && !deferredAhead) {
        ahead.set(key, held);
        continue;
      }
      const payload = this.readAt(key);
      if (payload === null) continue; // its segment was deleted: everything in it was finished
      if (deferredAhead) {
        this.holdings().takenAhead.add(key);
        this.depth--;
      }
      recovered.push({ key, payload, dueMs: Math.max(held.dueMs, this.lastReadDueMs), attempts: held.attempts });
    }
    recovered.sort((a, b) => a.key - b.key);
    if (ahead.size > 0) this.journaledAhead = ahead;
    // segments before the read position that hold nothing any more
    const readThrough = this.holdings().readThrough;
    for (const num of this.listSegments()) {
      if (num < this.readFileNum) readThrough.add(num);
    }
    this.deleteReadSegmentsBelow(recovered.length > 0 ? keyFileNum(recovered[0].key) : Number.POSITIVE_INFINITY);
    return recovered;
  }

  /** A held record is done (FIN): it is journaled; its segment goes once nothing in it is held. */
  finish(key: number): void {
    this.journal!.finished(key);
    this.markDirty();
  }

  /** A held record is due again at `dueMs` (0: now) after `attempts` deliveries (REQ, a time-out). */
  requeue(key: number, dueMs: number, attempts: number): void {
    this.journal!.requeued(key, dueMs, attempts);
    this.markDirty();
  }

  private holdings(): Holdings {
    return (this.held ??= { readThrough: new Set(), takenAhead: new Set() });
  }

  /**
   * Holds the record just appended (reserveRecord) at once, before the reader
   * reaches it: a deferred message goes to disk and straight into its channel's
   * deferred set. The reader skips it when it gets there.
   */
  takeLastWritten(): void {
    const key = this.lastWriteKey;
    if (!this.journalStarted) this.startJournal(recordKey(this.readFileNum, this.readPos));
    this.holdings().takenAhead.add(key);
    this.depth--;
    this.requeue(key, this.lastWriteDueMs, 0); // so that a restart shows it as deferred at once
  }

  /**
   * Writes the journal's first snapshot, before the first record is held: from
   * then on a restart reads from `readKey` on, instead of from the saved read
   * position, which may be past records in flight.
   */
  private startJournal(readKey: number): void {
    this.journal!.snapshot(keyFileNum(readKey), keyOffset(readKey), this.heldRecords!);
    this.journaledReadKey = readKey;
    this.journalStarted = true;
  }

  private compactJournal(): void {
    this.journal!.snapshot(this.readFileNum, this.readPos, this.heldRecords!);
    this.journaledReadKey = recordKey(this.readFileNum, this.readPos);
  }

  /** The payload of the record at `key` (a copy), or null if it cannot be read; lastReadDueMs is set. */
  private readAt(key: number): Uint8Array | null {
    const path = this.segmentPath(keyFileNum(key));
    let fd = -1;
    try {
      fd = openSync(path, "r");
      const header = new Uint8Array(12);
      if (readSync(fd, header, 0, 12, keyOffset(key)) < 4) return null;
      const word = readUint32BE(header, 0);
      const size = (word & ~DUE_FLAG) >>> 0;
      if (size < this.opts.minRecordSize || size > this.opts.maxRecordSize) return null;
      const headerLength = word & DUE_FLAG ? 12 : 4;
      this.lastReadDueMs = headerLength === 12 ? readUint64BE(header, 4) : 0;
      const payload = new Uint8Array(size);
      if (readSync(fd, payload, 0, size, keyOffset(key) + headerLength) < size) return null;
      return payload;
    } catch {
      return null;
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  // ---- start-up ----

  private open(): void {
    const saved = readPositions(this.metaPath);
    const segments = this.listSegments();
    if (saved !== null && this.consistent(saved, segments)) {
      this.depth = saved.depth;
      this.readFileNum = saved.readFileNum;
      this.readPos = saved.readPos;
      this.writeFileNum = saved.writeFileNum;
      this.writePos = saved.writePos;
      // records written after the positions were last saved (crash): count them in
      const tail = this.recoverTail(saved.writeFileNum, saved.writePos, segments);
      this.depth += tail;
      if (tail > 0) {
        this.opts.logger.info(`DISKQUEUE(${this.opts.name}): recovered ${tail} messages written after the last metadata save`);
      }
      return;
    }
    if (segments.length === 0) {
      // nothing on disk: start after whatever the metadata named, so old numbers are not reused
      const next = saved === null ? 0 : Math.max(saved.readFileNum, saved.writeFileNum);
      this.readFileNum = this.writeFileNum = next;
      return;
    }
    this.opts.logger.warn(
      `DISKQUEUE(${this.opts.name}): ${saved !== null ? "metadata does not match the segment files" : existsSync(this.metaPath) ? "metadata unreadable" : "no metadata"}; ` +
        `rebuilding positions from ${segments.length} segment file(s)`,
    );
    const first = saved !== null && segments.includes(saved.readFileNum) ? saved.readFileNum : segments[0];
    const firstPos = first === saved?.readFileNum && saved.readPos <= this.fileSize(first) ? saved.readPos : 0;
    this.readFileNum = first;
    this.readPos = firstPos;
    this.writeFileNum = first;
    this.writePos = firstPos;
    this.depth = this.recoverTail(first, firstPos, segments);
    this.positionsDirty = true;
  }

  /** Saved positions that point at data that exists. */
  private consistent(p: QueuePositions, segments: number[]): boolean {
    if (p.readFileNum > p.writeFileNum) return false;
    if (p.readFileNum === p.writeFileNum && p.readPos > p.writePos) return false;
    if (p.writePos > 0 && p.writePos > this.fileSize(p.writeFileNum)) return false;
    if (p.readPos > 0 && p.readPos > this.fileSize(p.readFileNum)) return false;
    if (p.readFileNum < p.writeFileNum && !segments.includes(p.readFileNum) && p.readPos > 0) return false;
    return true;
  }

  private fileSize(num: number): number {
    try {
      const fd = openSync(this.segmentPath(num), "r");
      try {
        return fstatSync(fd).size;
      } finally {
        closeSync(fd);
      }
    } catch {
      return 0;
    }
  }

  /**
   * Walks the valid records from (fileNum, pos) to the end of the last segment,
   * leaves the write position after the last valid one, and returns how many there
   * were. An invalid or torn record in the last segment ends it: the bytes from
   * there on are kept aside as `.bad` and the segment is cut back.
   */
  private recoverTail(fileNum: number, pos: number, segments: number[]): number {
    let count = 0;
    const last = Math.max(fileNum, ...segments);
    for (let num = fileNum; num <= last; num++) {
      const path = this.segmentPath(num);
      if (!existsSync(path)) continue;
      const { records, validEnd, size } = this.scanSegment(num, num === fileNum ? pos : 0, Number.MAX_SAFE_INTEGER);
      count += records;
      this.writeFileNum = num;
      this.writePos = validEnd;
      if (validEnd < size && num === last) {
        this.cutTail(num, validEnd, size);
      }
    }
    return count;
  }

  /** Counts the valid records from (fromFile, fromPos) up to (toFile, toPos). */
  private countRecords(fromFile: number, fromPos: number, toFile: number, toPos: number): number {
    let count = 0;
    for (let num = fromFile; num <= toFile; num++) {
      if (!existsSync(this.segmentPath(num))) continue;
      count += this.scanSegment(num, num === fromFile ? fromPos : 0, num === toFile ? toPos : Number.MAX_SAFE_INTEGER).records;
    }
    return count;
  }

  private scanSegment(num: number, from: number, until: number): { records: number; validEnd: number; size: number } {
    const fd = openSync(this.segmentPath(num), "r");
    try {
      const size = fstatSync(fd).size;
      const header = new Uint8Array(4);
      let pos = from;
      let records = 0;
      while (pos + 4 <= size && pos < until) {
        readSync(fd, header, 0, 4, pos);
        const word = readUint32BE(header, 0);
        const len = (word & ~DUE_FLAG) >>> 0;
        const recordLength = (word & DUE_FLAG ? 12 : 4) + len;
        if (len < this.opts.minRecordSize || len > this.opts.maxRecordSize || pos + recordLength > size) break;
        pos += recordLength;
        records++;
      }
      return { records, validEnd: pos, size };
    } finally {
      closeSync(fd);
    }
  }

  private cutTail(num: number, validEnd: number, size: number): void {
    const path = this.segmentPath(num);
    const fd = openSync(path, "r+");
    try {
      const rest = new Uint8Array(size - validEnd);
      readSync(fd, rest, 0, rest.length, validEnd);
      writeFileSync(`${path}.${validEnd}.bad`, rest);
      ftruncateSync(fd, validEnd);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.opts.logger.warn(
      `DISKQUEUE(${this.opts.name}): segment ${num} ends in ${size - validEnd} unreadable bytes at offset ${validEnd} ` +
        `(a torn write or corruption); kept aside as ${path}.${validEnd}.bad`,
    );
  }

  // ---- lifecycle ----

  /** Drops every record (files included) and starts again after the last segment number. */
  empty(): void {
    if (!this.hasFiles) return;
    this.removeFiles();
    const next = this.writeFileNum + 1;
    this.readFileNum = this.writeFileNum = next;
    this.readPos = this.writePos = 0;
    this.depth = 0;
    this.unsynced = 0;
    this.persistPositions();
  }

  /** Flushes, fsyncs, saves positions (and a journal snapshot) and closes files. */
  close(): void {
    if (!this.hasFiles && this.wlen === 0) return; // never held a message: nothing to keep
    if (this.journalStarted) this.compactJournal();
    this.sync();
    this.persistPositions();
    if (this.writeFd >= 0) closeSync(this.writeFd);
    this.writeFd = -1;
    this.journal?.close();
    this.closeReadFile();
  }

  /** Removes the queue from disk entirely (its topic or channel was deleted). */
  delete(): void {
    this.depth = 0;
    if (!this.hasFiles) return;
    this.removeFiles();
    rmSync(this.metaPath, { force: true });
  }

  private removeFiles(): void {
    this.wlen = 0;
    if (this.writeFd >= 0) closeSync(this.writeFd);
    this.writeFd = -1;
    this.closeReadFile();
    this.journal?.delete();
    this.held = null;
    this.finishedAhead = null;
    this.journaledAhead = null;
    this.readSegments.length = 0;
    this.journalStarted = false;
    for (const num of this.listSegments()) rmSync(this.segmentPath(num), { force: true });
  }
}
