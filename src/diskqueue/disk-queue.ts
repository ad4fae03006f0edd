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
import type { Logger } from "../core/logger.ts";
import { readInt32BE, writeUint32BE } from "../protocol/frames.ts";
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
}

const WRITE_BUFFER_FLUSH = 64 * 1024;
const READ_AHEAD = 1024 * 1024;

/**
 * One FIFO of records on disk: append-only segment files of `[4-byte size][payload]`
 * rolled at maxBytesPerFile, read back in order, each finished segment deleted once
 * read. Writes are buffered in memory and reach the file on flush(); sync() adds
 * fsync and persists the read/write positions. All file access is synchronous: it
 * is page-cache work, and fsync happens only when asked for.
 */
export class DiskQueue {
  depth = 0;
  private readFileNum = 0;
  private readPos = 0;
  private writeFileNum = 0;
  /** End of the last record written, buffered bytes included. */
  private writePos = 0;

  private writeFd = -1;
  private wbuf = new Uint8Array(WRITE_BUFFER_FLUSH * 2);
  private wlen = 0;
  /** Records in wbuf (not yet written to the file). */
  private wrecords = 0;
  /** Records written since the last fsync. */
  unsynced = 0;
  /** A syncDataInBackground fsync is running. */
  private backgroundSync = false;
  /** Has writes the store's next barrier must flush. */
  dirty = false;
  private positionsDirty = false;

  private readFd = -1;
  private readFdFileNum = -1;
  private readFileSize = 0;
  private rbuf = new Uint8Array(READ_AHEAD);
  private rbufOffset = 0;
  private rbufLength = 0;

