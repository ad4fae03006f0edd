import { hostname } from "node:os";
import { isValidChannelName, isValidTopicName } from "../protocol/names.ts";
import type { Channel } from "./channel.ts";
import { nowNs } from "./clock.ts";
import { IdFactory } from "./id-factory.ts";
import { Logger } from "./logger.ts";
import type { NsqdOptions } from "./options.ts";
import { Topic } from "./topic.ts";

/** nsqd protocol level we implement, with build metadata naming bunsq (sorts equal to 1.3.0 in semver). */
export const VERSION = "1.3.0+bunsq";

export type TopologyEvent = "topic-created" | "topic-deleted" | "channel-created" | "channel-deleted";
export type TopologyListener = (event: TopologyEvent, topic: Topic, channel?: Channel) => void;

/**
 * The broker model: topics, their channels and the one timer that drives message
 * timeouts and deferrals. Knows nothing of sockets or HTTP; `tcp/` and `http/` are
 * two doors into it.
 */
export class NSQD {
  readonly topics = new Map<string, Topic>();
  readonly ids: IdFactory;
  readonly clock = { nowNs };
  readonly startTime = Date.now();
  readonly hostname = hostname();
  private readonly listeners: TopologyListener[] = [];

  /** Channels with messages in flight or deferred: the scan timer visits only these. */
  private readonly timed = new Set<Channel>();
  private scanTimer: ReturnType<typeof setInterval> | null = null;

  constructor(
    readonly options: NsqdOptions,
    readonly logger: Logger = new Logger({ level: options.logLevel, prefix: options.logPrefix }),
  ) {
    this.ids = new IdFactory(options.nodeId);
  }

  start(): void {
    if (this.scanTimer !== null) return;
    this.scanTimer = setInterval(() => this.scan(), this.options.queueScanInterval);
  }

  close(): void {
    if (this.scanTimer !== null) clearInterval(this.scanTimer);
    this.scanTimer = null;
    for (const topic of this.topics.values()) topic.close();
    this.topics.clear();
    this.timed.clear();
  }

  onTopology(listener: TopologyListener): void {
    this.listeners.push(listener);
  }

  notify(event: TopologyEvent, topic: Topic, channel?: Channel): void {
    const what = channel === undefined ? `TOPIC(${topic.name})` : `TOPIC(${topic.name}): CHANNEL(${channel.name})`;
    this.logger.info(`${what}: ${event.replace("-", " ")}`);
    for (const listener of this.listeners) listener(event, topic, channel);
  }

  getTopic(name: string): Topic {
    let topic = this.topics.get(name);
    if (topic !== undefined) return topic;
    if (!isValidTopicName(name)) throw new Error(`invalid topic name ${JSON.stringify(name)}`);
    topic = new Topic(name, this);
    this.topics.set(name, topic);
    this.notify("topic-created", topic);
    return topic;
  }

  getExistingTopic(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  /** Creates the channel (and topic) if needed. */
  getChannel(topicName: string, channelName: string): Channel {
    if (!isValidChannelName(channelName)) throw new Error(`invalid channel name ${JSON.stringify(channelName)}`);
    return this.getTopic(topicName).getChannel(channelName);
  }

  deleteTopic(name: string): boolean {
    const topic = this.topics.get(name);
    if (topic === undefined) return false;
    this.topics.delete(name);
    for (const channel of topic.channels.values()) this.timed.delete(channel);
    topic.close();
    this.notify("topic-deleted", topic);
    return true;
  }

  /** A channel now has an in-flight or deferred message to watch. */
  watchTimeouts(channel: Channel): void {
    this.timed.add(channel);
  }

  private scan(): void {
    if (this.timed.size === 0) return;
    const now = Date.now();
    for (const channel of this.timed) {
      if (channel.deleted || !channel.processTimeouts(now)) this.timed.delete(channel);
    }
  }
}
