#!/usr/bin/env bun
/**
 * bench_reader: consumes a topic's channel for --runfor with RDY --rdy on one
 * connection per core, FINs every message, and prints NSQ's result line.
 */
import { availableParallelism } from "node:os";
import { Consumer } from "../src/client/index.ts";
import { checkHostPort, type OptionsOf } from "../src/options/flags.ts";
import { toolMain } from "../src/cli/tool.ts";
import { cpuText, logLine, resultText } from "./bench-format.ts";

export const benchReaderOptionTable = [
  { key: "runfor", flag: "runfor", kind: "duration", default: 15_000, above: 0, help: "duration of time to run" },
  {
    key: "nsqdTcpAddress",
    flag: "nsqd-tcp-address",
    kind: "string",
    default: "127.0.0.1:4150",
    validate: checkHostPort,
    help: "<addr>:<port> to connect to nsqd",
  },
  { key: "size", flag: "size", kind: "int", default: 200, min: 1, help: "size of messages" },
  { key: "topic", flag: "topic", kind: "string", default: "sub_bench", help: "topic to receive messages on" },
  { key: "channel", flag: "channel", kind: "string", default: "ch", help: "channel to receive messages on" },
  { key: "rdy", flag: "rdy", kind: "int", default: 2500, min: 1, help: "RDY count to use" },
  { key: "connections", flag: "connections", kind: "int", default: () => availableParallelism(), min: 1, help: "connections (default: one per core)" },
] as const;

type Options = OptionsOf<typeof benchReaderOptionTable>;
const PREFIX = "[bench_reader] ";

async function run(o: Options): Promise<number> {
  let received = 0;
  const consumers = Array.from(
    { length: o.connections },
    () =>
      new Consumer(o.topic, o.channel, {
        maxInFlight: o.rdy,
        msgTimeout: 3000,
        userAgent: "bench_reader/bunsq",
        handler: () => {
          received++;
        },
      }),
  );
  await Promise.all(consumers.map((c) => c.connectToNsqd(o.nsqdTcpAddress)));
  const cpu = process.cpuUsage();
  const start = performance.now();
  received = 0; // count from here, like the Go reader which starts with RDY at this point
  await Bun.sleep(o.runfor);
  const ms = performance.now() - start;
  const total = received;
  console.log(logLine(PREFIX, resultText(ms, total, o.size)));
  console.log(logLine(PREFIX, cpuText(cpu, ms)));
  await Promise.all(consumers.map((c) => c.stop(1000)));
  return 0;
}

if (import.meta.main) toolMain({ name: "bench_reader", table: benchReaderOptionTable, run });
