#!/usr/bin/env bun
/** nsq_to_file: writes topics to files, rotated by time and size, optionally gzipped. */
import { hostname } from "node:os";
import { Consumer } from "../client/index.ts";
import type { OptionsOf } from "../options/flags.ts";
import { FileLogger } from "./file-logger.ts";
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
import { logPrefixOption } from "../options/common-options.ts";
import { httpUrl } from "../common/host-port.ts";

export const nsqToFileOptionTable = [
  { key: "topics", flag: "topic", kind: "list", default: [], help: "nsq topic (may be given multiple times)" },
  { key: "topicPattern", flag: "topic-pattern", kind: "string", default: "", help: "only log topics matching the following pattern" },
  {
    key: "topicRefresh",
    flag: "topic-refresh",
    kind: "duration",
    default: 60_000,
    above: 0,
    help: "how frequently the topic list should be refreshed",
  },
  channelOption("nsq_to_file"),
  nsqdTcpAddressOption,
  lookupdHttpAddressOption,
  consumerOptOption,
  maxInFlightOption(200),
  { ...logPrefixOption("[nsq_to_file] "), help: "log message prefix" },
  toolLogLevelOption,
  { key: "outputDir", flag: "output-dir", kind: "string", default: "/tmp", help: "directory to write output files to" },
  {
    key: "workDir",
    flag: "work-dir",
    kind: "string",
    default: "",
    help: "directory for in-progress files before moving to output-dir (default: output-dir)",
  },
  {
    key: "datetimeFormat",
    flag: "datetime-format",
    kind: "string",
    default: "%Y-%m-%d_%H",
    help: "strftime compatible format for <DATETIME> in filename format",
  },
  {
    key: "filenameFormat",
    flag: "filename-format",
    kind: "string",
    default: "<TOPIC>.<HOST><REV>.<DATETIME>.log",
    help: "output filename format (<TOPIC>, <HOST>, <PID>, <DATETIME>, <REV> are replaced. <REV> is increased when file already exists)",
  },
  {
    key: "hostIdentifier",
    flag: "host-identifier",
    kind: "string",
    default: "",
    help: "value to output in log filename in place of hostname. <SHORT_HOST> and <HOSTNAME> are valid replacement tokens",
  },
  { key: "gzipLevel", flag: "gzip-level", kind: "int", default: 6, min: 1, max: 9, help: "gzip compression level (1-9, 1=BestSpeed, 9=BestCompression)" },
  { key: "gzip", flag: "gzip", kind: "bool", default: false, help: "gzip output files." },
  { key: "skipEmptyFiles", flag: "skip-empty-files", kind: "bool", default: false, help: "skip writing empty files" },
  {
    key: "rotateSize",
    flag: "rotate-size",
    kind: "int",
    default: 0,
    min: 0,
    help: "rotate the file when it grows bigger than `rotate-size` bytes",
  },
  {
    key: "rotateInterval",
    flag: "rotate-interval",
    kind: "duration",
    default: 0,
    help: "rotate the file every duration",
  },
  {
    key: "syncInterval",
    flag: "sync-interval",
    kind: "duration",
    default: 30_000,
    above: 0,
    help: "sync file to disk every duration",
  },
  {
    key: "httpClientConnectTimeout",
    flag: "http-client-connect-timeout",
    kind: "duration",
    default: 2000,
    help: "timeout for HTTP connect",
  },
  {
    key: "httpClientRequestTimeout",
    flag: "http-client-request-timeout",
    kind: "duration",
    default: 5000,
    help: "timeout for HTTP request",
  },
] as const;

type Options = OptionsOf<typeof nsqToFileOptionTable>;

function hostIdentifier(template: string): string {
  const full = hostname();
  const short = full.split(".")[0] ?? full;
  if (template === "") return short;
  return template.replaceAll("<SHORT_HOST>", short).replaceAll("<HOSTNAME>", full);
}

