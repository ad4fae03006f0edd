#!/usr/bin/env bun
/** to_nsq: publishes stdin, split at a delimiter, to a topic on one or more nsqds. */
import { Producer } from "../client/index.ts";
import type { OptionsOf } from "../options/flags.ts";
import { toolMain, UsageError, type ToolContext } from "./tool.ts";
import { nsqdTcpAddressOption, producerOptOption, producerOpts, toolLogLevelOption } from "./tool-options.ts";

export const toNsqOptionTable = [
  { key: "topic", flag: "topic", kind: "string", default: "", help: "NSQ topic to publish to" },
  {
    key: "delimiter",
    flag: "delimiter",
    kind: "string",
    default: "\n",
    help: "character to split input from stdin",
  },
  {
    key: "rate",
    flag: "rate",
    kind: "int",
    default: 0,
    min: 0,
    help: "Throttle messages to n/second. 0 to disable",
  },
  { ...nsqdTcpAddressOption, help: "destination nsqd TCP address (may be given multiple times)" },
  producerOptOption,
  toolLogLevelOption,
] as const;

type Options = OptionsOf<typeof toNsqOptionTable>;

/** Publishes still unanswered per producer before reading more input. */
const WINDOW = 512;

/** Spaces publishes so that at most `rate` start per second. */
class Throttle {
  private next = 0;
  constructor(private readonly intervalMs: number) {}
  async wait(): Promise<void> {
    const now = performance.now();
    if (this.next > now) await Bun.sleep(this.next - now);
    this.next = Math.max(now, this.next) + this.intervalMs;
  }
}

async function run(o: Options, { signal }: ToolContext): Promise<number> {
  if (o.topic === "") throw new UsageError("--topic required");
  if (new TextEncoder().encode(o.delimiter).length !== 1) throw new UsageError("--delimiter must be a single byte");
  if (o.nsqdTcpAddresses.length === 0) throw new UsageError("--nsqd-tcp-address required");
  const delim = o.delimiter.charCodeAt(0);
  const config = { ...producerOpts(o.producerOpts), userAgent: "to_nsq/bunsq" };
  const producers = o.nsqdTcpAddresses.map((a) => new Producer(a, config));
  for (const p of producers) await p.connect();
  const throttle = o.rate > 0 ? new Throttle(1000 / o.rate) : null;
  let inFlight: Promise<void>[] = [];

  const publish = async (line: Uint8Array) => {
    if (line.length === 0) return;
    if (throttle) await throttle.wait();
    for (const p of producers) inFlight.push(p.publish(o.topic, line));
    if (inFlight.length >= WINDOW * producers.length) {
      const batch = inFlight;
      inFlight = [];
      await Promise.all(batch);
    }
  };

  let rest: Uint8Array = new Uint8Array(0);
  const reader = Bun.stdin.stream().getReader();
  signal.addEventListener("abort", () => void reader.cancel(), { once: true });
  for (;;) {
    const { done, value: chunk } = await reader.read();
    if (done || signal.aborted) break;
    let data: Uint8Array = chunk;
    if (rest.length > 0) {
      data = new Uint8Array(rest.length + chunk.length);
      data.set(rest);
      data.set(chunk, rest.length);
    }
    let start = 0;
    for (let i = data.indexOf(delim); i >= 0; i = data.indexOf(delim, start)) {
      await publish(data.subarray(start, i));
      start = i + 1;
    }
    rest = data.slice(start);
  }
  await publish(rest);
  await Promise.all(inFlight);
  await Promise.all(producers.map((p) => p.stop()));
  return 0;
}

if (import.meta.main) toolMain({ name: "to_nsq", table: toNsqOptionTable, run });
