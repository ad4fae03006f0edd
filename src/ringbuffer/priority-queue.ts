// Binary min-heap keyed by `priority`. Each item records its own slot in
// `heapIndex`, which makes remove/update O(log n) without a lookup table.

export interface HeapItem {
  /** Must not be changed directly while the item is in a heap: use update(). */
  priority: number;
  /** Slot in the heap array; -1 when the item is not in a heap. */
  heapIndex: number;
}

const INITIAL_KEYS = 16;
/** An empty heap allocates its keys at its first push (thousands of idle channels each have two heaps). */
const NO_KEYS = new Float64Array(0);

export class PriorityQueue<T extends HeapItem> {
  private heap: T[] = [];
  // keys[i] === heap[i].priority. Comparing on a contiguous Float64Array avoids
  // loading every child object while sifting, which matters for large heaps.
  private keys = NO_KEYS;

  get length(): number {
    return this.heap.length;
  }

  /** Throws if the item is already in this heap or its priority is NaN. */
  push(item: T): void {
    const heap = this.heap;
    if (this.contains(item)) throw new Error("PriorityQueue.push: item is already in this heap");
    const priority = item.priority;
    if (priority !== priority) throw new RangeError("PriorityQueue.push: priority is NaN");
    heap.push(item);
    if (heap.length > this.keys.length) this.growKeys();
    this.siftUp(item, priority, heap.length - 1);
  }

  peek(): T | undefined {
    return this.heap.length === 0 ? undefined : this.heap[0];
  }

  pop(): T | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop() as T;
    if (last !== top) this.siftDownFromRoot(last, this.keys[heap.length]);
    top.heapIndex = -1;
    return top;
  }

  popIfDue(limit: number): T | undefined {
    // Negated so that a NaN limit pops nothing.
    if (this.heap.length === 0 || !(this.keys[0] <= limit)) return undefined;
    return this.pop();
  }

  remove(item: T): boolean {
    if (!this.contains(item)) return false;
    const heap = this.heap;
    const keys = this.keys;
    const index = item.heapIndex;
    const last = heap.pop() as T;
    if (last !== item) {
      const lastKey = keys[heap.length];
      if (lastKey < keys[index]) this.siftUp(last, lastKey, index);
      else this.siftDown(last, lastKey, index);
    }
    item.heapIndex = -1;
    return true;
  }

  /** Throws if the item is not in this heap or the new priority is NaN. */
  update(item: T, priority: number): void {
    if (!this.contains(item)) throw new Error("PriorityQueue.update: item is not in this heap");
    if (priority !== priority) throw new RangeError("PriorityQueue.update: priority is NaN");
    const index = item.heapIndex;
    const old = this.keys[index];
    item.priority = priority;
    if (priority < old) this.siftUp(item, priority, index);
    else if (priority > old) this.siftDown(item, priority, index);
  }

  clear(): void {
    const heap = this.heap;
    for (let i = 0; i < heap.length; i++) heap[i].heapIndex = -1;
    heap.length = 0;
    if (this.keys.length > INITIAL_KEYS) this.keys = NO_KEYS;
  }

  /** Hands every item to `fn` in no particular order; `fn` must not change the queue. */
  forEach(fn: (item: T) => void): void {
    const heap = this.heap;
    for (let i = 0; i < heap.length; i++) fn(heap[i]);
  }

  /**
   * Removes every item (not in priority order) and hands it to `fn`. Taking
   * leaves from the end keeps the heap valid throughout, so `fn` may push or
   * throw; items pushed by `fn` are drained too.
   */
  drain(fn: (item: T) => void): void {
    const heap = this.heap;
    while (heap.length > 0) {
      const item = heap.pop() as T;
      item.heapIndex = -1;
      fn(item);
    }
  }

  // Bounds-checked first: reading heap[-1] would be a slow named-property lookup.
  private contains(item: T): boolean {
    const index = item.heapIndex;
    return index >= 0 && index < this.heap.length && this.heap[index] === item;
  }

  private growKeys(): void {
    const keys = new Float64Array(Math.max(INITIAL_KEYS, this.keys.length * 2));
    keys.set(this.keys);
    this.keys = keys;
  }

  // The sifts move a hole instead of swapping, writing `item` once at the end.
  private siftUp(item: T, key: number, index: number): void {
    const heap = this.heap;
    const keys = this.keys;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parentKey = keys[parentIndex];
      if (parentKey <= key) break;
      const parent = heap[parentIndex];
      heap[index] = parent;
      keys[index] = parentKey;
      parent.heapIndex = index;
      index = parentIndex;
    }
    heap[index] = item;
    keys[index] = key;
    item.heapIndex = index;
  }

  // After pop the last leaf usually belongs near the bottom again, so walk the
  // hole down to a leaf along the smaller children (one comparison per level
  // instead of two), then sift the item up from there.
  private siftDownFromRoot(item: T, key: number): void {
    const heap = this.heap;
    const keys = this.keys;
    const n = heap.length;
    const half = n >> 1;
    let index = 0;
    while (index < half) {
      let childIndex = 2 * index + 1;
      let childKey = keys[childIndex];
      const right = childIndex + 1;
      if (right < n) {
        const rightKey = keys[right];
        if (rightKey < childKey) {
          childIndex = right;
          childKey = rightKey;
        }
      }
      const child = heap[childIndex];
      heap[index] = child;
      keys[index] = childKey;
      child.heapIndex = index;
      index = childIndex;
    }
    this.siftUp(item, key, index);
  }

  private siftDown(item: T, key: number, index: number): void {
    const heap = this.heap;
    const keys = this.keys;
    const n = heap.length;
    const half = n >> 1;
    while (index < half) {
      let childIndex = 2 * index + 1;
      let childKey = keys[childIndex];
      const right = childIndex + 1;
      if (right < n) {
        const rightKey = keys[right];
        if (rightKey < childKey) {
          childIndex = right;
          childKey = rightKey;
        }
      }
      if (childKey >= key) break;
      const child = heap[childIndex];
      heap[index] = child;
      keys[index] = childKey;
      child.heapIndex = index;
      index = childIndex;
    }
    heap[index] = item;
    keys[index] = key;
    item.heapIndex = index;
  }
}
