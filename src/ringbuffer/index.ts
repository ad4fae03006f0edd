export { RingBuffer } from "./ring-buffer.ts";
export { PriorityQueue, type HeapItem } from "./priority-queue.ts";
