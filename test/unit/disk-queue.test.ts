/** The segment-file queue on real files in a temp dir: order, rolling, restarts, corruption. */
import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskQueue } from "../../src/diskqueue/disk-queue.ts";
import { Logger } from "../../src/common/logger.ts";
import { until } from "../helpers/nsqd.ts";

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function setup(maxBytesPerFile = 1024) {
  const dir = mkdtempSync(join(tmpdir(), "bunsq-dq-"));
  dirs.push(dir);
  const lines: string[] = [];
  const logger = new Logger({ level: "debug", prefix: "", write: (l) => lines.push(l) });
  const open = () =>
    new DiskQueue({
      dataPath: dir,
      name: "t:c",
      maxBytesPerFile,
      minRecordSize: 1,
      maxRecordSize: 1000,
      logger,
      onWrite: () => {},
    });
  return { dir, lines, open };
}

const enc = new TextEncoder();
const dec = new TextDecoder();
function put(q: DiskQueue, text: string): void {
  const bytes = enc.encode(text);
  const pos = q.reserveRecord(bytes.length);
  q.writeBuffer.set(bytes, pos);
}
function readAll(q: DiskQueue): string[] {
  const out: string[] = [];
  for (let r = q.readNext(); r !== null; r = q.readNext()) out.push(dec.decode(r));
  return out;
}
const segmentName = (key: number) => `t:c.diskqueue.${String(Math.floor(key / 2 ** 32)).padStart(6, "0")}.dat`;
const segments = (dir: string) => readdirSync(dir).filter((f) => /\.diskqueue\.\d+\.dat$/.test(f)).sort();

