#!/usr/bin/env bun
/** nsq_tail: prints the messages of one or more topics to stdout, one per line. */
import { Consumer, type Message } from "../client/index.ts";
import type { OptionsOf } from "../options/flags.ts";
import { aborted, toolMain, UsageError, type ToolContext } from "./tool.ts";
import {
  channelOption,
  checkSources,
  clientLog,
  connectConsumer,
  consumerOptOption,
  consumerOpts,
  lookupdHttpAddressOption,
  maxInFlightOption,
  nsqdTcpAddressOption,
  toolLogLevelOption,
} from "./tool-options.ts";

export const nsqTailOptionTable = [
  { key: "topics", flag: "topic", kind: "list", default: [], help: "NSQ topic (may be given multiple times)" },
  channelOption(""),
  maxInFlightOption(200),
  { key: "totalMessages", flag: "n", kind: "int", default: 0, min: 0, help: "total messages to show (will wait if starved)" },
  { key: "printTopic", flag: "print-topic", kind: "bool", default: false, help: "print topic name where message was received" },
  nsqdTcpAddressOption,
  lookupdHttpAddressOption,
  consumerOptOption,
  toolLogLevelOption,
] as const;

type Options = OptionsOf<typeof nsqTailOptionTable>;

const encoder = new TextEncoder();
const NEWLINE = encoder.encode("\n");
const SEPARATOR = encoder.encode(" | ");

async function run(o: Options, { logger, signal }: ToolContext): Promise<number> {
  if (o.topics.length === 0) throw new UsageError("--topic is required");
  checkSources(o);
  const channel = o.channel || `tail${String(Math.floor(Math.random() * 999999)).padStart(6, "0")}#ephemeral`;
  const limit = o.totalMessages;
  // don't ask for more messages than we want
  const maxInFlight = limit > 0 && limit < o.maxInFlight ? limit : o.maxInFlight;
  const out = Bun.stdout.writer();
  let shown = 0;
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    void out.flush();
  };
  const done = Promise.withResolvers<void>();

  const consumers = o.topics.map((topic) => {
    const topicBytes = encoder.encode(topic);
    return new Consumer(topic, channel, {
      ...consumerOpts(o.consumerOpts),
      maxInFlight,
      userAgent: `nsq_tail/bunsq`,
      log: clientLog(logger),
      handler: (m: Message) => {
        if (limit > 0 && shown >= limit) {
          m.requeue(0, false); // beyond -n: leave it for others
          return;
        }
        shown++;
        if (o.printTopic) {
          out.write(topicBytes);
          out.write(SEPARATOR);
        }
        out.write(m.body);
        out.write(NEWLINE);
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush); // one write per burst, and nothing waits in the buffer
        }
        if (limit > 0 && shown >= limit) done.resolve();
      },
    });
  });
  for (const c of consumers) await connectConsumer(c, o);
  await Promise.race([done.promise, aborted(signal)]);
  await out.flush();
  await Promise.all(consumers.map((c) => c.stop()));
  await out.end();
  return 0;
}

if (import.meta.main) toolMain({ name: "nsq_tail", table: nsqTailOptionTable, run });
