import { PriorityQueue } from "../ringbuffer/priority-queue.ts";
import { Delivery } from "./message.ts";

const MIN_CAPACITY = 16;
/**
 * An idle table's slots: shared, never written, and made like the grown ones
 * (filled, not empty) so that the engine sees one kind of array in every table.
 */
const NO_SLOTS: (Delivery | undefined)[] = new Array<Delivery | undefined>(1).fill(undefined);
/**
 * compact() shrinks a table only above this capacity (8 KiB of slots at most
 * stay while messages are in flight).
 */
const SHRINK_FLOOR = 1024;

/**
 * A channel's in-flight messages: found by sequence (FIN, REQ, TOUCH) and taken
 * out in deadline order (timeouts), both without allocating per message.
 *
 * - By sequence: an open-addressing table with linear probing, at most half
 *   full. Sequences are consecutive numbers; indexing by their low bits would put
 *   the messages in flight in one long run of slots, and deleting from a run costs
 *   its length, so the slot comes from a multiplicative (Fibonacci) hash that
 *   spreads consecutive keys evenly.
 * - By deadline: a message's deadline is the time it was sent plus its
 *   consumer's message timeout, so among messages with the same timeout, the
 *   order they were sent in is deadline order. Each timeout value gets a doubly
 *   linked list (links in the Delivery itself); appending and unlinking are O(1),
 *   where a heap cost O(log n) per FIN. A TOUCH moves the message to the end of
 *   its list; the rare TOUCH whose deadline was cut short by --max-msg-timeout
 *   (so it is earlier than the list's tail) goes to a small heap instead.
 */
export class InFlightTable {
  /** Allocated at the first add (an idle channel's table costs nothing). */
  private slots: (Delivery | undefined)[] = NO_SLOTS;
  private mask = MIN_CAPACITY - 1;
  /** 32 - log2(capacity): the hash's top bits pick the slot. */
  private shift = 32 - Math.log2(MIN_CAPACITY);
  private count = 0;
  /** One deadline-ordered list per message timeout in use; its sentinel is the element. */
  private readonly lists: DeadlineList[] = [];
  private lastList: DeadlineList | null = null;
  private readonly outOfOrder = new PriorityQueue<Delivery>();

  get size(): number {
    return this.count;
  }

  get(sequence: number): Delivery | undefined {
    if (this.count === 0) return undefined;
    const slots = this.slots;
    const mask = this.mask;
    for (let i = this.home(sequence); ; i = (i + 1) & mask) {
      const d = slots[i];
      if (d === undefined || d.sequence === sequence) return d;
    }
  }

  /** Adds a delivery sent at `now` whose deadline (`priority`) is now + timeoutMs. */
  add(d: Delivery, timeoutMs: number): void {
    if (this.slots === NO_SLOTS) this.resize(MIN_CAPACITY);
    else if (this.count >= (this.mask + 1) >>> 1) this.resize((this.mask + 1) * 2);
    this.insert(d);
    this.count++;
    this.listFor(timeoutMs).append(d);
  }

  /** Takes a delivery out (FIN, REQ, a consumer leaving). False if it was not in flight. */
  remove(d: Delivery): boolean {
    if (this.count === 0 || !this.erase(d)) return false;
    this.unlink(d);
    this.count--;
    return true;
  }

  /**
   * Gives back the room a burst left: no slots at all when nothing is in flight,
   * else at most a quarter full. Called by the channel's timeout scan, not by
   * remove(): consumers with a large RDY fill and empty the table in bursts many
   * times a second, and shrinking as it emptied (to grow again at the next burst)
   * took 6-13 % of a worker's time.
   */
  compact(): void {
    if (this.slots === NO_SLOTS) return;
    if (this.count === 0) return this.clear();
    const capacity = this.mask + 1;
    if (capacity <= SHRINK_FLOOR || this.count >= capacity >>> 3) return;
    let target = capacity;
    while (target > SHRINK_FLOOR && this.count < target >>> 3) target >>>= 1;
    this.resize(target);
  }

  /** TOUCH: gives an in-flight delivery a later deadline. */
  touch(d: Delivery, deadline: number, timeoutMs: number): void {
    this.unlink(d);
    d.priority = deadline;
    const list = this.listFor(timeoutMs);
    if (list.isEmpty() || list.sentinel.prev!.priority <= deadline) list.append(d);
    else this.outOfOrder.push(d);
  }

