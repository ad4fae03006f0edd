import { describe, expect, test } from "bun:test";
import { MessageRing, type MessageFields } from "../../src/ringbuffer/message-ring.ts";
import { mulberry32, TEST_SEEDS } from "../helpers/random.ts";

/** What a model queue holds per message; the ring must agree with it field by field. */
type Entry = MessageFields;

function push(ring: MessageRing, e: Entry): void {
  ring.push(e.sequence, e.node, e.timestamp, e.deferMs, e.source, e.offset, e.length);
}

function expectSame(ring: MessageRing, model: Entry[]): void {
  expect(ring.length).toBe(model.length);
  const got: MessageFields = { sequence: 0, node: 0, timestamp: 0, deferMs: 0, source: new Uint8Array(0), offset: 0, length: 0 };
  model.forEach((e, i) => {
    ring.read(i, got);
    expect(got.sequence).toBe(e.sequence);
    expect(got.node).toBe(e.node);
    expect(got.timestamp).toBe(e.timestamp);
    expect(got.deferMs).toBe(e.deferMs);
    expect(got.source).toBe(e.source);
    expect(got.offset).toBe(e.offset);
    expect(got.length).toBe(e.length);
  });
}

function entry(n: number, source: Uint8Array): Entry {
  return {
    sequence: 2 ** 52 + n, // beyond 32 bits: must survive as a double
    node: n % 1024,
    timestamp: 1.7e18 + n * 1000,
    deferMs: n % 3 === 0 ? 3_600_000 : 0,
    source,
    offset: n * 7,
    length: 200 + (n % 5),
  };
}

describe("MessageRing", () => {
  test("keeps every field of every message in order across segment boundaries", () => {
    const ring = new MessageRing();
    const source = new Uint8Array(8);
    const model: Entry[] = [];
    let n = 0;
    // shift some first so the head is mid-segment when later ones cross into new segments
    for (; n < 1500; n++) {
      push(ring, entry(n, source));
      model.push(entry(n, source));
    }
    for (let i = 0; i < 700; i++) {
      ring.shift();
      model.shift();
    }
    for (; n < 4000; n++) {
      push(ring, entry(n, source));
      model.push(entry(n, source));
    }
    expectSame(ring, model);
  });

  test("random pushes, shifts and pops agree with an array model", () => {
    for (const seed of TEST_SEEDS) {
      const random = mulberry32(seed);
      const ring = new MessageRing();
      const model: Entry[] = [];
      const sources = [new Uint8Array(1), new Uint8Array(2), new Uint8Array(3)];
      for (let step = 0; step < 12_000; step++) {
        const r = random();
        if (r < 0.6) {
          const e = entry(step, sources[step % 3]);
          push(ring, e);
          model.push(e);
        } else if (r < 0.9) {
          ring.shift();
          model.shift();
        } else {
          ring.pop();
          model.pop();
        }
      }
      expectSame(ring, model);
    }
  });

  test("allocates segments as it grows and lets them go as it drains, every message intact", () => {
    const ring = new MessageRing();
    const source = new Uint8Array(1);
    const model: Entry[] = [];
    for (let n = 0; n < 40_000; n++) {
      push(ring, entry(n, source));
      model.push(entry(n, source));
    }
    expect(ring.capacity).toBe(40 * 1024); // 40,000 messages: 40 segments of 1024, no doubling
    // drain most of it (each shift may halve the columns), checking as we go
    for (let k = 0; k < 39_990; k++) {
      ring.shift();
      model.shift();
      if (k % 9_999 === 0) expectSame(ring, model);
    }
    expect(ring.capacity).toBeLessThanOrEqual(2 * 1024); // the last segment and one spare
    expectSame(ring, model);
    for (let n = 0; n < 5000; n++) {
      push(ring, entry(n, source));
      model.push(entry(n, source));
    }
    expectSame(ring, model);
  });

  test("hovering around a segment boundary and around empty (random, balanced)", () => {
    for (const seed of TEST_SEEDS) {
      const random = mulberry32(seed);
      const ring = new MessageRing();
      const model: Entry[] = [];
      const source = new Uint8Array(1);
      for (let n = 0; n < 1020; n++) {
        push(ring, entry(n, source));
        model.push(entry(n, source));
      }
      for (let step = 0; step < 20_000; step++) {
        const r = random();
        if (r < 0.5) {
          push(ring, entry(step, source));
          model.push(entry(step, source));
        } else if (r < 0.75) {
          ring.shift();
          model.shift();
        } else {
          ring.pop();
          model.pop();
        }
        if (step % 1000 === 0) expectSame(ring, model);
      }
      expectSame(ring, model);
      expect(ring.capacity).toBeLessThanOrEqual((Math.ceil(model.length / 1024) + 2) * 1024);
    }
  });

  test("shift and pop on an empty ring do nothing; clear empties and keeps working", () => {
    const ring = new MessageRing();
    ring.shift();
    ring.pop();
    expect(ring.length).toBe(0);
    const source = new Uint8Array(1);
    for (let n = 0; n < 100; n++) push(ring, entry(n, source));
    ring.clear();
    expect(ring.length).toBe(0);
    push(ring, entry(5, source));
    expectSame(ring, [entry(5, source)]);
  });
});
