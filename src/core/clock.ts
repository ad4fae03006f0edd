/** Wall-clock time in nanoseconds with microsecond resolution, as NSQ message timestamps carry. */
export function nowNs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000) * 1000;
}
