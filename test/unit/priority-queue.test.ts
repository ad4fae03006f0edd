import { describe, expect, test } from "bun:test";
import { type HeapItem, PriorityQueue } from "../../src/ringbuffer/index.ts";
import { mulberry32, TEST_SEEDS } from "../helpers/random.ts";

const SEEDS = TEST_SEEDS;

interface Item extends HeapItem {
  id: number;
}

function item(id: number, priority: number): Item {
  return { id, priority, heapIndex: -1 };
}

// Private backing arrays, inspected to check the heap invariant directly.
function slots(pq: PriorityQueue<Item>): Item[] {
  return (pq as unknown as { heap: Item[] }).heap;
}

function cachedKeys(pq: PriorityQueue<Item>): Float64Array {
  return (pq as unknown as { keys: Float64Array }).keys;
}

function checkInvariant(pq: PriorityQueue<Item>, ctx = ""): void {
  const heap = slots(pq);
  expect(heap.length, ctx).toBe(pq.length);
  for (let i = 0; i < heap.length; i++) {
    expect(heap[i].heapIndex, `${ctx} heapIndex at slot ${i}`).toBe(i);
    expect(cachedKeys(pq)[i], `${ctx} cached key at slot ${i}`).toBe(heap[i].priority);
    if (i > 0) {
      const parent = heap[(i - 1) >> 1];
      expect(parent.priority <= heap[i].priority, `${ctx} heap order at slot ${i}`).toBe(true);
    }
  }
}

function popAll(pq: PriorityQueue<Item>): Item[] {
  const out: Item[] = [];
  for (let x = pq.pop(); x !== undefined; x = pq.pop()) out.push(x);
  return out;
}

