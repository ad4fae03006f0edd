import { hostname } from "node:os";
import { resolve } from "node:path";
import { Logger } from "../common/logger.ts";
import { VERSION } from "../common/version.ts";
import type { DiskQueue } from "../diskqueue/disk-queue.ts";
import { DiskStore } from "../diskqueue/store.ts";
import { isEphemeralName, isValidChannelName, isValidTopicName } from "../protocol/names.ts";
import { AnswerGate } from "./answer-gate.ts";
import type { Channel } from "./channel.ts";
import { nowNs } from "./clock.ts";
import { DataLock } from "./data-lock.ts";
import { HistorySampler } from "./history.ts";
import { IdFactory } from "./id-factory.ts";
import { loadMetadata, saveMetadata, type NsqdMetadata } from "./metadata.ts";
import type { NsqdOptions } from "./options.ts";
import { Topic } from "./topic.ts";

export type TopologyEvent = "topic-created" | "topic-deleted" | "channel-created" | "channel-deleted";
export type TopologyListener = (event: TopologyEvent, topic: Topic, channel?: Channel) => void;
/**
 * The names of a topic's channels elsewhere in the cluster, or null when there is
 * nobody to ask. The promise must settle within a bounded time.
 */
export type ChannelDiscovery = (topic: string) => Promise<string[]> | null;

/**
 * The broker model: topics, their channels, the one timer that drives message
 * timeouts and deferrals, the disk queues and the metadata file. Knows nothing of
 * sockets or HTTP; `tcp/` and `http/` are two doors into it.
 */
export class NSQD {
  readonly topics = new Map<string, Topic>();
  readonly ids: IdFactory;
  readonly clock = { nowNs };
  readonly startTime = Date.now();
  readonly hostname = hostname();
  readonly dataPath: string;
  readonly store: DiskStore;
  /** Every answer to a client leaves through here, once what it stands for is durable. */
  readonly answers: AnswerGate;
  /** The last hour of every topic and channel, sampled on one timer (nsqadmin's charts). */
  readonly history = new HistorySampler(this);
  /** A fresh message sequence (for records whose id is not in bunsq's layout). */
  readonly newSequence = () => this.ids.next(Date.now());
  private readonly listeners: TopologyListener[] = [];
  /**
   * Set by the program when nsqd has nsqlookupds: a topic created afterwards (not
   * loaded from metadata) pre-creates the cluster's non-ephemeral channels for it.
   */
  channelDiscovery: ChannelDiscovery | null = null;

  /** Channels with messages in flight or deferred: the scan timer visits only these. */
  private readonly timed = new Set<Channel>();
  private scanTimer: ReturnType<typeof setInterval> | null = null;
  private lock: DataLock | null = null;
  /** Set while topics are recreated from the metadata file, which needs no rewrite then. */
  private loading = false;
  private metadataScheduled = false;
  private readonly writeMetadata = () => this.persistMetadata();

  constructor(
    readonly options: NsqdOptions,
    readonly logger: Logger = new Logger({ level: options.logLevel, prefix: options.logPrefix }),
  ) {
    this.ids = new IdFactory(options.nodeId);
    this.dataPath = resolve(options.dataPath === "" ? "." : options.dataPath);
    this.store = new DiskStore(
      {
        dataPath: this.dataPath,
        maxBytesPerFile: options.maxBytesPerFile,
        maxMsgSize: options.maxMsgSize,
        syncEvery: options.syncEvery,
        syncTimeout: options.syncTimeout,
      },
      this.logger,
    );
    this.answers = new AnswerGate(this.store);
  }

  /** Locks the data path, restores topics and channels, and starts the timers. */
  start(): void {
    if (this.scanTimer !== null) return;
    this.lock = DataLock.acquire(this.dataPath);
    this.loadMetadata();
    this.store.start();
    this.scanTimer = setInterval(() => this.scan(), this.options.queueScanInterval);
    this.history.start();
  }

  /**
   * Stops the timers. With `persist`, every message still in memory (in flight and
   * deferred included) goes to its disk queue first, and metadata is saved, so a
   * restart delivers them again.
   */
  close(persist = true): void {
    if (this.scanTimer !== null) clearInterval(this.scanTimer);
    this.scanTimer = null;
    this.history.stop();
    if (persist) {
      for (const topic of this.topics.values()) topic.persist();
      this.persistMetadata();
    }
    for (const topic of this.topics.values()) topic.close(false);
    this.topics.clear();
    this.timed.clear();
    this.store.close();
    this.lock?.release();
    this.lock = null;
  }

  /** nsqd's health text: "OK", or "NOK - <error>" while disk writes fail. */
  get health(): string {
    const error = this.store.lastError;
    return error === null ? "OK" : `NOK - ${error}`;
  }

