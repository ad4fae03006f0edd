import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { readUint32BE, writeUint32BE } from "../protocol/frames.ts";

/**
 * The acknowledgement journal of a disk queue whose records stay on disk until
 * they are finished (a channel's queue). It says what became of records that were
 * read: finished, or due again at some time with some attempts. Layout (all
 * big-endian), one file `<name>.diskqueue.journal.dat`:
 *
 *   snapshot header  "BSQJ"  u8 version  f64 readKey
 *   entries          FIN   u8 1  f64 key
 *                    REQ   u8 2  f64 key  f64 dueMs  u16 attempts
 *                    READ  u8 3  f64 key
 *
 * A key names a record: segment number * 2^32 + byte offset (recordKey), held
 * exactly in a double.
 *
 * The header's read position R splits the queue: a record before R was read and
 * is finished unless a REQ entry names it; a record at or after R is unread
 * unless a FIN entry names it. READ entries say how far the reader had got (one
 * per flush, not per record): a record before the last of them with no entry of
 * its own was delivered once more than its record says. A compaction rewrites the file as a new snapshot
 * (the current read position and one REQ per record still held), so the file
 * stays small whatever the traffic.
 */

const MAGIC = 0x4253514a; // "BSQJ"
const VERSION = 1;
const HEADER_SIZE = 13;
const FIN = 1;
const REQ = 2;
const READ = 3;
const KEY_ENTRY_SIZE = 9;
const REQ_SIZE = 19;
const SEGMENT_SPAN = 4294967296;

/** A record's place in its queue: segment number * 2^32 + byte offset. */
export function recordKey(fileNum: number, offset: number): number {
  return fileNum * SEGMENT_SPAN + offset;
}

export function keyFileNum(key: number): number {
  return Math.floor(key / SEGMENT_SPAN);
}

export function keyOffset(key: number): number {
  return key % SEGMENT_SPAN;
}

/** A record that was read and not finished: due at `dueMs` (0: now) after `attempts` deliveries. */
export interface HeldRecord {
  dueMs: number;
  attempts: number;
}

/** What a journal says after replay. */
export interface JournalState {
  /** Read position of the last snapshot, as a record key. */
  readKey: number;
  /** Records read and not finished, by key (any key, before or after readKey). */
  held: Map<number, HeldRecord>;
  /** Records at or after readKey that were finished. */
  finishedAhead: Set<number>;
  /** How far the reader had got (a record key); readKey when no READ entry followed. */
  readMark: number;
}

/** Replays a journal file; null when there is none (a queue written before journals existed). */
export function replayJournal(path: string): JournalState | null {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    return null;
  }
  if (bytes.length < HEADER_SIZE || readUint32BE(bytes, 0) !== MAGIC || bytes[4] !== VERSION) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const readKey = view.getFloat64(5);
  const held = new Map<number, HeldRecord>();
  const finishedAhead = new Set<number>();
  let readMark = readKey;
  let p = HEADER_SIZE;
  // a torn last entry (the process died mid-write) is ignored
  for (;;) {
    const type = bytes[p];
    if (type === FIN && p + KEY_ENTRY_SIZE <= bytes.length) {
      const key = view.getFloat64(p + 1);
      held.delete(key);
      if (key >= readKey) finishedAhead.add(key);
      p += KEY_ENTRY_SIZE;
    } else if (type === REQ && p + REQ_SIZE <= bytes.length) {
      held.set(view.getFloat64(p + 1), { dueMs: view.getFloat64(p + 9), attempts: view.getUint16(p + 17) });
      p += REQ_SIZE;
    } else if (type === READ && p + KEY_ENTRY_SIZE <= bytes.length) {
      readMark = view.getFloat64(p + 1);
      p += KEY_ENTRY_SIZE;
    } else {
      break;
    }
  }
  return { readKey, held, finishedAhead, readMark };
}

const INITIAL_BUFFER = 4096;
/** What a retaining queue's owner holds: the records read and not finished, for snapshots. */
export interface HeldRecords {
  /** Calls `each` for every record held: its key, its due time (0 when due now) and its attempts. */
  forEachHeld(each: (key: number, dueMs: number, attempts: number) => void): void;
}

/** FIN and READ entries wait in memory until this much is buffered (or a REQ, or an fsync). */
const LAZY_BYTES = 64 * 1024;
/** Every idle journal's buffer: empty, never written. */
const NO_BYTES = new Uint8Array(0);
const NO_VIEW = new DataView(NO_BYTES.buffer);