describe("PriorityQueue", () => {
  test("empty queue", () => {
    const pq = new PriorityQueue<Item>();
    expect(pq.length).toBe(0);
    expect(pq.peek()).toBeUndefined();
    expect(pq.pop()).toBeUndefined();
    expect(pq.popIfDue(Infinity)).toBeUndefined();
    expect(pq.remove(item(1, 1))).toBe(false);
  });

  test("pops in priority order and resets heapIndex", () => {
    const pq = new PriorityQueue<Item>();
    const prios = [5, 3, 8, 1, 9, 2, 7, 2, 0, 6];
    const items = prios.map((p, i) => item(i, p));
    for (const it of items) pq.push(it);
    checkInvariant(pq);
    expect(pq.length).toBe(10);
    expect(pq.peek()?.priority).toBe(0);
    const out = popAll(pq);
    expect(out.map((x) => x.priority)).toEqual([...prios].sort((a, b) => a - b));
    expect(out.every((x) => x.heapIndex === -1)).toBe(true);
    expect(pq.length).toBe(0);
  });

  test("push sets heapIndex and rejects duplicates and NaN", () => {
    const pq = new PriorityQueue<Item>();
    const a = item(1, 10);
    pq.push(a);
    expect(a.heapIndex).toBe(0);
    expect(() => pq.push(a)).toThrow();
    expect(() => pq.push(item(2, Number.NaN))).toThrow(RangeError);
    expect(pq.length).toBe(1);
    // An item that is in another heap has a heapIndex that does not point at itself here.
    const other = new PriorityQueue<Item>();
    const b = item(3, 1);
    other.push(b);
    other.push(item(4, 0));
    expect(pq.remove(b)).toBe(false);
  });

  test("popIfDue pops only items at or below the limit", () => {
    const pq = new PriorityQueue<Item>();
    for (const p of [100, 50, 150, 75, 125]) pq.push(item(p, p));
    expect(pq.popIfDue(49)).toBeUndefined();
    expect(pq.length).toBe(5);
    expect(pq.popIfDue(Number.NaN)).toBeUndefined();
    const due: number[] = [];
    for (let x = pq.popIfDue(100); x !== undefined; x = pq.popIfDue(100)) {
      expect(x.heapIndex).toBe(-1);
      due.push(x.priority);
    }
    expect(due).toEqual([50, 75, 100]);
    expect(pq.length).toBe(2);
    expect(pq.peek()?.priority).toBe(125);
    checkInvariant(pq);
    expect(pq.popIfDue(125)?.priority).toBe(125);
    expect(pq.popIfDue(Infinity)?.priority).toBe(150);
    expect(pq.popIfDue(Infinity)).toBeUndefined();
  });

  test("remove of root, last, middle, and absent items", () => {
    const pq = new PriorityQueue<Item>();
    const items = Array.from({ length: 15 }, (_, i) => item(i, (i * 7) % 15));
    for (const it of items) pq.push(it);
    checkInvariant(pq);

    const root = pq.peek()!;
    expect(pq.remove(root)).toBe(true);
    expect(root.heapIndex).toBe(-1);
    checkInvariant(pq);

    const last = slots(pq)[pq.length - 1];
    expect(pq.remove(last)).toBe(true);
    checkInvariant(pq);

    const middle = slots(pq)[3];
    expect(pq.remove(middle)).toBe(true);
    checkInvariant(pq);

    expect(pq.remove(middle)).toBe(false); // already removed
    expect(pq.remove(item(99, 0))).toBe(false);
    const impostor = item(100, 0);
    impostor.heapIndex = 2; // points at a slot that holds a different item
    expect(pq.remove(impostor)).toBe(false);
    expect(pq.length).toBe(12);

    const rest = popAll(pq).map((x) => x.id);
    const removed = new Set([root.id, last.id, middle.id]);
    expect(rest.sort((a, b) => a - b)).toEqual(items.map((x) => x.id).filter((id) => !removed.has(id)));
  });

  test("remove where the replacement has to move up", () => {
    // Layout: [0, 1, 50, 2, 3, 51, 52, 8]. Removing 51 (slot 5, parent 50) moves the
    // last leaf 8, which came from the other subtree, into slot 5; it must sift up.
    const pq = new PriorityQueue<Item>();
    const items = [0, 1, 50, 2, 3, 51, 52, 8].map((p, i) => item(i, p));
    for (const it of items) pq.push(it);
    expect(slots(pq).map((x) => x.priority)).toEqual([0, 1, 50, 2, 3, 51, 52, 8]);
    expect(pq.remove(items[5])).toBe(true);
    checkInvariant(pq);
    expect(items[7].heapIndex).toBe(2);
    expect(items[2].heapIndex).toBe(5);
    expect(popAll(pq).map((x) => x.priority)).toEqual([0, 1, 2, 3, 8, 50, 52]);
  });

  test("update moves items up and down", () => {
    const pq = new PriorityQueue<Item>();
    const items = Array.from({ length: 20 }, (_, i) => item(i, i * 10));
    for (const it of items) pq.push(it);
    pq.update(items[15], -5);
    checkInvariant(pq);
    expect(pq.peek()).toBe(items[15]);
    pq.update(items[0], 1000);
    checkInvariant(pq);
    pq.update(items[15], 1000); // tie with items[0]
    checkInvariant(pq);
    pq.update(items[7], 70); // unchanged
    checkInvariant(pq);
    expect(pq.peek()).toBe(items[1]);
    const order = popAll(pq).map((x) => x.priority);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order.slice(-2)).toEqual([1000, 1000]);
  });

  test("update rejects items not in the heap and NaN", () => {
    const pq = new PriorityQueue<Item>();
    const a = item(1, 1);
    expect(() => pq.update(a, 5)).toThrow();
    pq.push(a);
    expect(() => pq.update(a, Number.NaN)).toThrow(RangeError);
    expect(a.priority).toBe(1);
    pq.pop();
    expect(() => pq.update(a, 5)).toThrow();
  });

  test("clear resets heapIndex and releases references", () => {
    const pq = new PriorityQueue<Item>();
    const items = Array.from({ length: 50 }, (_, i) => item(i, 50 - i));
    for (const it of items) pq.push(it);
    pq.clear();
    expect(pq.length).toBe(0);
    expect(slots(pq).length).toBe(0);
    expect(items.every((x) => x.heapIndex === -1)).toBe(true);
    expect(pq.pop()).toBeUndefined();
    expect(pq.remove(items[0])).toBe(false);
    // Items can be reused afterwards.
    pq.push(items[3]);
    pq.push(items[1]);
    expect(pq.pop()).toBe(items[3]);
  });

  test("drain removes everything, tolerates push and throw from the callback", () => {
    const pq = new PriorityQueue<Item>();
    const items = Array.from({ length: 30 }, (_, i) => item(i, (i * 13) % 30));
    for (const it of items) pq.push(it);
    const seen = new Set<number>();
    const extra = item(100, -1);
    pq.drain((x) => {
      expect(x.heapIndex).toBe(-1);
      seen.add(x.id);
      if (x.id === 5) pq.push(extra);
      checkInvariant(pq);
    });
    expect(pq.length).toBe(0);
    expect(seen.size).toBe(31);
    expect(seen.has(100)).toBe(true);

    for (const it of items) pq.push(it);
    let n = 0;
    expect(() =>
      pq.drain(() => {
        if (++n === 10) throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(pq.length).toBe(20);
    checkInvariant(pq);
  });

  test("equal priorities", () => {
    const pq = new PriorityQueue<Item>();
    const items = Array.from({ length: 100 }, (_, i) => item(i, i % 3));
    for (const it of items) pq.push(it);
    checkInvariant(pq);
    expect(pq.remove(items[50])).toBe(true);
    checkInvariant(pq);
    const out = popAll(pq);
    expect(out.length).toBe(99);
    expect(out.map((x) => x.priority)).toEqual([...out.map((x) => x.priority)].sort((a, b) => a - b));
  });

  for (const seed of SEEDS) {
    test(`randomized against a reference model (seed ${seed})`, () => {
      const rand = mulberry32(seed);
      const pq = new PriorityQueue<Item>();
      const inHeap = new Set<Item>();
      const pool = Array.from({ length: 300 }, (_, i) => item(i, 0));
      const randomPriority = () => Math.floor(rand() * 1000) - 100; // plenty of ties
      const modelMin = () => {
        let min = Infinity;
        for (const x of inHeap) if (x.priority < min) min = x.priority;
        return min;
      };

      for (let step = 0; step < 20000; step++) {
        const ctx = `seed=${seed} step=${step} (rerun with BUNSQ_TEST_SEED=${seed})`;
        const r = rand();
        const target = pool[Math.floor(rand() * pool.length)];
        if (r < 0.35) {
          if (inHeap.has(target)) {
            expect(() => pq.push(target), ctx).toThrow();
          } else {
            target.priority = randomPriority();
            pq.push(target);
            inHeap.add(target);
          }
        } else if (r < 0.5) {
          const expected = inHeap.size === 0 ? undefined : modelMin();
          const x = pq.pop();
          expect(x?.priority, ctx).toBe(expected);
          if (x !== undefined) {
            expect(inHeap.has(x), ctx).toBe(true);
            expect(x.heapIndex, ctx).toBe(-1);
            inHeap.delete(x);
          }
        } else if (r < 0.6) {
          const limit = randomPriority();
          const x = pq.popIfDue(limit);
          const min = modelMin();
          if (min <= limit) {
            expect(x?.priority, ctx).toBe(min);
            inHeap.delete(x!);
            expect(x!.heapIndex, ctx).toBe(-1);
          } else {
            expect(x, ctx).toBeUndefined();
          }
        } else if (r < 0.8) {
          const was = inHeap.has(target);
          expect(pq.remove(target), ctx).toBe(was);
          expect(target.heapIndex, ctx).toBe(-1);
          inHeap.delete(target);
        } else if (r < 0.98) {
          const p = randomPriority();
          if (inHeap.has(target)) {
            pq.update(target, p);
            expect(target.priority, ctx).toBe(p);
          } else {
            expect(() => pq.update(target, p), ctx).toThrow();
          }
        } else if (r < 0.99) {
          expect(pq.peek()?.priority, ctx).toBe(inHeap.size === 0 ? undefined : modelMin());
        } else {
          pq.clear();
          inHeap.clear();
        }
        expect(pq.length, ctx).toBe(inHeap.size);
        if (step % 101 === 0) {
          checkInvariant(pq, ctx);
          for (const x of pool) expect(inHeap.has(x) || x.heapIndex === -1, ctx).toBe(true);
        }
      }
      checkInvariant(pq, `seed=${seed}`);
      const rest = popAll(pq);
      expect(rest.length, `seed=${seed}`).toBe(inHeap.size);
      expect(new Set(rest), `seed=${seed}`).toEqual(inHeap);
      const prios = rest.map((x) => x.priority);
      expect(prios, `seed=${seed}`).toEqual([...prios].sort((a, b) => a - b));
      expect(pool.every((x) => x.heapIndex === -1), `seed=${seed}`).toBe(true);
    });
  }
});