  /** Removes and returns a delivery whose deadline is at or before `now`, or undefined. */
  popIfDue(now: number): Delivery | undefined {
    let due: Delivery | undefined = this.outOfOrder.length > 0 ? this.outOfOrder.peek() : undefined;
    if (due !== undefined && !(due.priority <= now)) due = undefined;
    if (due === undefined) {
      const lists = this.lists;
      for (let i = 0; i < lists.length; i++) {
        const head = lists[i].sentinel.next!;
        if (head !== lists[i].sentinel && head.priority <= now) {
          due = head;
          break;
        }
      }
    }
    if (due !== undefined) this.remove(due);
    else this.dropEmptyLists();
    return due;
  }

  /** Every delivery in flight (no order); the table must not change meanwhile. */
  *values(): IterableIterator<Delivery> {
    for (const d of this.slots) if (d !== undefined) yield d;
  }

  clear(): void {
    for (const d of this.slots) if (d !== undefined) d.prev = d.next = null;
    this.slots = NO_SLOTS;
    this.mask = MIN_CAPACITY - 1;
    this.shift = 32 - Math.log2(MIN_CAPACITY);
    this.count = 0;
    for (const list of this.lists) list.reset();
    this.outOfOrder.clear();
  }

  /** Forgets timeouts no longer in use (clients can pick any msg_timeout). */
  private dropEmptyLists(): void {
    const lists = this.lists;
    for (let i = lists.length - 1; i >= 0; i--) {
      if (lists[i].isEmpty() && lists[i] !== this.lastList) lists.splice(i, 1);
    }
  }

  private listFor(timeoutMs: number): DeadlineList {
    const last = this.lastList;
    if (last !== null && last.timeoutMs === timeoutMs) return last;
    let list = this.lists.find((l) => l.timeoutMs === timeoutMs);
    if (list === undefined) {
      list = new DeadlineList(timeoutMs);
      this.lists.push(list);
    }
    this.lastList = list;
    return list;
  }

  private unlink(d: Delivery): void {
    if (d.prev !== null) {
      d.prev.next = d.next;
      d.next!.prev = d.prev;
      d.prev = d.next = null;
    } else {
      this.outOfOrder.remove(d);
    }
  }

  private insert(d: Delivery): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = this.home(d.sequence);
    while (slots[i] !== undefined) i = (i + 1) & mask;
    slots[i] = d;
  }

  /** Removes `d` from the table, moving later entries of its probe run back into the gap. */
  private erase(d: Delivery): boolean {
    const slots = this.slots;
    const mask = this.mask;
    let i = this.home(d.sequence);
    for (;;) {
      const at = slots[i];
      if (at === undefined) return false;
      if (at === d) break;
      i = (i + 1) & mask;
    }
    let gap = i;
    for (let j = (gap + 1) & mask; ; j = (j + 1) & mask) {
      const e = slots[j];
      if (e === undefined) break;
      const home = this.home(e.sequence);
      // e may fill the gap if its home slot is not in (gap, j] (cyclically)
      const stays = gap <= j ? home > gap && home <= j : home > gap || home <= j;
      if (!stays) {
        slots[gap] = e;
        gap = j;
      }
    }
    slots[gap] = undefined;
    return true;
  }

  /** The slot a sequence hashes to (its low 32 bits times 2^32 / golden ratio). */
  private home(sequence: number): number {
    return Math.imul(sequence | 0, 0x9e3779b1) >>> this.shift;
  }

  private resize(capacity: number): void {
    const old = this.slots;
    this.slots = new Array<Delivery | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    for (const d of old) if (d !== undefined) this.insert(d);
  }
}

/** Deliveries sharing one message timeout, earliest deadline first, around a sentinel. */
class DeadlineList {
  readonly sentinel = new Delivery(0, 0, 0, new Uint8Array(0), 0, 0);

  constructor(readonly timeoutMs: number) {
    this.reset();
  }

  reset(): void {
    this.sentinel.prev = this.sentinel.next = this.sentinel;
  }

  isEmpty(): boolean {
    return this.sentinel.next === this.sentinel;
  }

  append(d: Delivery): void {
    const s = this.sentinel;
    const tail = s.prev!;
    d.prev = tail;
    d.next = s;
    tail.next = d;
    s.prev = d;
  }
}