/** Topics lookupd knows, for --topic-pattern. */
async function lookupdTopics(addresses: readonly string[], timeoutMs: number): Promise<string[]> {
  const all = new Set<string>();
  for (const a of addresses) {
    try {
      const res = await fetch(httpUrl(a, "/topics"), { signal: AbortSignal.timeout(timeoutMs) });
      const body = (await res.json()) as { topics?: string[] };
      for (const t of body.topics ?? []) all.add(t);
    } catch {
      // an unreachable lookupd adds nothing this round
    }
  }
  return [...all];
}

async function run(o: Options, { logger, signal }: ToolContext): Promise<number> {
  checkSources(o);
  if (o.topics.length === 0 && o.topicPattern === "") throw new UsageError("--topic or --topic-pattern required");
  if (o.topicPattern !== "" && o.lookupdHttpAddresses.length === 0) {
    throw new UsageError("--lookupd-http-address must be specified when using --topic-pattern");
  }
  if ((o.rotateSize > 0 || o.rotateInterval > 0) && !o.filenameFormat.includes("<REV>")) {
    throw new UsageError("missing <REV> in --filename-format when --rotate-size or --rotate-interval is set");
  }
  const pattern = o.topicPattern === "" ? null : new RegExp(o.topicPattern);
  const fileOptions = {
    outputDir: o.outputDir,
    workDir: o.workDir || o.outputDir,
    filenameFormat: o.filenameFormat,
    datetimeFormat: o.datetimeFormat,
    hostIdentifier: hostIdentifier(o.hostIdentifier),
    gzip: o.gzip,
    gzipLevel: o.gzipLevel,
    rotateSize: o.rotateSize,
    rotateInterval: o.rotateInterval,
    skipEmptyFiles: o.skipEmptyFiles,
    maxPending: o.maxInFlight,
  };
  const running = new Map<string, { consumer: Consumer; file: FileLogger }>();

  const start = async (topic: string) => {
    if (running.has(topic)) return;
    const file = new FileLogger(topic, fileOptions, logger);
    const consumer = new Consumer(topic, o.channel, {
      ...consumerOpts(o.consumerOpts),
      maxInFlight: o.maxInFlight,
      userAgent: "nsq_to_file/bunsq",
      log: clientLog(logger),
      handler: (m) => file.write(m),
    });
    running.set(topic, { consumer, file });
    await connectConsumer(consumer, o);
  };

  for (const t of o.topics) await start(t);
  const refresh = async () => {
    if (pattern === null) return;
    for (const t of await lookupdTopics(o.lookupdHttpAddresses, o.httpClientRequestTimeout)) {
      if (pattern.test(t)) await start(t);
    }
  };
  await refresh();
  // a failed discovery round is retried at the next one
  const topicTimer = setInterval(() => {
    refresh().catch((err) => logger.error(`topic discovery failed - ${(err as Error).message}`));
  }, o.topicRefresh);
  // as nsq_to_file: a file that cannot be written, synced or moved ends the tool (exit 1, nothing
  // unwritten is FINed); the error ends run() instead of escaping from a timer
  const fileFailure = Promise.withResolvers<never>();
  const onFiles = (fn: (file: FileLogger) => void) => () => {
    try {
      for (const { file } of running.values()) fn(file);
    } catch (err) {
      fileFailure.reject(err);
    }
  };
  const syncTimer = setInterval(onFiles((file) => file.sync()), o.syncInterval);
  // an idle file must still be closed when its interval or hour is over
  const rotateTimer = setInterval(onFiles((file) => file.rotateIfDue()), Math.min(1000, o.rotateInterval > 0 ? o.rotateInterval / 2 : 1000));

  await Promise.race([aborted(signal), fileFailure.promise]);
  clearInterval(topicTimer);
  clearInterval(syncTimer);
  clearInterval(rotateTimer);
  // stop taking messages, write and FIN what arrived, then close the files
  await Promise.all(
    [...running.values()].map(async ({ consumer, file }) => {
      const stopped = consumer.stop();
      file.syncEveryWrite();
      await stopped;
      file.close();
    }),
  );
  return 0;
}

if (import.meta.main) toolMain({ name: "nsq_to_file", table: nsqToFileOptionTable, run });
