/**
 * nsqadmin's view of the cluster, read from the nsqlookupds (or a fixed list of
 * nsqds) on every call, as NSQ's clusterinfo does. A daemon that fails is
 * recorded in `errors` and the rest is still answered; only when every daemon
 * asked fails does a call throw.
 */
import type { NsqdHistory } from "../schemas/nsqd-history.ts";
import { nodeTopic } from "./aggregate.ts";
import type { NsqdStatsJson, Producer, TopicStats } from "./types.ts";
import { Upstream, UpstreamError } from "./upstream.ts";

export interface Sources {
  lookupds: string[];
  nsqds: string[];
}

/** Every daemon asked failed. */
export class AllFailedError extends Error {}

/** Collects the failures of one API call. */
export class Failures {
  readonly errors: string[] = [];

  add(err: unknown): void {
    this.errors.push(err instanceof Error ? err.message : String(err));
  }

  /** NSQ's "WARNING: a; b" message, or "". */
  message(): string {
    return this.errors.length === 0 ? "" : `WARNING: ${this.errors.join("; ")}`;
  }
}

interface LookupdNode {
  remote_address: string;
  hostname: string;
  broadcast_address: string;
  tcp_port: number;
  http_port: number;
  version: string;
  topics?: string[];
  tombstones?: boolean[];
}

const q = encodeURIComponent;
export const httpAddress = (p: Pick<Producer, "broadcast_address" | "http_port">) =>
  `${p.broadcast_address}:${p.http_port}`;

