/**
 * nsq_to_file's writer for one topic: appends each message and a newline to the
 * current file, rotates by time, size or a new --datetime-format value, and
 * FINs messages only after the bytes holding them are on disk (fsync).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Message } from "../client/index.ts";
import type { Logger } from "../common/logger.ts";

export interface FileLoggerOptions {
  outputDir: string;
  workDir: string;
  filenameFormat: string;
  datetimeFormat: string;
  hostIdentifier: string;
  gzip: boolean;
  gzipLevel: number;
  /** Bytes (before compression) after which a new file starts; 0: no limit. */
  rotateSize: number;
  /** ms after which a new file starts; 0: never. */
  rotateInterval: number;
  skipEmptyFiles: boolean;
  /** Messages held before a sync is forced (the consumer's max in flight). */
  maxPending: number;
}

const NEWLINE = 0x0a;

/** The strftime subset nsq_to_file's --datetime-format uses. */
export function strftime(format: string, t: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return format.replace(/%([YmdHMSyjp%])/g, (_, c: string) => {
    switch (c) {
      case "Y":
        return String(t.getFullYear());
      case "y":
        return pad(t.getFullYear() % 100);
      case "m":
        return pad(t.getMonth() + 1);
      case "d":
        return pad(t.getDate());
      case "H":
        return pad(t.getHours());
      case "M":
        return pad(t.getMinutes());
      case "S":
        return pad(t.getSeconds());
      case "j": {
        const start = new Date(t.getFullYear(), 0, 1);
        return pad(Math.floor((t.getTime() - start.getTime()) / 86_400_000) + 1, 3);
      }
      case "p":
        return t.getHours() < 12 ? "AM" : "PM";
      default:
        return "%";
    }
  });
}

export class FileLogger {
  private fd: number | null = null;
  private path = "";
  private name = "";
  private datetime = "";
  private rev = 0;
  private openedAt = 0;
  private size = 0;
  private buffered: Uint8Array[] = [];
  private bufferedBytes = 0;
  private pending: Message[] = [];
  private maxPending: number;

  constructor(
    private readonly topic: string,
    private readonly opts: FileLoggerOptions,
    private readonly logger: Logger,
  ) {
    this.maxPending = opts.maxPending;
    mkdirSync(opts.workDir, { recursive: true });
    mkdirSync(opts.outputDir, { recursive: true });
  }

  /** Consumer handler: buffers the message; it is answered by the next sync. */
  write(m: Message): void {
    m.disableAutoResponse();
    if (this.needsRotation()) this.rotate();
    if (this.fd === null) this.open();
    this.buffered.push(m.body);
    this.bufferedBytes += m.body.length + 1;
    this.size += m.body.length + 1;
    this.pending.push(m);
    if (this.pending.length >= this.maxPending) this.sync();
  }

  /** Writes what is buffered, fsyncs, then FINs the messages it holds. */
  sync(): void {
    if (this.fd !== null && this.bufferedBytes > 0) {
      const raw = new Uint8Array(this.bufferedBytes);
      let pos = 0;
      for (const b of this.buffered) {
        raw.set(b, pos);
        raw[pos + b.length] = NEWLINE;
        pos += b.length + 1;
      }
      // each sync adds one gzip member; gunzip and zcat read concatenated members as one stream
      const data = this.opts.gzip ? Bun.gzipSync(raw, { level: this.opts.gzipLevel as 6 }) : raw;
      for (let off = 0; off < data.length; ) off += writeSync(this.fd, data, off);
      fsyncSync(this.fd);
    }
    this.buffered = [];
    this.bufferedBytes = 0;
    const done = this.pending;
    this.pending = [];
    for (const m of done) m.finish();
  }

  /** From now on every message is written and answered at once (used while stopping). */
  syncEveryWrite(): void {
    this.maxPending = 1;
    this.sync();
  }

  /** Syncs and closes the current file, moving it to the output dir. */
  close(): void {
    this.sync();
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    const empty = this.size === 0;
    if (empty && this.opts.skipEmptyFiles) {
      unlinkSync(this.path);
      return;
    }
    if (this.opts.workDir !== this.opts.outputDir) {
      const dest = join(this.opts.outputDir, this.name);
      if (existsSync(dest)) throw new Error(`output file already exists: ${dest}`);
      renameSync(this.path, dest);
    }
    this.logger.info(`[${this.topic}] closed ${join(this.opts.outputDir, this.name)}`);
  }

  private usesRotation(): boolean {
    return this.opts.rotateSize > 0 || this.opts.rotateInterval > 0;
  }

  private needsRotation(): boolean {
    if (this.fd === null) return false;
    if (this.opts.rotateSize > 0 && this.size >= this.opts.rotateSize) return true;
    if (this.opts.rotateInterval > 0 && Date.now() - this.openedAt >= this.opts.rotateInterval) return true;
    return strftime(this.opts.datetimeFormat, new Date()) !== this.datetime;
  }

  /** Closes the file when it is due; called by the tool's timer as well, so an idle file still rotates. */
  rotateIfDue(): void {
    if (this.needsRotation()) this.rotate();
  }

  private rotate(): void {
    this.close();
    this.rev++;
  }

  private fileName(): string {
    const rev = this.opts.filenameFormat.includes("<REV>") && this.usesRotation() ? `-${String(this.rev).padStart(6, "0")}` : "";
    let name = this.opts.filenameFormat
      .replaceAll("<TOPIC>", this.topic)
      .replaceAll("<HOST>", this.opts.hostIdentifier)
      .replaceAll("<DATETIME>", this.datetime)
      .replaceAll("<PID>", String(process.pid))
      .replaceAll("<REV>", rev);
    if (this.opts.gzip) name += ".gz";
    return name;
  }

  private open(): void {
    const datetime = strftime(this.opts.datetimeFormat, new Date());
    if (datetime !== this.datetime) {
      this.datetime = datetime;
      this.rev = 0;
    }
    const canRev = this.opts.filenameFormat.includes("<REV>") && this.usesRotation();
    for (;;) {
      this.name = this.fileName();
      this.path = join(this.opts.workDir, this.name);
      const taken = existsSync(this.path) || (this.opts.workDir !== this.opts.outputDir && existsSync(join(this.opts.outputDir, this.name)));
      if (!taken || !canRev) break;
      this.rev++;
    }
    this.fd = openSync(this.path, "a");
    this.size = statSync(this.path).size;
    this.openedAt = Date.now();
    this.logger.info(`[${this.topic}] opening ${this.path}`);
  }
}
