import { describe, expect, test } from "bun:test";
import { InFlightTable } from "../../src/core/in-flight.ts";
import { Delivery } from "../../src/core/message.ts";
import { mulberry32, TEST_SEEDS } from "../helpers/random.ts";

const EMPTY = new Uint8Array(0);

function delivery(sequence: number, deadline: number): Delivery {
  const d = new Delivery(sequence, 0, 0, EMPTY, 0, 0);
  d.priority = deadline;
  return d;
}

describe("InFlightTable", () => {
  test("finds, removes and times out against a Map model (random operations, colliding sequences)", () => {
    for (const seed of TEST_SEEDS) {
      const random = mulberry32(seed);
      const table = new InFlightTable();
      const model = new Map<number, Delivery>();
      const timeouts = [1000, 5000, 60_000];
      let now = 0;
      let next = 2 ** 40;
      for (let step = 0; step < 20_000; step++) {
        const r = random();
        now += Math.floor(random() * 20);
        if (r < 0.45) {
          // mostly consecutive sequences, sometimes far jumps that collide modulo the capacity
          next += random() < 0.9 ? 1 : 1024 * Math.floor(1 + random() * 64);
          const timeout = timeouts[Math.floor(random() * timeouts.length)];
          const d = delivery(next, now + timeout);
          table.add(d, timeout);
          model.set(d.sequence, d);
        } else if (r < 0.8 && model.size > 0) {
          const keys = [...model.keys()];
          const d = model.get(keys[Math.floor(random() * keys.length)])!;
          expect(table.remove(d)).toBe(true);
          expect(table.remove(d)).toBe(false);
          model.delete(d.sequence);
        } else if (r < 0.9 && model.size > 0) {
          const keys = [...model.keys()];
          const d = model.get(keys[Math.floor(random() * keys.length)])!;
          const timeout = timeouts[Math.floor(random() * timeouts.length)];
          // sometimes cut short, as --max-msg-timeout does
          const deadline = random() < 0.2 ? now + Math.floor(random() * 100) : now + timeout;
          table.touch(d, deadline, timeout);
        } else {
          const due: Delivery[] = [];
          for (let d = table.popIfDue(now); d !== undefined; d = table.popIfDue(now)) due.push(d);
          const expected = [...model.values()].filter((d) => d.priority <= now);
          expect(due.map((d) => d.sequence).sort()).toEqual(expected.map((d) => d.sequence).sort());
          for (const d of due) model.delete(d.sequence);
        }
        expect(table.size).toBe(model.size);
      }
      for (const [sequence, d] of model) expect(table.get(sequence)).toBe(d);
      expect(table.get(next + 1)).toBeUndefined();
      expect([...table.values()].length).toBe(model.size);
      // everything left comes out once its deadline has passed, and nothing twice
      const rest: Delivery[] = [];
      for (let d = table.popIfDue(Infinity); d !== undefined; d = table.popIfDue(Infinity)) rest.push(d);
      expect(rest.length).toBe(model.size);
      expect(table.size).toBe(0);
    }
  });

  test("times out in deadline order within one timeout, and a shortened TOUCH is not missed", () => {
    const table = new InFlightTable();
    const ds = [1, 2, 3, 4].map((i) => delivery(i, 1000 + i));
    for (const d of ds) table.add(d, 1000);
    table.touch(ds[0], 2000, 1000); // moves to the end of its list
    table.touch(ds[1], 1500, 1000); // earlier than the tail: kept apart
    expect(table.popIfDue(1003)?.sequence).toBe(3);
    expect(table.popIfDue(1003)).toBeUndefined();
    expect(table.popIfDue(1500)?.sequence).toBe(2);
    expect(table.popIfDue(1999)?.sequence).toBe(4);
    expect(table.popIfDue(1999)).toBeUndefined();
    expect(table.popIfDue(2000)?.sequence).toBe(1);
    expect(table.size).toBe(0);
  });

  test("grows to thousands, compacts while emptied, and finds every remaining entry throughout", () => {
    const table = new InFlightTable();
    const ds = Array.from({ length: 20_000 }, (_, i) => delivery(2 ** 33 + i, i));
    for (const d of ds) table.add(d, 60_000);
    // remove the first 19,990 in a scrambled order (7919 is coprime to 19,990), compacting
    // now and then as the timeout scan does, so every shrink rehashes a table with holes
    for (let i = 0; i < 19_990; i++) {
      const d = ds[(i * 7919) % 19_990];
      expect(table.remove(d)).toBe(true);
      if (i % 997 === 0) table.compact();
      if (i % 4999 === 0) expect(table.get(ds[19_995].sequence)).toBe(ds[19_995]);
    }
    table.compact();
    expect(table.size).toBe(10);
    for (let i = 19_990; i < 20_000; i++) expect(table.get(ds[i].sequence)).toBe(ds[i]);
    expect(table.popIfDue(19_994)?.sequence).toBe(2 ** 33 + 19_990);
    // emptied and compacted, it holds no slots and works as a new one
    for (const d of [...table.values()]) table.remove(d);
    table.compact();
    expect(table.size).toBe(0);
    expect([...table.values()]).toHaveLength(0);
    table.add(ds[0], 10);
    expect(table.get(ds[0].sequence)).toBe(ds[0]);
  });

  test("clear empties it and it keeps working", () => {
    const table = new InFlightTable();
    for (let i = 0; i < 1000; i++) table.add(delivery(i, i), 10);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.get(5)).toBeUndefined();
    expect(table.popIfDue(Infinity)).toBeUndefined();
    const d = delivery(5, 1);
    table.add(d, 10);
    expect(table.get(5)).toBe(d);
    expect(table.popIfDue(1)).toBe(d);
  });
});
