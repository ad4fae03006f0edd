#!/usr/bin/env bun
/**
 * Disk queue throughput next to a raw sequential-write baseline measured in the
 * same run: 200-byte messages written with sync off, --sync-every=1000 and
 * --sync-every=1, then read back.
 *
 *   bun bench/diskqueue.ts [--messages=500000] [--size=200]
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "../src/common/logger.ts";
import { DiskQueue } from "../src/diskqueue/disk-queue.ts";
import { Delivery } from "../src/core/message.ts";
import { writeMessageRecord } from "../src/core/message-record.ts";
import { MESSAGE_HEADER_SIZE } from "../src/protocol/frames.ts";

const arg = (name: string, dflt: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt);
const messages = arg("messages", 500_000);
const size = arg("size", 200);
const recordBytes = 4 + MESSAGE_HEADER_SIZE + size;
const logger = new Logger({ level: "warn", prefix: "[bench] " });

function report(what: string, count: number, bytes: number, ms: number): void {
  const secs = ms / 1000;
  console.log(
    `${what.padEnd(34)} ${Math.round(count / secs).toLocaleString().padStart(11)} msgs/s ${(bytes / secs / 1048576).toFixed(1).padStart(8)} MB/s`,
  );
}

function withDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "bunsq-bench-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Raw baseline: the same bytes in 64 KiB writeSync calls, fsync at the end. */
function rawBaseline(): void {
  withDir((dir) => {
    const total = messages * recordBytes;
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    const fd = openSync(join(dir, "raw.dat"), "w");
    const t0 = performance.now();
    for (let written = 0; written < total; written += chunk.length) writeSync(fd, chunk);
    fsyncSync(fd);
    const ms = performance.now() - t0;
    closeSync(fd);
    report("raw sequential write (64 KiB)", messages, total, ms);
  });
}

function queueRun(label: string, syncEvery: number, count: number): void {
  withDir((dir) => {
    const queue = new DiskQueue({
      dataPath: dir,
      name: "bench",
      maxBytesPerFile: 100 * 1024 * 1024,
      minRecordSize: MESSAGE_HEADER_SIZE,
      maxRecordSize: MESSAGE_HEADER_SIZE + 1024 * 1024,
      logger,
      onWrite: () => {},
    });
    const body = new Uint8Array(size).fill(0x62);
    const message = new Delivery(7_000_000_000_000, 1, Date.now() * 1e6, body, 0, body.length);
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      writeMessageRecord(queue, message, 0);
      if (queue.unsynced >= syncEvery) queue.syncData();
    }
    queue.sync();
    const writeMs = performance.now() - t0;
    report(`write, ${label}`, count, count * recordBytes, writeMs);
    const t1 = performance.now();
    let read = 0;
    while (queue.readNext() !== null) read++;
    const readMs = performance.now() - t1;
    if (read !== count) throw new Error(`read ${read} of ${count}`);
    report(`read back, ${label}`, count, count * recordBytes, readMs);
    queue.close();
  });
}

console.log(`${messages.toLocaleString()} messages of ${size} bytes (${recordBytes} bytes per record)`);
rawBaseline();
queueRun("sync off", Number.MAX_SAFE_INTEGER, messages);
queueRun("--sync-every=1000", 1000, messages);
queueRun("--sync-every=1 (fsync per message)", 1, Math.min(messages, 5000));
