/**
 * The administrative operations of nsqadmin, fanned out like NSQ's clusterinfo:
 * registrations change on every nsqlookupd, data on every nsqd that has the topic.
 */
import { ClusterInfo, type Failures } from "./cluster.ts";

const q = encodeURIComponent;

export type TopicAction = "pause" | "unpause" | "empty";

export class ClusterActions {
  constructor(private readonly cluster: ClusterInfo) {}

  /** Registers the topic (and the channel, when given) on every nsqlookupd. */
  async createTopicChannel(topic: string, channel: string, failures: Failures): Promise<void> {
    await this.cluster.lookupdPost(`/topic/create?topic=${q(topic)}`, failures);
    if (channel !== "") await this.cluster.lookupdPost(`/channel/create?topic=${q(topic)}&channel=${q(channel)}`, failures);
  }

  async deleteTopic(topic: string, failures: Failures): Promise<void> {
    // producers first: once the lookupds forget the topic they no longer list its nsqds
    const producers = await this.cluster.topicProducers(topic, failures);
    await this.cluster.lookupdPost(`/topic/delete?topic=${q(topic)}`, failures);
    await this.cluster.producersPost(producers, `/topic/delete?topic=${q(topic)}`, failures);
  }

  async deleteChannel(topic: string, channel: string, failures: Failures): Promise<void> {
    const qs = `topic=${q(topic)}&channel=${q(channel)}`;
    await this.cluster.lookupdPost(`/channel/delete?${qs}`, failures);
    const producers = await this.cluster.topicProducers(topic, failures);
    await this.cluster.producersPost(producers, `/channel/delete?${qs}`, failures);
  }

  async topicAction(action: TopicAction, topic: string, failures: Failures): Promise<void> {
    const producers = await this.cluster.topicProducers(topic, failures);
    await this.cluster.producersPost(producers, `/topic/${action}?topic=${q(topic)}`, failures);
  }

  async channelAction(action: TopicAction, topic: string, channel: string, failures: Failures): Promise<void> {
    const producers = await this.cluster.topicProducers(topic, failures);
    await this.cluster.producersPost(producers, `/channel/${action}?topic=${q(topic)}&channel=${q(channel)}`, failures);
  }

  /** Hides one nsqd from the topic's lookups, then deletes the topic on that nsqd. */
  async tombstoneTopicOnNode(topic: string, node: string, failures: Failures): Promise<void> {
    await this.cluster.lookupdPost(`/topic/tombstone?topic=${q(topic)}&node=${q(node)}`, failures);
    const producer = (await this.cluster.producers(failures)).find((p) => `${p.broadcast_address}:${p.http_port}` === node);
    if (producer !== undefined) await this.cluster.producersPost([producer], `/topic/delete?topic=${q(topic)}`, failures);
  }
}
