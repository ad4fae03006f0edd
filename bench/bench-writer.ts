#!/usr/bin/env bun
/**
 * bench_writer: publishes MPUB batches to one nsqd for --runfor, one connection per
 * core, each waiting for the answer to a batch before sending the next (as NSQ's
 * bench_writer does), and prints NSQ's result line.
 */
import { availableParallelism } from "node:os";
import { Producer } from "../src/client/index.ts";
import { checkHostPort, type OptionsOf } from "../src/options/flags.ts";
import { toolMain } from "../src/cli/tool.ts";
import { cpuText, logLine, resultText } from "./bench-format.ts";

export const benchWriterOptionTable = [
  { key: "runfor", flag: "runfor", kind: "duration", default: 10_000, above: 0, help: "duration of time to run" },
  {
    key: "nsqdTcpAddress",
    flag: "nsqd-tcp-address",
    kind: "string",
    default: "127.0.0.1:4150",
    validate: checkHostPort,
    help: "<addr>:<port> to connect to nsqd",
  },
  { key: "topic", flag: "topic", kind: "string", default: "sub_bench", help: "topic to receive messages on" },
  { key: "size", flag: "size", kind: "int", default: 200, min: 1, help: "size of messages" },
  { key: "batchSize", flag: "batch-size", kind: "int", default: 200, min: 1, help: "batch size of messages" },
  { key: "connections", flag: "connections", kind: "int", default: () => availableParallelism(), min: 1, help: "connections (default: one per core)" },
] as const;

type Options = OptionsOf<typeof benchWriterOptionTable>;
const PREFIX = "[bench_writer] ";

async function worker(o: Options, batch: Uint8Array[], deadline: number): Promise<number> {
  const p = new Producer(o.nsqdTcpAddress, { clientId: "writer", hostname: "writer", userAgent: "bench_writer/bunsq" });
  await p.connect();
  let sent = 0;
  do {
    await p.multiPublish(o.topic, batch);
    sent += batch.length;
  } while (performance.now() < deadline);
  await p.stop();
  return sent;
}

async function run(o: Options): Promise<number> {
  const msg = new Uint8Array(o.size).fill(0x61);
  const batch = Array.from({ length: o.batchSize }, () => msg);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const counts = await Promise.all(Array.from({ length: o.connections }, () => worker(o, batch, start + o.runfor)));
  const ms = performance.now() - start;
  const total = counts.reduce((a, b) => a + b, 0);
  console.log(logLine(PREFIX, resultText(ms, total, o.size)));
  console.log(logLine(PREFIX, cpuText(cpu, ms)));
  return 0;
}

if (import.meta.main) toolMain({ name: "bench_writer", table: benchWriterOptionTable, run });