function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[.+-]/).slice(0, 3).map((n) => Number.parseInt(n, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

export class ClusterInfo {
  constructor(
    private readonly upstream: Upstream,
    readonly sources: () => Sources,
  ) {}

  /** Runs fn on every address at once; failures are recorded, all failing throws. */
  private async each<A, T>(addresses: A[], failures: Failures, fn: (a: A) => Promise<T>): Promise<T[]> {
    const settled = await Promise.allSettled(addresses.map(fn));
    const ok: T[] = [];
    for (const s of settled) {
      if (s.status === "fulfilled") ok.push(s.value);
      else failures.add(s.reason);
    }
    if (addresses.length > 0 && ok.length === 0) throw new AllFailedError(failures.errors.join("; "));
    return ok;
  }

  async topics(failures: Failures): Promise<string[]> {
    const { lookupds, nsqds } = this.sources();
    const names = new Set<string>();
    if (lookupds.length > 0) {
      const lists = await this.each(lookupds, failures, (a) => this.upstream.json<{ topics: string[] }>(a, "/topics"));
      for (const l of lists) for (const t of l.topics ?? []) names.add(t);
    } else {
      const stats = await this.each(nsqds, failures, (a) => this.nsqdStats(a, ""));
      for (const s of stats) for (const t of s.topics ?? []) names.add(t.topic_name);
    }
    return [...names].sort();
  }

  async lookupdChannels(topic: string, failures: Failures): Promise<string[]> {
    const lists = await this.each(this.sources().lookupds, failures, (a) =>
      this.upstream.json<{ channels: string[] }>(a, `/channels?topic=${q(topic)}`),
    );
    return [...new Set(lists.flatMap((l) => l.channels ?? []))].sort();
  }

  private nsqdStats(address: string, topic: string, includeClients = false): Promise<NsqdStatsJson> {
    const filter = topic === "" ? "" : `&topic=${q(topic)}`;
    return this.upstream.json<NsqdStatsJson>(
      address,
      `/stats?format=json${filter}&include_clients=${includeClients}&include_mem=false`,
    );
  }

  /** Every nsqd: merged from the lookupds' /nodes, or each nsqd's /info and /stats. */
  async producers(failures: Failures): Promise<Producer[]> {
    const { lookupds, nsqds } = this.sources();
    const byAddress = new Map<string, Producer>();
    if (lookupds.length > 0) {
      const answers = await this.each(lookupds, failures, (a) =>
        this.upstream.json<{ producers: LookupdNode[] }>(a, "/nodes"),
      );
      for (const answer of answers) {
        for (const n of answer.producers ?? []) {
          const key = httpAddress(n);
          let p = byAddress.get(key);
          if (p === undefined) {
            p = { ...this.producerOf(n), remote_addresses: [] };
            byAddress.set(key, p);
          }
          p.remote_addresses.push(n.remote_address);
          (n.topics ?? []).forEach((topic, i) => {
            const tombstoned = n.tombstones?.[i] ?? false;
            const known = p.topics.find((t) => t.topic === topic);
            if (known === undefined) p.topics.push({ topic, tombstoned });
            else known.tombstoned ||= tombstoned;
          });
        }
      }
    } else {
      const found = await this.each(nsqds, failures, (a) => this.nsqdProducer(a));
      for (const p of found) byAddress.set(httpAddress(p), p);
    }
    const list = [...byAddress.values()];
    const newest = list.reduce((v, p) => (compareVersions(p.version, v) > 0 ? p.version : v), "0.0.0");
    for (const p of list) {
      p.topics.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
      p.out_of_date = compareVersions(p.version, newest) < 0;
    }
    return list.sort((a, b) => a.hostname.localeCompare(b.hostname) || httpAddress(a).localeCompare(httpAddress(b)));
  }

  private producerOf(n: LookupdNode): Producer {
    return {
      remote_addresses: [n.remote_address],
      remote_address: n.remote_address,
      hostname: n.hostname,
      broadcast_address: n.broadcast_address,
      tcp_port: n.tcp_port,
      http_port: n.http_port,
      version: n.version,
      topics: [],
      out_of_date: false,
    };
  }

  /** An nsqd given by --nsqd-http-address, described by its /info and its topics. */
  private async nsqdProducer(address: string): Promise<Producer> {
    const [info, stats] = await Promise.all([
      this.upstream.json<LookupdNode & { broadcast_address: string }>(address, "/info"),
      this.nsqdStats(address, ""),
    ]);
    // the node is known by the address it was given as, which is where nsqadmin reaches it
    const colon = address.lastIndexOf(":");
    return {
      remote_addresses: [],
      remote_address: "",
      hostname: info.hostname,
      broadcast_address: address.slice(0, colon),
      tcp_port: info.tcp_port,
      http_port: Number(address.slice(colon + 1)),
      version: info.version,
      topics: (stats.topics ?? []).map((t) => ({ topic: t.topic_name, tombstoned: false })),
      out_of_date: false,
    };
  }

  /** The nsqds that have the topic: from the lookupds' /lookup, or every nsqd's /stats. */
  async topicProducers(topic: string, failures: Failures): Promise<Producer[]> {
    const { lookupds } = this.sources();
    if (lookupds.length === 0) {
      const all = await this.producers(failures);
      return all.filter((p) => p.topics.some((t) => t.topic === topic));
    }
    const byAddress = new Map<string, Producer>();
    const answers = await Promise.allSettled(
      lookupds.map((a) => this.upstream.json<{ producers: LookupdNode[] }>(a, `/lookup?topic=${q(topic)}`)),
    );
    let failed = 0;
    for (const a of answers) {
      if (a.status === "rejected") {
        // a lookupd that does not know the topic answers 404: not a failure
        if (a.reason instanceof UpstreamError && a.reason.message.includes(" answered 404 ")) continue;
        failures.add(a.reason);
        failed++;
        continue;
      }
      for (const n of a.value.producers ?? []) if (!byAddress.has(httpAddress(n))) byAddress.set(httpAddress(n), this.producerOf(n));
    }
    if (failed === lookupds.length) throw new AllFailedError(failures.errors.join("; "));
    return [...byAddress.values()];
  }

  /** Each producer's stats for the topic ("" for all), tagged by node; a node that fails is recorded. */
  async nodeTopicStats(
    producers: Producer[],
    topic: string,
    failures: Failures,
    includeClients = true,
  ): Promise<TopicStats[]> {
    const nowS = Math.floor(Date.now() / 1000);
    const perNode = await this.each(producers, failures, async (p) => {
      const stats = await this.nsqdStats(httpAddress(p), topic, includeClients);
      return (stats.topics ?? []).map((t) => nodeTopic(p, t, nowS));
    });
    return perNode.flat();
  }

  /**
   * Each producer's /stats/history for the topic and channel ("" for all), a
   * route only bunsq's nsqd has: one that answers 404 (Go's nsqd) is listed in
   * `unsupported`, not failed.
   */
  async nodeHistories(
    producers: Producer[],
    topic: string,
    channel: string,
    failures: Failures,
  ): Promise<{ histories: { node: string; history: NsqdHistory }[]; unsupported: string[] }> {
    const filter = [topic && `topic=${q(topic)}`, channel && `channel=${q(channel)}`].filter(Boolean).join("&");
    const path = `/stats/history${filter === "" ? "" : `?${filter}`}`;
    const unsupported: string[] = [];
    const answers = await this.each(producers, failures, async (p) => {
      const node = httpAddress(p);
      try {
        const history = await this.upstream.json<NsqdHistory>(node, path);
        if (!Array.isArray(history.topics) || !(history.interval_ms > 0)) {
          throw new UpstreamError(`GET http://${node}${path} answered an unknown history format`);
        }
        return { node, history };
      } catch (err) {
        if (!(err instanceof UpstreamError && err.message.includes(" answered 404 "))) throw err;
        unsupported.push(node);
        return null;
      }
    });
    return { histories: answers.filter((a) => a !== null), unsupported: unsupported.sort() };
  }

  /** POST to every lookupd; failures recorded. */
  async lookupdPost(path: string, failures: Failures): Promise<void> {
    await this.each(this.sources().lookupds, failures, (a) => this.upstream.request(a, path, "POST"));
  }

  /** POST to every producer; failures recorded. */
  async producersPost(producers: Producer[], path: string, failures: Failures): Promise<void> {
    await this.each(producers, failures, (p) => this.upstream.request(httpAddress(p), path, "POST"));
  }
}