describe("DiskQueue", () => {
  test("reads back in order across rolled segments and deletes finished ones", () => {
    const { dir, open } = setup(100);
    const q = open();
    const want = Array.from({ length: 50 }, (_, i) => `message-${i}`);
    for (const w of want) put(q, w);
    expect(q.depth).toBe(50);
    q.flush();
    expect(segments(dir).length).toBeGreaterThan(5);
    expect(readAll(q)).toEqual(want);
    expect(q.depth).toBe(0);
    // a plain queue's reader says when what it read is safe elsewhere
    expect(segments(dir).length).toBeGreaterThan(5);
    q.deleteReadSegments();
    expect(segments(dir).length).toBeLessThanOrEqual(1);
    q.close();
  });

  test("interleaved writes and reads on the file being written", () => {
    const { open } = setup(1 << 20);
    const q = open();
    const got: string[] = [];
    for (let i = 0; i < 100; i++) {
      put(q, `m${i}`);
      if (i % 3 === 0) got.push(dec.decode(q.readNext()!));
    }
    got.push(...readAll(q));
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
  });

  test("resumes where it stopped after close and reopen", () => {
    const { open } = setup(64);
    let q = open();
    for (let i = 0; i < 20; i++) put(q, `m${i}`);
    for (let i = 0; i < 7; i++) q.readNext();
    q.close();
    q = open();
    expect(q.depth).toBe(13);
    expect(readAll(q)).toEqual(Array.from({ length: 13 }, (_, i) => `m${i + 7}`));
  });

  test("records written after the last metadata save are recovered (crash before close)", () => {
    const { open } = setup(64);
    const q = open();
    for (let i = 0; i < 5; i++) put(q, `m${i}`);
    q.sync(); // positions saved with 5 records
    for (let i = 5; i < 30; i++) put(q, `m${i}`);
    q.syncData(); // data on disk, positions not saved: as after kill -9
    const again = open();
    expect(again.depth).toBe(30);
    expect(readAll(again)).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`));
  });

  test("a torn record at the end is cut off and kept aside", () => {
    const { dir, open, lines } = setup(1 << 20);
    const q = open();
    for (let i = 0; i < 3; i++) put(q, `m${i}`);
    q.sync();
    const file = join(dir, segments(dir)[0]);
    appendFileSync(file, new Uint8Array([0, 0, 0, 50, 1, 2, 3])); // size 50, only 3 bytes follow
    const again = open();
    expect(readAll(again)).toEqual(["m0", "m1", "m2"]);
    expect(readdirSync(dir).some((f) => f.endsWith(".bad"))).toBe(true);
    expect(lines.some((l) => l.includes("unreadable bytes"))).toBe(true);
    put(again, "after");
    expect(readAll(again)).toEqual(["after"]);
  });

  test("garbage in a finished segment moves it aside as .bad and reading continues with the next", () => {
    const { dir, open, lines } = setup(30);
    const q = open();
    for (let i = 0; i < 12; i++) put(q, `msg-${String(i).padStart(2, "0")}`);
    q.close();
    const files = segments(dir);
    expect(files.length).toBeGreaterThan(3);
    const second = join(dir, files[1]);
    const size = statSync(second).size;
    writeFileSync(second, new Uint8Array(size).fill(0xff)); // size field 0xffffffff: invalid
    const again = open();
    const got = readAll(again);
    expect(got.length).toBeLessThan(12);
    expect(got[0]).toBe("msg-00");
    expect(got[got.length - 1]).toBe("msg-11");
    expect(existsSync(`${second}.bad`)).toBe(true);
    expect(lines.some((l) => l.includes("is corrupt"))).toBe(true);
  });

  test("a missing metadata file is rebuilt from the segments", () => {
    const { dir, open, lines } = setup(50);
    const q = open();
    for (let i = 0; i < 10; i++) put(q, `m${i}`);
    q.close();
    rmSync(join(dir, "t:c.diskqueue.meta.dat"));
    const again = open();
    expect(again.depth).toBe(10);
    expect(readAll(again)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect(lines.some((l) => l.includes("no metadata"))).toBe(true);
  });

  test("unreadable metadata is rebuilt from the segments and said so", () => {
    const { dir, open, lines } = setup(50);
    const q = open();
    for (let i = 0; i < 3; i++) put(q, `m${i}`);
    q.close();
    writeFileSync(join(dir, "t:c.diskqueue.meta.dat"), "garbage");
    expect(readAll(open())).toEqual(["m0", "m1", "m2"]);
    expect(lines.some((l) => l.includes("metadata unreadable"))).toBe(true);
  });

  test("metadata pointing past the end of the data is rebuilt", () => {
    const { dir, open, lines } = setup(1 << 20);
    const q = open();
    for (let i = 0; i < 4; i++) put(q, `m${i}`);
    q.close();
    writeFileSync(join(dir, "t:c.diskqueue.meta.dat"), "99\n0,0\n0,999999\n");
    const again = open();
    expect(readAll(again)).toEqual(["m0", "m1", "m2", "m3"]);
    expect(lines.some((l) => l.includes("does not match"))).toBe(true);
  });

  test("a truncated segment serves what is readable", () => {
    const { dir, open } = setup(1 << 20);
    const q = open();
    for (let i = 0; i < 10; i++) put(q, `message-${i}`);
    q.close();
    const file = join(dir, segments(dir)[0]);
    truncateSync(file, statSync(file).size - 5);
    const again = open();
    expect(readAll(again)).toEqual(Array.from({ length: 9 }, (_, i) => `message-${i}`));
  });

  test("a background fsync writes the data first, runs one at a time, and survives a roll meanwhile", async () => {
    const { dir, open } = setup(200);
    const q = open();
    const errors: Error[] = [];
    for (let i = 0; i < 5; i++) put(q, `a-${i}`);
    q.syncDataInBackground((e) => errors.push(e));
    expect(q.unsynced).toBe(0);
    // written to the segment before the fsync starts: 5 records of 4 + 3 bytes
    expect(statSync(join(dir, segments(dir)[0])).size).toBe(35);
    // while it runs, more records keep counting as unsynced; a roll fsyncs and closes the file under it
    for (let i = 0; i < 30; i++) put(q, `b-${i}`);
    q.syncDataInBackground((e) => errors.push(e));
    await until(() => {
      q.syncDataInBackground((e) => errors.push(e));
      return q.unsynced === 0;
    }, "the next background fsync");
    expect(segments(dir).length).toBeGreaterThan(1);
    expect(errors).toEqual([]);
    expect(readAll(q)).toEqual([...Array.from({ length: 5 }, (_, i) => `a-${i}`), ...Array.from({ length: 30 }, (_, i) => `b-${i}`)]);
    q.close();
  });

  test("empty() and delete() remove the files", () => {
    const { dir, open } = setup(30);
    const q = open();
    for (let i = 0; i < 10; i++) put(q, `m${i}`);
    q.flush();
    q.empty();
    expect(q.depth).toBe(0);
    expect(segments(dir)).toEqual([]);
    put(q, "fresh");
    expect(readAll(q)).toEqual(["fresh"]);
    q.delete();
    expect(readdirSync(dir).filter((f) => f.startsWith("t:c."))).toEqual([]);
  });
});

describe("DiskQueue reading while writing", () => {
  test("records buffered when the reader last looked are read after the file rolls", () => {
    const { open } = setup(100);
    const q = open();
    const name = (i: number) => `m${String(i).padStart(5, "0")}`; // 6 bytes: 10-byte records
    for (let i = 0; i < 5; i++) put(q, name(i));
    expect(dec.decode(q.readNext()!)).toBe(name(0)); // the reader sees 50 bytes of file 0
    for (let i = 5; i < 11; i++) put(q, name(i)); // fills file 0 to 100 bytes, the 11th rolls
    expect(readAll(q)).toEqual(Array.from({ length: 10 }, (_, i) => name(i + 1)));
  });

  test("a reader on the file being written follows it across a roll", () => {
    const { open } = setup(200);
    const q = open();
    const want: string[] = [];
    const got: string[] = [];
    for (let i = 0; i < 300; i++) {
      const m = `m${i}`;
      want.push(m);
      put(q, m);
      // read a little behind the writer, so the reader sits on the write file when it rolls
      if (i % 2 === 1) got.push(dec.decode(q.readNext()!));
    }
    got.push(...readAll(q));
    expect(got).toEqual(want);
  });
});

describe("DiskQueue keeping records until they are finished (a channel's queue)", () => {
  /** Opens the queue in retaining mode; `held` lists what the test still holds, for snapshots. */
  function retaining(open: () => DiskQueue, held: Map<number, { dueMs: number; attempts: number }>) {
    const q = open();
    const recovered = q.retainReads({
      forEachHeld(each) {
        for (const [key, h] of held) each(key, h.dueMs, h.attempts);
      },
    });
    return { q, recovered };
  }
  /** Reads one record and holds it. */
  function take(q: DiskQueue, held: Map<number, { dueMs: number; attempts: number }>): { key: number; text: string } {
    const payload = q.readNext()!;
    held.set(q.lastReadKey, { dueMs: q.lastReadDueMs, attempts: 1 });
    return { key: q.lastReadKey, text: dec.decode(payload) };
  }

  test("after a crash, what was held comes back and what was finished does not", () => {
    const { dir, open } = setup(100);
    const held = new Map<number, { dueMs: number; attempts: number }>();
    const { q } = retaining(open, held);
    for (let i = 0; i < 30; i++) put(q, `message-${i}`);
    const taken = Array.from({ length: 20 }, () => take(q, held));
    // finish 0-14 and 19; requeue 15 with a due time; 16-18 stay in flight
    for (const t of [...taken.slice(0, 15), taken[19]]) {
      q.finish(t.key);
      held.delete(t.key);
    }
    const due = Date.now() + 60_000;
    q.requeue(taken[15].key, due, 1);
    held.set(taken[15].key, { dueMs: due, attempts: 1 });
    q.flush(); // the turn's barrier; then the process dies without close()
    expect(segments(dir).length).toBeLessThan(10); // segments whose records were all finished are gone

    const again = retaining(open, new Map());
    // the deferred one is held again at once; the ones in flight are read again, marked as
    // delivered before (the journal's READ mark), then the unread ones; nothing finished again
    expect(again.recovered.map((r) => [dec.decode(r.payload), r.dueMs, r.attempts])).toEqual([["message-15", due, 1]]);
    const rest: [string, boolean][] = [];
    for (let r = again.q.readNext(); r !== null; r = again.q.readNext()) rest.push([dec.decode(r), again.q.lastReadRedelivered]);
    expect(rest).toEqual([
      ...[16, 17, 18].map((i): [string, boolean] => [`message-${i}`, true]),
      ...Array.from({ length: 10 }, (_, i): [string, boolean] => [`message-${i + 20}`, false]),
    ]);
    expect(again.q.depth).toBe(0);
  });

  test("a record with a due time keeps it on disk, and a clean close keeps what is held", () => {
    const { open } = setup(1000);
    const held = new Map<number, { dueMs: number; attempts: number }>();
    const { q } = retaining(open, held);
    const due = Date.now() + 30_000;
    const bytes = enc.encode("later");
    const at = q.reserveRecord(bytes.length, due); // (the write buffer may be replaced by the reserve)
    q.writeBuffer.set(bytes, at);
    put(q, "now");
    const later = take(q, held);
    expect(later.text).toBe("later");
    expect(q.lastReadDueMs).toBe(due);
    expect(take(q, held).text).toBe("now");
    q.close();
    const again = retaining(open, new Map());
    expect(again.recovered.map((r) => [dec.decode(r.payload), r.dueMs])).toEqual([
      ["later", due],
      ["now", 0],
    ]);
    expect(again.q.readNext()).toBeNull();
  });

  test("a segment read to its end goes only when no record read from it is held any more", () => {
    const { dir, open } = setup(100);
    const held = new Map<number, { dueMs: number; attempts: number }>();
    const { q } = retaining(open, held);
    for (let i = 0; i < 20; i++) put(q, `message-${i}`);
    const first = take(q, held); // held: its segment must stay
    for (let r = q.readNext(); r !== null; r = q.readNext()) q.finish(q.lastReadKey);
    q.sync(); // segments are swept when one is read to its end and at each sync
    const before = segments(dir);
    expect(before).toContain(segmentName(first.key));
    expect(before.length).toBeGreaterThanOrEqual(2); // the first, held, and the one being written
    q.finish(first.key);
    held.delete(first.key);
    q.sync();
    expect(segments(dir)).not.toContain(segmentName(first.key));
    expect(segments(dir).length).toBe(1); // only the one being written
  });
});