  constructor(private readonly opts: DiskQueueOptions) {
    this.open();
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
   * Appends a record of `payloadLength` bytes and returns where its payload starts
   * in `writeBuffer`; the caller writes the payload there before the next call.
   */
  reserveRecord(payloadLength: number): number {
    const recordLength = 4 + payloadLength;
    if (this.writePos > 0 && this.writePos + recordLength > this.opts.maxBytesPerFile) this.roll();
    if (this.wlen >= WRITE_BUFFER_FLUSH || this.wlen + recordLength > this.wbuf.length) {
      this.flush();
      if (recordLength > this.wbuf.length) this.wbuf = new Uint8Array(recordLength);
    }
    if (!this.dirty) {
      this.dirty = true;
      this.opts.onWrite(this);
    }
    const pos = this.wlen;
    writeUint32BE(this.wbuf, pos, payloadLength);
    this.wlen += recordLength;
    this.wrecords++;
    this.writePos += recordLength;
    this.depth++;
    this.unsynced++;
    this.positionsDirty = true;
    return pos + 4;
  }

  /** Where reserveRecord's payloads go. */
  get writeBuffer(): Uint8Array {
    return this.wbuf;
  }

  /**
   * Writes buffered records to the current segment (page cache; no fsync). If the
   * write fails (e.g. ENOSPC) the segment is cut back to where it was and the
   * buffered records are dropped, so nothing half-written stays behind: their
   * publishers are told it failed.
   */
  flush(): void {
    if (this.wlen === 0) return;
    const committed = this.writePos - this.wlen;
    try {
      if (this.writeFd < 0) this.writeFd = openSync(this.segmentPath(this.writeFileNum), "a");
      let off = 0;
      while (off < this.wlen) off += writeSync(this.writeFd, this.wbuf, off, this.wlen - off);
    } catch (err) {
      if (this.writeFd >= 0) {
        try {
          ftruncateSync(this.writeFd, committed);
        } catch {
          // the file keeps a torn tail; start-up recovery cuts it off
        }
      }
      this.depth -= this.wrecords;
      this.unsynced = Math.max(0, this.unsynced - this.wrecords);
      this.writePos = committed;
      this.wlen = 0;
      this.wrecords = 0;
      throw err;
    }
    this.wlen = 0;
    this.wrecords = 0;
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

  /** Flushes, fsyncs the data, and persists positions. */
  sync(): void {
    this.flush();
    if (this.writeFd >= 0 && this.unsynced > 0) fsyncSync(this.writeFd);
    this.unsynced = 0;
    if (this.positionsDirty) this.persistPositions();
  }

  /** fsync of the data only (group commit); positions follow with the next sync(). */
  syncData(): void {
    this.flush();
    if (this.writeFd >= 0 && this.unsynced > 0) fsyncSync(this.writeFd);
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
   * until the next call. A segment that cannot be read is moved aside as `.bad`.
   */
  readNext(): Uint8Array | null {
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
      const size = readInt32BE(this.rbuf, header);
      if (size < this.opts.minRecordSize || size > this.opts.maxRecordSize) {
        this.badSegment(`invalid record size ${size} at offset ${this.readPos}`);
        continue;
      }
      const payload = this.bufferAt(this.readPos + 4, size, end);
      if (payload < 0) {
        this.badSegment(`record of ${size} bytes at offset ${this.readPos} runs past the end`);
        continue;
      }
      this.readPos += 4 + size;
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
      if (length > this.rbuf.length) this.rbuf = new Uint8Array(length);
      this.rbufOffset = offset;
      this.rbufLength = readSync(this.readFd, this.rbuf, 0, Math.min(this.rbuf.length, end - offset), offset);
      if (this.rbufLength < length) return -1;
    }
    return offset - this.rbufOffset;
  }

  /** Done with a segment: delete it and move to the next. */
  private finishReadFile(): void {
    const finished = this.readFileNum;
    this.closeReadFile();
    this.readFileNum++;
    this.readPos = 0;
    this.positionsDirty = true;
    rmSync(this.segmentPath(finished), { force: true });
  }

  /** Moves the current read segment aside as `.bad` and continues with the next one. */
  private badSegment(reason: string): void {
    const num = this.readFileNum;
    const path = this.segmentPath(num);
    this.closeReadFile();
    if (num === this.writeFileNum) {
      this.flush();
      if (this.writeFd >= 0) closeSync(this.writeFd);
      this.writeFd = -1;
      this.writeFileNum++;
      this.writePos = 0;
    }
    if (existsSync(path)) renameSync(path, `${path}.bad`);
    this.readFileNum = num + 1;
    this.readPos = 0;
    const before = this.depth;
    this.depth = this.countRecords(this.readFileNum, 0);
    this.positionsDirty = true;
    this.opts.logger.error(
      `DISKQUEUE(${this.opts.name}): segment ${num} is corrupt (${reason}); moved aside as ${path}.bad, ` +
        `about ${Math.max(0, before - this.depth)} messages lost, ${this.depth} remain`,
    );
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
      const { records, validEnd, size } = this.scanSegment(num, num === fileNum ? pos : 0);
      count += records;
      this.writeFileNum = num;
      this.writePos = validEnd;
      if (validEnd < size && num === last) {
        this.cutTail(num, validEnd, size);
      }
    }
    return count;
  }

  /** Counts the valid records of every segment from (fileNum, pos) on. */
  private countRecords(fileNum: number, pos: number): number {
    let count = 0;
    for (let num = fileNum; num <= this.writeFileNum; num++) {
      if (existsSync(this.segmentPath(num))) count += this.scanSegment(num, num === fileNum ? pos : 0).records;
    }
    return count;
  }

  private scanSegment(num: number, from: number): { records: number; validEnd: number; size: number } {
    const fd = openSync(this.segmentPath(num), "r");
    try {
      const size = fstatSync(fd).size;
      const header = new Uint8Array(4);
      let pos = from;
      let records = 0;
      while (pos + 4 <= size) {
        readSync(fd, header, 0, 4, pos);
        const len = readInt32BE(header, 0);
        if (len < this.opts.minRecordSize || len > this.opts.maxRecordSize || pos + 4 + len > size) break;
        pos += 4 + len;
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
    this.removeFiles();
    const next = this.writeFileNum + 1;
    this.readFileNum = this.writeFileNum = next;
    this.readPos = this.writePos = 0;
    this.depth = 0;
    this.unsynced = 0;
    this.persistPositions();
  }

  /** Flushes, fsyncs, saves positions and closes files. */
  close(): void {
    this.sync();
    this.persistPositions();
    if (this.writeFd >= 0) closeSync(this.writeFd);
    this.writeFd = -1;
    this.closeReadFile();
  }

  /** Removes the queue from disk entirely (its topic or channel was deleted). */
  delete(): void {
    this.removeFiles();
    rmSync(this.metaPath, { force: true });
    this.depth = 0;
  }

  private removeFiles(): void {
    this.wlen = 0;
    if (this.writeFd >= 0) closeSync(this.writeFd);
    this.writeFd = -1;
    this.closeReadFile();
    for (const num of this.listSegments()) rmSync(this.segmentPath(num), { force: true });
  }
}
