import { describe, expect, test } from "bun:test";
import { SampleRing } from "../../src/ringbuffer/sample-ring.ts";
import { mulberry32, TEST_SEEDS } from "../helpers/random.ts";

describe("SampleRing", () => {
  test("starts empty, with its whole storage allocated once", () => {
    const ring = new SampleRing(3, 360);
    expect(ring.length).toBe(0);
    expect(ring.byteLength).toBe(3 * 360 * 4);
    expect(ring.series(0)).toEqual([]);
    expect(ring.allZero).toBe(true);
  });

  test("keeps each field's samples oldest first until full", () => {
    const ring = new SampleRing(2, 4);
    ring.push([1, 10]);
    ring.push([2, 20]);
    ring.push([3, 30]);
    expect(ring.length).toBe(3);
    expect(ring.series(0)).toEqual([1, 2, 3]);
    expect(ring.series(1)).toEqual([10, 20, 30]);
  });

  test("overwrites the oldest sample once full", () => {
    const ring = new SampleRing(2, 3);
    for (let i = 1; i <= 7; i++) ring.push([i, i * 100]);
    expect(ring.length).toBe(3);
    expect(ring.series(0)).toEqual([5, 6, 7]);
    expect(ring.series(1)).toEqual([500, 600, 700]);
    expect(ring.byteLength).toBe(2 * 3 * 4);
  });

  test("clamps values into unsigned 32 bits and truncates fractions", () => {
    const ring = new SampleRing(5, 2);
    ring.push([-5, 2 ** 40, Number.NaN, 7.9, 0xffff_ffff]);
    expect([0, 1, 2, 3, 4].map((f) => ring.series(f)[0])).toEqual([0, 0xffff_ffff, 0, 7, 0xffff_ffff]);
  });

  test("missing fields in a sample are 0", () => {
    const ring = new SampleRing(3, 2);
    ring.push([4]);
    expect([ring.series(0), ring.series(1), ring.series(2)]).toEqual([[4], [0], [0]]);
  });

  test("allZero: true only when every sample held is zero", () => {
    const ring = new SampleRing(2, 3);
    ring.push([0, 0]);
    expect(ring.allZero).toBe(true);
    ring.push([0, 1]);
    expect(ring.allZero).toBe(false);
    ring.push([0, 0]);
    ring.push([0, 0]);
    expect(ring.allZero).toBe(false); // the [0, 1] sample is still in the window
    ring.push([0, 0]);
    expect(ring.allZero).toBe(true);
    ring.push([0.5, 0]); // truncated to 0
    expect(ring.allZero).toBe(true);
  });

  test("refuses bad shapes and fields", () => {
    expect(() => new SampleRing(0, 10)).toThrow(RangeError);
    expect(() => new SampleRing(2, 0)).toThrow(RangeError);
    expect(() => new SampleRing(2, 1.5)).toThrow(RangeError);
    const ring = new SampleRing(2, 2);
    expect(() => ring.series(2)).toThrow(RangeError);
    expect(() => ring.series(-1)).toThrow(RangeError);
  });

  test("matches a plain array model under random pushes", () => {
    for (const seed of TEST_SEEDS) {
      const random = mulberry32(seed);
      const capacity = 1 + Math.floor(random() * 20);
      const ring = new SampleRing(3, capacity);
      const model: number[][] = [];
      for (let i = 0; i < 200; i++) {
        const sample = [0, 1, 2].map(() => (random() < 0.3 ? 0 : Math.floor(random() * 1000)));
        ring.push(sample);
        model.push(sample);
        if (model.length > capacity) model.shift();
        for (let f = 0; f < 3; f++) expect(ring.series(f), `seed ${seed}`).toEqual(model.map((s) => s[f]!));
        expect(ring.allZero, `seed ${seed}`).toBe(model.every((s) => s.every((v) => v === 0)));
      }
    }
  });
});
