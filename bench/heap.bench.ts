// Registers benchmarks on import; runs them only when executed directly.
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { type HeapItem, PriorityQueue } from "../src/ringbuffer/index.ts";

// mitata's state argument; typed here because its overloads cannot infer it.
interface BenchState {
  get(name: string): unknown;
}

interface Entry extends HeapItem {
  id: number;
}

// Precomputed so the timed code does not include Math.random.
const RANDOM_COUNT = 1 << 16;
const RANDOM_MASK = RANDOM_COUNT - 1;

// Deterministic (mulberry32) so runs are comparable.
function randoms(seed: number): Float64Array {
  const out = new Float64Array(RANDOM_COUNT);
  let a = seed >>> 0;
  for (let i = 0; i < RANDOM_COUNT; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

function filledQueue(n: number, spread: number, seed: number): { pq: PriorityQueue<Entry>; items: Entry[] } {
  const r = randoms(seed);
  const pq = new PriorityQueue<Entry>();
  const items: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const e: Entry = { id: i, priority: r[i & RANDOM_MASK] * spread, heapIndex: -1 };
    items.push(e);
    pq.push(e);
  }
  return { pq, items };
}

group("heap: push+pop, random priorities", () => {
  summary(() => {
    // "Hold" model: pop the minimum and push it back with priority + a random
    // increment, which keeps the resident distribution stable across iterations.
    bench("pop+push n=$n", function* (state: BenchState) {
      const n = state.get("n") as number;
      const { pq } = filledQueue(n, n, 1);
      const inc = randoms(2);
      let k = 0;
      yield () => {
        const e = pq.pop()!;
        e.priority += inc[k++ & RANDOM_MASK] * n;
        pq.push(e);
        do_not_optimize(e);
      };
    }).args("n", [1000, 100000]);
  });
});

group("heap: remove random resident item (+ re-push)", () => {
  summary(() => {
    bench("remove+push n=$n", function* (state: BenchState) {
      const n = state.get("n") as number;
      const { pq, items } = filledQueue(n, n, 3);
      const pick = randoms(4);
      const prio = randoms(5);
      let k = 0;
      yield () => {
        const e = items[(pick[k & RANDOM_MASK] * n) | 0];
        pq.remove(e);
        e.priority = prio[k++ & RANDOM_MASK] * n;
        pq.push(e);
        do_not_optimize(e);
      };
    }).args("n", [1000, 100000]);
  });
});

// Timer style use: each iteration advances the clock by STEP and expires every
// due item, re-arming it with a deadline now + n * U(0.5, 1.5). The mean
// lifetime is n time units, so about STEP of the n items are due per sweep.
const STEP = 100;
group(`heap: popIfDue sweep (~${STEP} expired per sweep)`, () => {
  bench("sweep n=$n", function* (state: BenchState) {
    const n = state.get("n") as number;
    const { pq } = filledQueue(n, n, 6);
    const jitter = randoms(7);
    let now = 0;
    let k = 0;
    yield () => {
      now += STEP;
      let expired = 0;
      for (let e = pq.popIfDue(now); e !== undefined; e = pq.popIfDue(now)) {
        e.priority = now + (0.5 + jitter[k++ & RANDOM_MASK]) * n;
        pq.push(e);
        expired++;
      }
      do_not_optimize(expired);
    };
  }).args("n", [10000, 100000]);
});

if (import.meta.main) await run();
