/**
 * nsqd's statsd loop: every --statsd-interval, the counters (as increments since
 * the last push) and gauges of every topic and channel, their e2e latency
 * percentiles and optionally memory figures, with nsqd's metric names, over UDP.
 */
import { heapStats } from "bun:jsc";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { NSQD } from "../core/nsqd.ts";
import { statsSnapshot } from "../core/stats.ts";
import { isEphemeralName } from "../protocol/names.ts";
import type { E2eLatency } from "../schemas/nsqd-stats.ts";
import { StatsdPackets } from "./packets.ts";

export interface StatsdSettings {
  host: string;
  port: number;
  /** Already expanded (statsdPrefix()). */
  prefix: string;
  intervalMs: number;
  packetSize: number;
  memStats: boolean;
  excludeEphemeral: boolean;
}

export class StatsdPusher {
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Counter values at the previous push, by metric name. */
  private last = new Map<string, number>();

  constructor(
    private readonly nsqd: NSQD,
    private readonly settings: StatsdSettings,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.push().catch((err: Error) => this.nsqd.logger.error(`STATSD: push failed - ${err.message}`));
    }, this.settings.intervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** The packets of one push (exposed for the push itself and for tests). */
  collect(): string[] {
    const { prefix, packetSize, excludeEphemeral, memStats } = this.settings;
    const out = new StatsdPackets(prefix, packetSize);
    const current = new Map<string, number>();
    const incr = (stat: string, value: number) => {
      current.set(stat, value);
      out.incr(stat, value - (this.last.get(stat) ?? 0));
    };
    const percentiles = (stat: string, result: E2eLatency) => {
      for (const p of result.percentiles ?? []) out.gauge(`${stat}.e2e_processing_latency_${Math.round(p.quantile * 100)}`, p.value);
    };
    for (const topic of statsSnapshot(this.nsqd).topics ?? []) {
      if (excludeEphemeral && isEphemeralName(topic.topic_name)) continue;
      const t = `topic.${topic.topic_name}`;
      incr(`${t}.message_count`, topic.message_count);
      incr(`${t}.message_bytes`, topic.message_bytes);
      out.gauge(`${t}.depth`, topic.depth);
      out.gauge(`${t}.backend_depth`, topic.backend_depth);
      percentiles(t, topic.e2e_processing_latency);
      for (const channel of topic.channels) {
        if (excludeEphemeral && isEphemeralName(channel.channel_name)) continue;
        const c = `${t}.channel.${channel.channel_name}`;
        incr(`${c}.message_count`, channel.message_count);
        out.gauge(`${c}.depth`, channel.depth);
        out.gauge(`${c}.backend_depth`, channel.backend_depth);
        out.gauge(`${c}.in_flight_count`, channel.in_flight_count);
        out.gauge(`${c}.deferred_count`, channel.deferred_count);
        incr(`${c}.requeue_count`, channel.requeue_count);
        incr(`${c}.timeout_count`, channel.timeout_count);
        out.gauge(`${c}.clients`, channel.client_count);
        percentiles(c, channel.e2e_processing_latency);
      }
    }
    if (memStats) {
      const mem = process.memoryUsage();
      out.gauge("mem.heap_objects", heapStats().objectCount);
      out.gauge("mem.heap_idle_bytes", Math.max(0, mem.heapTotal - mem.heapUsed));
      out.gauge("mem.heap_in_use_bytes", mem.heapUsed);
      out.gauge("mem.heap_released_bytes", 0);
      // JavaScriptCore does not report GC pauses or runs
      out.gauge("mem.gc_pause_usec_100", 0);
      out.gauge("mem.gc_pause_usec_99", 0);
      out.gauge("mem.gc_pause_usec_95", 0);
      out.gauge("mem.next_gc_bytes", 0);
      out.incr("mem.gc_runs", 0);
    }
    this.last = current;
    return out.flush();
  }

  private async push(): Promise<void> {
    const { host, port } = this.settings;
    const address = isIP(host) !== 0 ? host : (await lookup(host)).address;
    const packets = this.collect();
    this.nsqd.logger.info(`STATSD: pushing stats to ${host}:${port}`);
    const socket = await Bun.udpSocket({});
    try {
      for (const packet of packets) socket.send(packet, port, address);
    } finally {
      socket.close();
    }
  }
}
