#!/usr/bin/env bun
/** nsq_to_nsq: relays a topic's messages to nsqds of another cluster; FIN once the destination accepted. */
import { Consumer, Producer, type Message } from "../client/index.ts";
import { checkHostPort, type OptionsOf } from "../options/flags.ts";
import { JsonFilter } from "./json-filter.ts";
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
  producerOptOption,
  producerOpts,
  toolLogLevelOption,
} from "./tool-options.ts";

export const nsqToNsqOptionTable = [
  { key: "topic", flag: "topic", kind: "string", default: "", help: "nsq topic" },
  channelOption("nsq_to_nsq"),
  { key: "destinationTopic", flag: "destination-topic", kind: "string", default: "", help: "use this destination topic for all consumed topics (default is consumed topic name)" },
  maxInFlightOption(200),
  {
    key: "mode",
    flag: "mode",
    kind: "string",
    default: "hostpool",
    choices: ["round-robin", "hostpool", "epsilon-greedy"],
    help: "the upstream request mode options: round-robin, hostpool (default), epsilon-greedy",
  },
  {
    key: "statusEvery",
    flag: "status-every",
    kind: "int",
    default: 250,
    min: 0,
    help: "the # of requests between logging status (per destination), 0 disables",
  },
  nsqdTcpAddressOption,
  lookupdHttpAddressOption,
  {
    key: "destinationNsqdTcpAddresses",
    flag: "destination-nsqd-tcp-address",
    kind: "list",
    default: [],
    validate: checkHostPort,
    help: "destination nsqd TCP address (may be given multiple times)",
  },
  {
    key: "requireJsonField",
    flag: "require-json-field",
    kind: "string",
    default: "",
    help: "for JSON messages: relay only objects that have this field",
  },
  {
    key: "requireJsonValue",
    flag: "require-json-value",
    kind: "string",
    default: "",
    help: "for JSON messages: relay only those whose --require-json-field has this value (a string, or a number)",
  },
  {
    key: "whitelistJsonFields",
    flag: "whitelist-json-field",
    kind: "list",
    default: [],
    help: "for JSON messages: relay only this field of each (may be given multiple times)",
  },
  consumerOptOption,
  producerOptOption,
  toolLogLevelOption,
] as const;

type Options = OptionsOf<typeof nsqToNsqOptionTable>;

/** How long hostpool mode avoids a destination after a failed publish (while another one is healthy). */
const HOST_RETRY_MS = 30_000;

class Relay {
  private counter = 0;
  private relayed = 0;
  private readonly failedAt: number[];
  private readonly filter: JsonFilter;

  constructor(
    private readonly producers: readonly Producer[],
    private readonly topic: string,
    private readonly o: Options,
    private readonly log: (text: string) => void,
    private readonly logError: (text: string) => void,
  ) {
    this.failedAt = producers.map(() => 0);
    this.filter = new JsonFilter(o);
  }

  async handle(m: Message): Promise<void> {
    let body = m.body;
    if (this.filter.active) {
      const result = this.filter.apply(body);
      if ("drop" in result) {
        if (result.drop !== null) this.logError(result.drop);
        return;
      }
      body = result.relay;
    }
    const i = this.pick();
    try {
      await this.producers[i]!.publish(this.topic, body);
    } catch (err) {
      this.failedAt[i] = Date.now();
      throw err;
    }
    this.relayed++;
    if (this.o.statusEvery > 0 && this.relayed % this.o.statusEvery === 0) this.log(`relayed ${this.relayed} messages`);
  }

  private pick(): number {
    const n = this.producers.length;
    if (this.o.mode === "round-robin") return this.counter++ % n;
    const now = Date.now();
    for (let tries = 0; tries < n; tries++) {
      const i = this.counter++ % n;
      if (now - this.failedAt[i]! > HOST_RETRY_MS) return i;
    }
    return this.counter++ % n;
  }
}

async function run(o: Options, { logger, signal }: ToolContext): Promise<number> {
  if (o.topic === "" || o.channel === "") throw new UsageError("--topic and --channel are required");
  checkSources(o);
  if (o.destinationNsqdTcpAddresses.length === 0) throw new UsageError("--destination-nsqd-tcp-address required");
  const producerConfig = { ...producerOpts(o.producerOpts), userAgent: "nsq_to_nsq/bunsq" };
  const producers = o.destinationNsqdTcpAddresses.map((a) => new Producer(a, producerConfig));
  for (const p of producers) await p.connect();
  const relay = new Relay(producers, o.destinationTopic || o.topic, o, (t) => logger.info(t), (t) => logger.error(t));
  const consumer = new Consumer(o.topic, o.channel, {
    ...consumerOpts(o.consumerOpts),
    maxInFlight: o.maxInFlight,
    // publishes are pipelined: one handler call per message in flight
    concurrency: o.maxInFlight,
    userAgent: "nsq_to_nsq/bunsq",
    log: clientLog(logger),
    handler: (m) => relay.handle(m),
  });
  await connectConsumer(consumer, o);
  await aborted(signal);
  await consumer.stop();
  await Promise.all(producers.map((p) => p.stop()));
  return 0;
}

if (import.meta.main) toolMain({ name: "nsq_to_nsq", table: nsqToNsqOptionTable, run });
