import { describe, expect, test } from "bun:test";
import { RingBuffer } from "../../src/ringbuffer/index.ts";
import { mulberry32, TEST_SEEDS } from "../helpers/random.ts";

const SEEDS = TEST_SEEDS;

// Private backing array, inspected to verify that vacated slots are cleared.
function slots<T>(rb: RingBuffer<T>): (T | undefined)[] {
  return (rb as unknown as { items: (T | undefined)[] }).items;
}

function fill(rb: RingBuffer<number>, from: number, to: number): void {
  for (let i = from; i < to; i++) rb.push(i);
}

describe("RingBuffer", () => {
  test("empty buffer", () => {
    const rb = new RingBuffer<number>();
    expect(rb.length).toBe(0);
    expect(rb.capacity).toBe(16);
    expect(rb.shift()).toBeUndefined();
    expect(rb.peek()).toBeUndefined();
    expect(rb.at(0)).toBeUndefined();
    expect([...rb]).toEqual([]);
    expect(rb.length).toBe(0);
  });

  test("initial capacity is rounded up to a power of two", () => {
    expect(new RingBuffer(0).capacity).toBe(1);
    expect(new RingBuffer(1).capacity).toBe(1);
    expect(new RingBuffer(2).capacity).toBe(2);
    expect(new RingBuffer(3).capacity).toBe(4);
    expect(new RingBuffer(16).capacity).toBe(16);
    expect(new RingBuffer(17).capacity).toBe(32);
    expect(new RingBuffer(1000).capacity).toBe(1024);
    expect(new RingBuffer(2.5).capacity).toBe(4);
    expect(() => new RingBuffer(-1)).toThrow(RangeError);
    expect(() => new RingBuffer(Number.NaN)).toThrow(RangeError);
    expect(() => new RingBuffer(2 ** 31)).toThrow(RangeError);
  });

  test("FIFO order with push/shift", () => {
    const rb = new RingBuffer<number>(4);
    fill(rb, 0, 3);
    expect(rb.length).toBe(3);
    expect(rb.peek()).toBe(0);
    expect(rb.shift()).toBe(0);
    expect(rb.shift()).toBe(1);
    rb.push(3);
    expect(rb.shift()).toBe(2);
    expect(rb.shift()).toBe(3);
    expect(rb.shift()).toBeUndefined();
    expect(rb.length).toBe(0);
  });

  test("capacity 1 buffer grows on second push", () => {
    const rb = new RingBuffer<string>(1);
    rb.push("a");
    expect(rb.capacity).toBe(1);
    rb.push("b");
    expect(rb.capacity).toBe(2);
    rb.unshift("z");
    expect(rb.capacity).toBe(4);
    expect([...rb]).toEqual(["z", "a", "b"]);
  });

  test("growth while wrapped around keeps order", () => {
    const rb = new RingBuffer<number>(8);
    fill(rb, 0, 6);
    for (let i = 0; i < 5; i++) expect(rb.shift()).toBe(i);
    // head is now at slot 5; these pushes wrap past the end of the array
    fill(rb, 6, 13);
    expect(rb.length).toBe(8);
    expect(rb.capacity).toBe(8);
    rb.push(13); // full and wrapped -> grow
    expect(rb.capacity).toBe(16);
    expect(rb.length).toBe(9);
    expect([...rb]).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13]);
    for (let i = 0; i < 9; i++) expect(rb.at(i)).toBe(5 + i);
    for (let i = 5; i <= 13; i++) expect(rb.shift()).toBe(i);
    expect(rb.length).toBe(0);
  });

  test("repeated doubling preserves order", () => {
    const rb = new RingBuffer<number>(2);
    rb.push(-1);
    rb.shift(); // offset head so every growth starts wrapped
    fill(rb, 0, 1000);
    expect(rb.capacity).toBe(1024);
    expect([...rb]).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  test("unshift inserts at head, including across the array start", () => {
    const rb = new RingBuffer<number>(4);
    rb.unshift(1); // head wraps to the last slot immediately
    rb.unshift(0);
    rb.push(2);
    expect([...rb]).toEqual([0, 1, 2]);
    expect(rb.peek()).toBe(0);
    expect(rb.at(2)).toBe(2);
  });

  test("unshift after wrap-around, then growth from a full wrapped buffer", () => {
    const rb = new RingBuffer<number>(8);
    fill(rb, 0, 8);
    for (let i = 0; i < 3; i++) rb.shift();
    fill(rb, 8, 11); // wrapped: tail is behind head
    rb.unshift(2);
    rb.unshift(1);
    rb.unshift(0);
    expect(rb.length).toBe(11);
    expect(rb.capacity).toBe(16);
    expect([...rb]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    const full = new RingBuffer<number>(4);
    fill(full, 0, 4);
    full.shift();
    full.shift();
    full.push(4);
    full.push(5); // full, head at slot 2
    full.unshift(1); // grows, then writes at the new head
    expect(full.capacity).toBe(8);
    expect([...full]).toEqual([1, 2, 3, 4, 5]);
    expect(full.shift()).toBe(1);
  });

  test("at() bounds", () => {
    const rb = new RingBuffer<number>(4);
    fill(rb, 10, 13);
    expect(rb.at(0)).toBe(10);
    expect(rb.at(2)).toBe(12);
    expect(rb.at(3)).toBeUndefined();
    expect(rb.at(-1)).toBeUndefined();
    expect(rb.at(1.5)).toBeUndefined();
    expect(rb.at(Number.NaN)).toBeUndefined();
    expect(rb.at(Infinity)).toBeUndefined();
  });

  test("shift clears the vacated slot", () => {
    const rb = new RingBuffer<object>(4);
    const a = { id: "a" };
    const b = { id: "b" };
    rb.push(a);
    rb.push(b);
    expect(rb.shift()).toBe(a);
    expect(slots(rb).includes(a)).toBe(false);
    expect(slots(rb).includes(b)).toBe(true);
    expect(rb.shift()).toBe(b);
    expect(slots(rb).every((s) => s === undefined)).toBe(true);
  });

  test("clear releases references and shrinks to the initial capacity", () => {
    const rb = new RingBuffer<object>(4);
    const objs = Array.from({ length: 20 }, (_, i) => ({ i }));
    for (const o of objs) rb.push(o);
    expect(rb.capacity).toBe(32);
    rb.clear();
    expect(rb.length).toBe(0);
    expect(rb.capacity).toBe(4);
    expect(slots(rb).every((s) => s === undefined)).toBe(true);
    expect(rb.shift()).toBeUndefined();
    rb.push(objs[0]);
    expect([...rb]).toEqual([objs[0]]);

    // No growth: slots are cleared in place, including a wrapped range.
    const small = new RingBuffer<object>(4);
    for (let i = 0; i < 3; i++) small.push(objs[i]);
    small.shift();
    small.shift();
    small.push(objs[3]);
    small.push(objs[4]); // wraps
    const backing = slots(small);
    small.clear();
    expect(slots(small)).toBe(backing);
    expect(backing.every((s) => s === undefined)).toBe(true);
    expect(small.length).toBe(0);
    small.push(objs[5]);
    expect(small.peek()).toBe(objs[5]);
  });

  test("drain hands out every item in order and empties the buffer", () => {
    const rb = new RingBuffer<number>(4);
    fill(rb, 0, 4);
    rb.shift();
    fill(rb, 4, 7); // wrapped and grown
    const out: number[] = [];
    rb.drain((x) => out.push(x));
    expect(out).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rb.length).toBe(0);
    expect(slots(rb).every((s) => s === undefined)).toBe(true);
  });

  test("drain includes items pushed by the callback and keeps the rest if it throws", () => {
    const rb = new RingBuffer<number>();
    fill(rb, 0, 3);
    const out: number[] = [];
    rb.drain((x) => {
      out.push(x);
      if (x === 0) rb.push(100);
    });
    expect(out).toEqual([0, 1, 2, 100]);

    fill(rb, 0, 5);
    expect(() =>
      rb.drain((x) => {
        if (x === 2) throw new Error("boom");
      }),
    ).toThrow("boom");
    expect([...rb]).toEqual([3, 4]);
  });

  test("iteration is head to tail and does not consume", () => {
    const rb = new RingBuffer<string>(4);
    rb.push("b");
    rb.push("c");
    rb.unshift("a");
    rb.push("d");
    rb.push("e"); // grow
    expect([...rb]).toEqual(["a", "b", "c", "d", "e"]);
    const seen: string[] = [];
    for (const s of rb) seen.push(s);
    expect(seen).toEqual(["a", "b", "c", "d", "e"]);
    expect(rb.length).toBe(5);
    const it = rb[Symbol.iterator]();
    expect(it.next()).toEqual({ done: false, value: "a" });
    expect(Array.from(rb)).toEqual(seen);
  });

  test("stores falsy values faithfully", () => {
    const rb = new RingBuffer<number | null | string | boolean>(2);
    rb.push(0);
    rb.push(null);
    rb.push("");
    rb.push(false);
    expect(rb.length).toBe(4);
    expect(rb.shift()).toBe(0);
    expect(rb.shift()).toBeNull();
    expect(rb.shift()).toBe("");
    expect(rb.shift()).toBe(false);
    expect(rb.length).toBe(0);
  });

  for (const seed of SEEDS) {
    test(`randomized against an array model (seed ${seed})`, () => {
      const rand = mulberry32(seed);
      const initial = 1 + Math.floor(rand() * 8);
      const rb = new RingBuffer<number>(initial);
      const model: number[] = [];
      let next = 0;
      for (let step = 0; step < 20000; step++) {
        const ctx = `seed=${seed} step=${step} (rerun with BUNSQ_TEST_SEED=${seed})`;
        const r = rand();
        // Biased toward growth in the first half, toward shrinking later.
        const pushBias = step < 10000 ? 0.6 : 0.35;
        if (r < pushBias * 0.75) {
          rb.push(next);
          model.push(next++);
        } else if (r < pushBias) {
          rb.unshift(next);
          model.unshift(next++);
        } else if (r < 0.9) {
          expect(rb.shift(), ctx).toBe(model.shift());
        } else if (r < 0.95) {
          expect(rb.peek(), ctx).toBe(model[0]);
        } else if (r < 0.999) {
          const i = Math.floor(rand() * (model.length + 2)) - 1;
          expect(rb.at(i), ctx).toBe(i >= 0 ? model[i] : undefined);
        } else {
          rb.clear();
          model.length = 0;
        }
        expect(rb.length, ctx).toBe(model.length);
        const cap = rb.capacity;
        expect(cap >= Math.max(model.length, 1) && (cap & (cap - 1)) === 0, ctx).toBe(true);
        if (step % 997 === 0) expect([...rb], ctx).toEqual(model);
      }
      expect([...rb], `seed=${seed}`).toEqual(model);
      const drained: number[] = [];
      rb.drain((x) => drained.push(x));
      expect(drained, `seed=${seed}`).toEqual(model);
    });
  }
});

describe("RingBuffer.pop", () => {
  test("removes from the tail across wrap-around", () => {
    const rb = new RingBuffer<number>(4);
    for (let i = 0; i < 3; i++) rb.push(i);
    rb.shift();
    rb.shift();
    rb.push(3);
    rb.push(4); // wraps
    expect(rb.pop()).toBe(4);
    expect(rb.pop()).toBe(3);
    expect(rb.pop()).toBe(2);
    expect(rb.pop()).toBeUndefined();
    expect(rb.length).toBe(0);
    rb.push(7);
    expect(rb.peek()).toBe(7);
  });
});
