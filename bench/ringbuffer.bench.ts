// Registers benchmarks on import; runs them only when executed directly.
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { RingBuffer } from "../src/ringbuffer/index.ts";

const RESIDENT = 1000;

interface Msg {
  id: number;
}

function makeMessages(n: number): Msg[] {
  const out: Msg[] = [];
  for (let i = 0; i < n; i++) out.push({ id: i });
  return out;
}

group(`ringbuffer: push+shift steady state (${RESIDENT} queued)`, () => {
  summary(() => {
    bench("RingBuffer push+shift", function* () {
      const rb = new RingBuffer<Msg>(RESIDENT);
      for (const m of makeMessages(RESIDENT)) rb.push(m);
      yield () => {
        const m = rb.shift()!;
        rb.push(m);
        do_not_optimize(m);
      };
    }).baseline(true);

    bench("Array push+shift", function* () {
      const arr = makeMessages(RESIDENT);
      yield () => {
        const m = arr.shift()!;
        arr.push(m);
        do_not_optimize(m);
      };
    });
  });
});

// Same comparison for a queue that fills and empties completely each time,
// e.g. a burst of messages arriving then being flushed to a consumer.
group(`ringbuffer: burst of ${RESIDENT} push then ${RESIDENT} shift`, () => {
  summary(() => {
    bench("RingBuffer burst", function* () {
      const rb = new RingBuffer<Msg>();
      const msgs = makeMessages(RESIDENT);
      yield () => {
        for (let i = 0; i < msgs.length; i++) rb.push(msgs[i]);
        let last: Msg | undefined;
        while (rb.length > 0) last = rb.shift();
        do_not_optimize(last);
      };
    }).baseline(true);

    bench("Array burst", function* () {
      const arr: Msg[] = [];
      const msgs = makeMessages(RESIDENT);
      yield () => {
        for (let i = 0; i < msgs.length; i++) arr.push(msgs[i]);
        let last: Msg | undefined;
        while (arr.length > 0) last = arr.shift();
        do_not_optimize(last);
      };
    });
  });
});

if (import.meta.main) await run();
