/**
 * A write that fails part way (a full disk) in the middle of a publish, a spill or
 * a segment roll-over: the publish is refused as a whole, no cursor moves past
 * what is not stored, and every acknowledged message is still delivered. The
 * failure is injected through DiskQueue's write seam into real files.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "../../src/common/logger.ts";
import { NSQD } from "../../src/core/nsqd.ts";
import { parseNsqdOptions } from "../../src/core/options.ts";
import { Refusal } from "../../src/core/refusal.ts";
import { segmentWrites } from "../../src/diskqueue/disk-queue.ts";
import { FakeConsumer } from "../helpers/fake-consumer.ts";

const write = segmentWrites.write;
const quiet = new Logger({ level: "fatal", prefix: "" });
const encoder = new TextEncoder();
let cleanups: (() => void)[] = [];

afterEach(() => {
  segmentWrites.write = write;
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

function startNsqd(overrides: Record<string, unknown>): { nsqd: NSQD; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "bunsq-diskfail-"));
  const nsqd = new NSQD(parseNsqdOptions({ dataPath: dir, ...overrides }), quiet);
  nsqd.start();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => nsqd.close(false));
  return { nsqd, dir };
}

/**
 * Makes segment writes fail after `writes` more successful calls: the failing
 * call first writes half of what it was given, as a disk that fills up does.
 */
function failAfter(writes: number): void {
  let left = writes;
  segmentWrites.write = (fd, buffer, offset, length) => {
    if (left-- > 0) return write(fd, buffer, offset, length);
    if (left === -1 && length > 1) return write(fd, buffer, offset, Math.floor(length / 2));
    throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
  };
}

/** Publishes the bodies as one MPUB; false when it was refused. */
function publish(nsqd: NSQD, topic: string, bodies: string[]): boolean {
  const bytes = encoder.encode(bodies.join(""));
  const spans: number[] = [];
  let offset = 0;
  for (const body of bodies) {
    spans.push(offset, body.length);
    offset += body.length;
  }
  try {
    nsqd.getTopic(topic).publish(bytes, spans, bodies.length, 0);
    return true;
  } catch (err) {
    expect(err).toBeInstanceOf(Refusal);
    return false;
  }
}

const pad = (i: number) => `message-${i}-`.padEnd(40, "x");
const batch = (n: number) => Array.from({ length: 6 }, (_, i) => pad(n * 6 + i));

for (const [what, writes] of [
  ["at the first write of a spill", 0],
  ["after one segment roll-over of a spill", 1],
  ["after two segment roll-overs of a spill", 2],
] as const) {
  test(`a failure ${what} refuses the publish and loses nothing acknowledged`, () => {
    // records of 70 bytes in segments of 200: a spill of six messages writes at each of
    // two roll-overs and at the end
    const { nsqd } = startNsqd({ memQueueSize: 8, maxBytesPerFile: 200, syncEvery: 1 });
    const topic = nsqd.getTopic("t");
    const lagging = topic.getChannel("lagging");
    const live = new FakeConsumer(topic.getChannel("live"));
    const acked: string[] = [];
    for (let n = 0; n < 12; n++) {
      if (n === 6) failAfter(writes);
      const bodies = batch(n);
      const ok = publish(nsqd, "t", bodies);
      segmentWrites.write = write;
      if (n === 6) expect(ok).toBe(false);
      if (ok) acked.push(...bodies);
      live.finishAll();
    }
    // the lagging channel got every acknowledged message exactly once, none of the refused
    const got = new FakeConsumer(lagging).drain();
    expect(got.sort()).toEqual([...acked].sort());
    expect(live.drain().sort()).toEqual([...acked].sort());
    expect(lagging.depth).toBe(0);
  });
}

test("a failure while every channel writes to disk (--mem-queue-size=0) refuses the publish in every channel", () => {
  const { nsqd } = startNsqd({ memQueueSize: 0, maxBytesPerFile: 200, syncEvery: 1 });
  const topic = nsqd.getTopic("t");
  const a = topic.getChannel("a");
  const b = topic.getChannel("b");
  const acked: string[] = [];
  for (let i = 0; i < 40; i++) {
    // the second channel's write fails: the first channel's record of it must go too
    if (i === 20) failAfter(1);
    if (i === 21) segmentWrites.write = write;
    const body = pad(i);
    if (publish(nsqd, "t", [body])) acked.push(body);
  }
  expect(acked).not.toContain(pad(20));
  expect(new FakeConsumer(a).drain().sort()).toEqual([...acked].sort());
  expect(new FakeConsumer(b).drain().sort()).toEqual([...acked].sort());
});

test("a refused DPUB leaves no deferred message behind", () => {
  const { nsqd } = startNsqd({ memQueueSize: 100 });
  const topic = nsqd.getTopic("t");
  const channel = topic.getChannel("c");
  failAfter(0);
  const bytes = encoder.encode("later");
  expect(() => topic.publish(bytes, [0, bytes.length], 1, 60_000)).toThrow(Refusal);
  segmentWrites.write = write;
  expect(channel.deferredCount).toBe(0);
  topic.publish(bytes, [0, bytes.length], 1, 60_000);
  expect(channel.deferredCount).toBe(1);
});