  // ---- disk ----

  openDiskQueue(name: string): DiskQueue {
    return this.store.open(name);
  }

  closeDiskQueue(queue: DiskQueue, deleteData: boolean): void {
    this.store.forget(queue);
    if (deleteData) queue.delete();
    else queue.close();
  }

  // ---- metadata ----

  private loadMetadata(): void {
    let metadata: NsqdMetadata | null;
    try {
      metadata = loadMetadata(this.dataPath);
    } catch (err) {
      this.logger.error(`failed to read metadata in ${this.dataPath} - ${(err as Error).message}; starting without it`);
      return;
    }
    if (metadata === null) return;
    this.loading = true;
    try {
      for (const t of metadata.topics) {
        if (!isValidTopicName(t.name)) {
          this.logger.warn(`skipping creation of invalid topic ${t.name}`);
          continue;
        }
        const topic = this.getTopic(t.name);
        if (t.paused) topic.pause();
        for (const c of t.channels) {
          if (!isValidChannelName(c.name)) {
            this.logger.warn(`skipping creation of invalid channel ${c.name}`);
            continue;
          }
          const channel = topic.getChannel(c.name);
          if (c.paused) channel.pause();
        }
      }
    } finally {
      this.loading = false;
    }
  }

  /** Topics, channels or paused state changed: save the metadata file at the end of this turn. */
  metadataChanged(): void {
    if (this.loading || this.metadataScheduled || this.scanTimer === null) return;
    this.metadataScheduled = true;
    setImmediate(this.writeMetadata);
  }

  private persistMetadata(): void {
    this.metadataScheduled = false;
    const metadata: NsqdMetadata = { topics: [], version: VERSION };
    for (const topic of this.topics.values()) {
      if (topic.ephemeral) continue;
      const channels = [];
      for (const channel of topic.channels.values()) {
        if (!channel.ephemeral) channels.push({ name: channel.name, paused: channel.paused });
      }
      metadata.topics.push({ name: topic.name, paused: topic.paused, channels });
    }
    try {
      saveMetadata(this.dataPath, metadata);
    } catch (err) {
      this.logger.error(`failed to persist metadata - ${(err as Error).message}`);
    }
  }

  // ---- topology ----

  onTopology(listener: TopologyListener): void {
    this.listeners.push(listener);
  }

  notify(event: TopologyEvent, topic: Topic, channel?: Channel): void {
    const what = channel === undefined ? `TOPIC(${topic.name})` : `TOPIC(${topic.name}): CHANNEL(${channel.name})`;
    this.logger.info(`${what}: ${event.replace("-", " ")}`);
    this.metadataChanged();
    for (const listener of this.listeners) listener(event, topic, channel);
  }

  getTopic(name: string): Topic {
    let topic = this.topics.get(name);
    if (topic !== undefined) return topic;
    if (!isValidTopicName(name)) throw new Error(`invalid topic name ${JSON.stringify(name)}`);
    topic = new Topic(name, this);
    this.topics.set(name, topic);
    this.notify("topic-created", topic);
    if (!this.loading) this.discoverChannels(topic);
    return topic;
  }

  /** Holds the new topic's messages until the cluster has said which channels it has (see Topic.beginDiscovery). */
  private discoverChannels(topic: Topic): void {
    const found = this.channelDiscovery?.(topic.name) ?? null;
    if (found === null) return;
    topic.beginDiscovery();
    const end = (names: readonly string[]) => {
      // ephemeral channels are left out: they exist only while a consumer is connected
      const wanted = names.filter((n) => isValidChannelName(n) && !isEphemeralName(n));
      try {
        topic.endDiscovery(wanted);
      } catch (err) {
        this.logger.error(`TOPIC(${topic.name}): failed to create discovered channels - ${(err as Error).message}`);
      }
    };
    found.then(end, (err: Error) => {
      this.logger.warn(`TOPIC(${topic.name}): channel discovery failed - ${err.message}`);
      end([]);
    });
  }

  getExistingTopic(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  /** Creates the channel (and topic) if needed. */
  getChannel(topicName: string, channelName: string): Channel {
    if (!isValidChannelName(channelName)) throw new Error(`invalid channel name ${JSON.stringify(channelName)}`);
    return this.getTopic(topicName).getChannel(channelName);
  }

  /** Deletes a topic with its channels and their data. */
  deleteTopic(name: string): boolean {
    const topic = this.topics.get(name);
    if (topic === undefined) return false;
    this.topics.delete(name);
    for (const channel of topic.channels.values()) this.timed.delete(channel);
    topic.close(true);
    this.notify("topic-deleted", topic);
    return true;
  }

  // ---- timeouts ----

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
