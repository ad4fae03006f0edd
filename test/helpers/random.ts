/** Seeded randomness for tests: replayable runs, with the seed in every failure message. */

/** mulberry32: a small, fast 32-bit PRNG; the same seed gives the same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Fixed seeds keep CI reproducible; one extra seed per run widens coverage.
 * BUNSQ_TEST_SEED=<n> replays exactly one.
 */
export const TEST_SEEDS: readonly number[] =
  process.env.BUNSQ_TEST_SEED !== undefined
    ? [Number(process.env.BUNSQ_TEST_SEED)]
    : [1, 42, 0xdeadbeef, (Date.now() ^ (Math.random() * 2 ** 31)) >>> 0];