/**
 * Appends entries to a journal file, buffered until flush(). Written by the
 * queue that owns it, flushed and fsynced with that queue's records. FIN and
 * READ entries may wait in memory until the next fsync or until 64 KiB have
 * gathered (a lost FIN costs a duplicate, never a message); a REQ is written at
 * the next flush, so that a crash keeps its due time.
 */
export class JournalWriter {
  private fd = -1;
  /** Allocated at the first entry: an idle channel's journal costs nothing (these are shared). */
  private buf = NO_BYTES;
  private view = NO_VIEW;
  private len = 0;
  /** A REQ entry is buffered: the next flush() writes. */
  private urgent = false;
  /** Bytes in the file plus the buffer since the last snapshot. */
  size = 0;
  unsynced = 0;

  constructor(private readonly path: string) {}

  private reserve(n: number): number {
    if (this.len + n > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + n, INITIAL_BUFFER));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
      this.view = new DataView(grown.buffer);
    }
    const at = this.len;
    this.len += n;
    this.size += n;
    this.unsynced++;
    return at;
  }

  finished(key: number): void {
    const p = this.reserve(KEY_ENTRY_SIZE);
    this.buf[p] = FIN;
    this.view.setFloat64(p + 1, key);
  }

  /** The reader has read every record before `key`. */
  readUpTo(key: number): void {
    const p = this.reserve(KEY_ENTRY_SIZE);
    this.buf[p] = READ;
    this.view.setFloat64(p + 1, key);
    this.unsynced--; // a hint for attempts, not worth an fsync of its own
  }

  requeued(key: number, dueMs: number, attempts: number): void {
    this.writeReq(this.reserve(REQ_SIZE), key, dueMs, attempts);
    this.urgent = true;
  }

  private writeReq(p: number, key: number, dueMs: number, attempts: number): void {
    this.buf[p] = REQ;
    const view = this.view;
    view.setFloat64(p + 1, key);
    view.setFloat64(p + 9, dueMs);
    view.setUint16(p + 17, Math.min(attempts, 0xffff));
  }

  /** Entries wait in memory (see the class): only a REQ or 64 KiB make flushLazily() write. */
  flushLazily(): void {
    if (this.urgent || this.len >= LAZY_BYTES) this.flush();
  }

  /**
   * Writes buffered entries (page cache). On failure the entries stay buffered
   * for the next try; a torn tail in the file only ever ends the replay early.
   */
  flush(): void {
    this.urgent = false;
    if (this.len === 0) return;
    if (this.fd < 0) this.fd = openSync(this.path, "a");
    let off = 0;
    try {
      while (off < this.len) off += writeSync(this.fd, this.buf, off, this.len - off);
    } finally {
      if (off > 0) {
        this.buf.copyWithin(0, off, this.len);
        this.len -= off;
      }
    }
  }

  syncData(): void {
    this.flush();
    if (this.fd >= 0 && this.unsynced > 0) fsyncSync(this.fd);
    this.unsynced = 0;
  }

  /**
   * Replaces the journal with a snapshot: the read position and one REQ entry
   * per record still held. Written beside the file, fsynced and renamed over it,
   * so a crash leaves the old journal or the new one.
   */
  snapshot(readFileNum: number, readPos: number, held: HeldRecords): void {
    const out = new JournalWriter(`${this.path}.tmp`);
    const h = out.reserve(HEADER_SIZE);
    writeUint32BE(out.buf, h, MAGIC);
    out.buf[h + 4] = VERSION;
    out.view.setFloat64(h + 5, recordKey(readFileNum, readPos));
    held.forEachHeld((key, dueMs, attempts) => out.writeReq(out.reserve(REQ_SIZE), key, dueMs, attempts));
    rmSync(out.path, { force: true });
    try {
      out.syncData();
    } finally {
      out.close();
    }
    this.close();
    renameSync(out.path, this.path);
    this.len = 0;
    this.urgent = false;
    this.size = out.size;
    this.unsynced = 0;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** Removes the journal (the queue was emptied or deleted). */
  delete(): void {
    this.close();
    this.len = 0;
    this.size = 0;
    this.unsynced = 0;
    rmSync(this.path, { force: true });
  }
}
