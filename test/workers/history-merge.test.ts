/**
 * mergeHistories (src/workers/history-merge.ts): workers' /stats/history
 * documents whose samples end at different instants or start at different
 * times are summed on the interval grid, never a partial last sample.
 */
import { describe, expect, test } from "bun:test";
import { nsqdHistorySchema, type NsqdHistory } from "../../src/schemas/nsqd-history.ts";
import { mergeHistories } from "../../src/workers/history-merge.ts";

const I = 10_000;
const T = 1_733_541_600_000; // a multiple of the interval

type Topic = NsqdHistory["topics"][number];
type Channel = Topic["channels"][number];

/** A topic whose three series are `messages_in`, and depths 1 each sample. */
function topic(name: string, messagesIn: number[], channels: Channel[] = []): Topic {
  const depth = messagesIn.map(() => 1);
  return { topic_name: name, messages_in: messagesIn, memory_depth: depth, backend_depth: depth.map(() => 0), channels };
}

function channel(name: string, out: number[]): Channel {
  const zeros = out.map(() => 0);
  return {
    channel_name: name,
    messages_in: out,
    messages_out: out,
    requeued: zeros,
    timed_out: zeros,
    memory_depth: zeros,
    backend_depth: zeros,
    in_flight: out.map(() => 2),
  };
}

function doc(end: number, topics: Topic[], bytes = 100, capacity = 360): NsqdHistory {
  return { interval_ms: I, capacity, end, bytes, topics };
}

describe("mergeHistories", () => {
  test("sums sample by sample on the grid and ends where every worker has sampled", () => {
    // worker 1 has already taken the next sample (and its stamp is a little off the boundary)
    const a = doc(T, [topic("t", [1, 2, 3], [channel("c", [1, 1, 1])])]);
    const b = doc(T + I + 3, [topic("t", [10, 20, 30, 40], [channel("c", [5, 5, 5, 5])])], 50);
    const merged = mergeHistories([a, b]);
    expect(nsqdHistorySchema.parse(merged)).toEqual(merged);
    expect(merged.end).toBe(T);
    expect(merged.interval_ms).toBe(I);
    expect(merged.capacity).toBe(360);
    expect(merged.bytes).toBe(150);
    const t = merged.topics[0];
    // b's samples at T-2I, T-I, T are 10, 20, 30 (40 is at T+I, not yet sampled by a)
    expect(t.messages_in).toEqual([11, 22, 33]);
    expect(t.memory_depth).toEqual([2, 2, 2]);
    expect(t.channels[0].messages_out).toEqual([6, 6, 6]);
    expect(t.channels[0].in_flight).toEqual([4, 4, 4]);
  });

  test("a worker whose series starts later counts 0 before it; objects of one worker only are listed", () => {
    const a = doc(T, [topic("b", [1, 1, 1, 1], [channel("x", [1, 1, 1, 1])])]);
    const b = doc(T, [topic("b", [5], [channel("y", [7])]), topic("a", [9, 9])]);
    const merged = mergeHistories([a, b]);
    expect(merged.topics.map((t) => t.topic_name)).toEqual(["a", "b"]);
    expect(merged.topics[0].messages_in).toEqual([9, 9]);
    expect(merged.topics[1].messages_in).toEqual([1, 1, 1, 6]);
    expect(merged.topics[1].channels.map((c) => [c.channel_name, c.messages_out])).toEqual([
      ["x", [1, 1, 1, 1]],
      ["y", [7]],
    ]);
  });

  test("keeps at most capacity samples; idle and not yet sampled workers add nothing", () => {
    const a = doc(T, [topic("t", [1, 2, 3, 4], [channel("idle", [])])], 100, 3);
    const idle = doc(T, [topic("t", [], [channel("idle", [])])], 0, 3);
    const fresh = doc(0, [topic("t", []), topic("new", [])], 0, 3);
    const merged = mergeHistories([a, idle, fresh]);
    expect(merged.end).toBe(T);
    expect(merged.topics.map((t) => t.topic_name)).toEqual(["new", "t"]);
    expect(merged.topics[0].messages_in).toEqual([]);
    expect(merged.topics[1].messages_in).toEqual([2, 3, 4]);
    expect(merged.topics[1].channels[0].messages_out).toEqual([]);
  });

  test("before any worker has sampled: end 0 and empty series", () => {
    const merged = mergeHistories([doc(0, [topic("t", [])], 0), doc(0, [], 0)]);
    expect(merged).toEqual({ interval_ms: I, capacity: 360, end: 0, bytes: 0, topics: [topic("t", [])] });
  });
});
