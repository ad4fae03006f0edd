/**
 * A real cluster on loopback under load, broken on purpose: 2 nsqlookupd, 3 nsqd
 * (durable: --mem-queue-size=0 --sync-every=1) and nsqadmin as child processes;
 * producers (bunsq's Producer and nsqjs's Writer, one of each per nsqd) and two
 * consumers discovering through the lookupds (bunsq's Consumer on channel
 * "work", nsqjs's Reader on channel "js"), each of which must receive every
 * acknowledged message. The steps: kill -9 an nsqd and restart it on the same
 * data, restart an nsqlookupd, tombstone a topic on one node and delete a channel
 * cluster-wide through nsqadmin. After each step the lookupds' listings and
 * nsqadmin's view must converge, and the time that takes is recorded.
 *
 * Used by test/cluster/chaos.test.ts (short) and scripts/cluster-test.ts (long).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nsq from "nsqjs";
import { Consumer, Producer } from "../../src/client/index.ts";
import { freePorts } from "../helpers/process.ts";
import { spawnClusterNsqd, spawnLookupd, spawnNsqadmin, startAll, type Proc } from "./procs.ts";

export interface ChaosSettings {
  /** How long the load runs between steps (and how long a killed nsqd stays down). */
  phaseMs: number;
  /** Kill -9 / restart cycles, each on the next nsqd. */
  kills: number;
  /** Messages per publish (MPUB) and pause between a producer's publishes. */
  batch: number;
  pauseMs: number;
  /** Messages in flight per consumer (spread over its connections). */
  maxInFlight: number;
  /** Limit for each convergence. */
  convergeTimeoutMs: number;
  log: (line: string) => void;
}

export interface ChannelFigures {
  /** Messages handed to the handler (duplicates included). */
  deliveries: number;
  distinct: number;
  duplicates: number;
  /** Acknowledged and never received. */
  lost: string[];
  /**
   * Of those, the ones acknowledged by an nsqd before it was killed -9: candidates
   * for the known in-flight loss (messages read from disk and in flight at the kill).
   */
  lostBeforeKill: string[];
  /** Messages of the other nsqds received while one was down, per kill. */
  receivedWhileDown: number[];
  /** The longest time without a delivery while the producers ran. */
  maxGapMs: number;
}

export interface ChaosFigures {
  durationMs: number;
  published: number;
  acked: number;
  /** Publishes that failed (mostly to the killed nsqd); they may or may not have been stored. */
  failed: number;
  work: ChannelFigures;
  js: ChannelFigures;
  /** Step name -> ms until the cluster showed it everywhere. */
  converge: { step: string; ms: number }[];
  /** In-flight bound per kill per channel, for the known-issue check. */
  inFlightBound: number;
}

const TOPIC = "load";
const SIDE = "side";
const CHANNELS = ["doomed", "js", "work"];
const LOOKUPD_ARGS = ["--inactive-producer-timeout=60s"];
const NSQD_ARGS = ["--mem-queue-size=0", "--sync-every=1", "--log-level=warn"];
const decoder = new TextDecoder();

/** An nsqd that can be killed and started again on the same ports and data. */
interface Node {
  index: number;
  dataPath: string;
  tcpPort: number;
  httpPort: number;
  proc: Proc | null;
  /** [killedAt, restartedAt] per kill. */
  downs: [number, number][];
}

async function getJson(port: number, path: string, init?: RequestInit): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { ...init, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

async function ok(port: number, path: string, method = "POST"): Promise<void> {
  const r = await getJson(port, path, { method });
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
}

/** Polls until check() is true (exceptions count as "not yet"); returns the ms it took. */
async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs: number): Promise<number> {
  const start = performance.now();
  let last: unknown = null;
  for (;;) {
    try {
      if (await check()) return Math.round(performance.now() - start);
    } catch (err) {
      last = err;
    }
    if (performance.now() - start > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? ` (last error: ${last})` : ""}`);
    }
    await Bun.sleep(25);
  }
}

const same = (a: readonly unknown[], b: readonly unknown[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

/** What one consumer received, by body. */
class Received {
  readonly counts = new Map<string, number>();
  deliveries = 0;
  /** Deliveries per nsqd index, to see who is still delivering. */
  readonly perNode = [0, 0, 0];
  private lastAt = 0;
  maxGapMs = 0;

  add(body: string): void {
    const now = performance.now();
    if (this.lastAt > 0 && now - this.lastAt > this.maxGapMs) this.maxGapMs = now - this.lastAt;
    this.lastAt = now;
    this.deliveries++;
    this.counts.set(body, (this.counts.get(body) ?? 0) + 1);
    this.perNode[Number(body.slice(1, body.indexOf("-")))]++;
  }
}

export async function runChaos(s: ChaosSettings): Promise<ChaosFigures> {
  const started = performance.now();
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const converge: { step: string; ms: number }[] = [];
  const step = async (name: string, checks: [string, () => Promise<boolean> | boolean][]) => {
    const start = performance.now();
    for (const [what, check] of checks) await until(check, `${name}: ${what}`, s.convergeTimeoutMs);
    const ms = Math.round(performance.now() - start);
    converge.push({ step: name, ms });
    s.log(`converged after ${name}: ${ms} ms`);
  };
  try {
    // ---- the cluster ----
    const lookupds = await startAll([spawnLookupd(LOOKUPD_ARGS), spawnLookupd(LOOKUPD_ARGS)]);
    cleanups.push(() => Promise.all(lookupds.map((l) => l.stop())));
    const nodes: Node[] = [0, 1, 2].map((index) => {
      const [tcpPort, httpPort] = freePorts(2);
      return { index, dataPath: mkdtempSync(join(tmpdir(), "bunsq-chaos-")), tcpPort, httpPort, proc: null, downs: [] };
    });
    cleanups.push(() => nodes.forEach((n) => rmSync(n.dataPath, { recursive: true, force: true })));
    const startNode = async (n: Node) => {
      n.proc = await spawnClusterNsqd(lookupds, NSQD_ARGS, n);
    };
    cleanups.push(() => Promise.all(nodes.map((n) => n.proc?.stop())));
    await Promise.all(nodes.map(startNode));
    const admin = await spawnNsqadmin(lookupds, ["--log-level=warn"]);
    cleanups.push(() => admin.stop());
    const nodeName = (n: Node) => `127.0.0.1:${n.httpPort}`;

    for (const n of nodes) {
      await ok(n.httpPort, `/topic/create?topic=${TOPIC}`);
      for (const c of CHANNELS) await ok(n.httpPort, `/channel/create?topic=${TOPIC}&channel=${c}`);
      await ok(n.httpPort, `/topic/create?topic=${SIDE}`);
      await ok(n.httpPort, `/channel/create?topic=${SIDE}&channel=s`);
    }

    // ---- what the lookupds and nsqadmin must show ----
    const lookupProducers = async (l: Proc, topic: string) => {
      const r = await getJson(l.httpPort, `/lookup?topic=${topic}`);
      return r.status === 200 ? (r.json.producers as { tcp_port: number }[]).map((p) => p.tcp_port) : [];
    };
    const lookupdsList = (topic: string, expected: Node[]) =>
      lookupds.map(
        (l, i) =>
          [
            `lookupd ${i} to list nsqds ${expected.map((n) => n.index)} for ${topic}`,
            async () => same(await lookupProducers(l, topic), expected.map((n) => n.tcpPort)),
          ] as [string, () => Promise<boolean>],
      );
    const lookupdsChannels = (expected: string[]) =>
      lookupds.map(
        (l, i) =>
          [
            `lookupd ${i} to list channels ${expected}`,
            async () => same((await getJson(l.httpPort, `/channels?topic=${TOPIC}`)).json.channels, expected),
          ] as [string, () => Promise<boolean>],
      );
    const lookupdsNodes = (expected: Node[]) =>
      lookupds.map(
        (l, i) =>
          [
            `lookupd ${i} /nodes to hold nsqds ${expected.map((n) => n.index)}`,
            async () =>
              same(
                (await getJson(l.httpPort, "/nodes")).json.producers.map((p: { tcp_port: number }) => p.tcp_port),
                expected.map((n) => n.tcpPort),
              ),
          ] as [string, () => Promise<boolean>],
      );
    const adminNodes = (expected: Node[]): [string, () => Promise<boolean>] => [
      `nsqadmin /api/nodes to show nsqds ${expected.map((n) => n.index)}`,
      async () =>
        same(
          (await getJson(admin.httpPort, "/api/nodes")).json.nodes.map((p: { http_port: number }) => p.http_port),
          expected.map((n) => n.httpPort),
        ),
    ];
    const adminTopic = (topic: string, expected: Node[], channels?: string[]): [string, () => Promise<boolean>] => [
      `nsqadmin /api/topics/${topic} to show nsqds ${expected.map((n) => n.index)}${channels ? ` and channels ${channels}` : ""}`,
      async () => {
        const t = (await getJson(admin.httpPort, `/api/topics/${topic}`)).json;
        return (
          same((t.nodes ?? []).map((x: { node: string }) => x.node), expected.map(nodeName)) &&
          (channels === undefined || same(t.channels.map((c: { channel_name: string }) => c.channel_name), channels))
        );
      },
    ];
    const all = nodes.slice();
    await step("start", [
      ...lookupdsList(TOPIC, all),
      ...lookupdsChannels(CHANNELS),
      adminNodes(all),
      adminTopic(TOPIC, all, CHANNELS),
    ]);

    // ---- consumers, discovering through the lookupds ----
    const work = new Received();
    const js = new Received();
    const lookupdAddresses = lookupds.map((l) => `127.0.0.1:${l.httpPort}`);
    const consumer = new Consumer(TOPIC, "work", {
      handler: (m) => work.add(decoder.decode(m.body)),
      maxInFlight: s.maxInFlight,
      lookupdPollInterval: 500,
      lookupdPollJitter: 0,
      maxAttempts: 0,
    });
    cleanups.push(() => consumer.stop(2000));
    for (const a of lookupdAddresses) await consumer.connectToNsqlookupd(a);
    const reader = new nsq.Reader(TOPIC, "js", {
      nsqdTCPAddresses: [],
      lookupdHTTPAddresses: lookupdAddresses,
      lookupdPollInterval: 1,
      maxInFlight: s.maxInFlight,
    });
    reader.on("message", (m) => {
      js.add(m.body.toString());
      m.finish();
    });
    reader.on("error", () => {}); // connections to a killed nsqd fail; the lookupd poll finds it again
    reader.connect();
    cleanups.push(() => reader.close());

    // ---- producers: a bunsq Producer and an nsqjs Writer per nsqd ----
    const acked = new Map<string, number>(); // body -> when acknowledged
    let published = 0;
    let failed = 0;
    let producing = true;
    let sequence = 0;
    const bodies = (n: Node) => Array.from({ length: s.batch }, () => `n${n.index}-${++sequence}`);
    const record = (batch: string[]) => {
      const now = performance.now();
      for (const b of batch) acked.set(b, now);
    };
    const bunsqProducer = async (n: Node) => {
      let p: Producer | null = null;
      while (producing) {
        const batch = bodies(n);
        published += batch.length;
        try {
          p ??= new Producer(`127.0.0.1:${n.tcpPort}`, { dialTimeout: 1000 });
          await p.multiPublish(TOPIC, batch);
          record(batch);
        } catch {
          failed += batch.length;
          p = null;
          await Bun.sleep(100);
        }
        await Bun.sleep(s.pauseMs);
      }
      await p?.stop();
    };
    const nsqjsPublish = (w: nsq.Writer, batch: string[]) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no answer")), 3000);
        w.publish(TOPIC, batch, (err) => {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        });
      });
    const nsqjsWriter = async (n: Node) => {
      let w: nsq.Writer | null = null;
      while (producing) {
        const batch = bodies(n);
        try {
          if (w === null) {
            const candidate = new nsq.Writer("127.0.0.1", n.tcpPort);
            await new Promise<void>((resolve, reject) => {
              candidate.on("ready", () => resolve());
              candidate.on("error", reject);
              candidate.on("closed", () => reject(new Error("closed")));
              candidate.connect();
            });
            candidate.on("closed", () => {
              if (w === candidate) w = null;
            });
            w = candidate;
          }
          published += batch.length;
          await nsqjsPublish(w, batch);
          record(batch);
        } catch {
          if (w !== null) failed += batch.length;
          w?.close();
          w = null;
          await Bun.sleep(100);
        }
        await Bun.sleep(s.pauseMs);
      }
      w?.close();
    };
    const producers = nodes.flatMap((n) => [bunsqProducer(n), nsqjsWriter(n)]);
    cleanups.push(async () => {
      producing = false;
      await Promise.all(producers);
    });

    await step("consumers connected to every nsqd", [
      ["bunsq Consumer to receive from every nsqd", () => work.perNode.every((c) => c > 0)],
      ["nsqjs Reader to receive from every nsqd", () => js.perNode.every((c) => c > 0)],
    ]);
    await Bun.sleep(s.phaseMs);

    // ---- kill -9 an nsqd under load, then restart it on the same data ----
    const receivedWhileDown: { work: number[]; js: number[] } = { work: [], js: [] };
    for (let k = 0; k < s.kills; k++) {
      const victim = nodes[(k + 1) % nodes.length];
      const others = nodes.filter((n) => n !== victim);
      s.log(`kill -9 nsqd ${victim.index} (acked so far ${acked.size})`);
      const killedAt = performance.now();
      await victim.proc!.stop("SIGKILL");
      victim.proc = null;
      const before = { work: others.map((n) => work.perNode[n.index]), js: others.map((n) => js.perNode[n.index]) };
      await step(`kill -9 nsqd ${victim.index}`, [
        ...lookupdsList(TOPIC, others),
        ...lookupdsNodes(others),
        adminNodes(others),
        adminTopic(TOPIC, others),
      ]);
      await Bun.sleep(s.phaseMs);
      // the other nsqds kept delivering to both consumers while it was down
      const gained = (r: Received, was: number[]) => others.reduce((sum, n, i) => sum + r.perNode[n.index] - was[i], 0);
      receivedWhileDown.work.push(gained(work, before.work));
      receivedWhileDown.js.push(gained(js, before.js));

      await startNode(victim);
      const restartedAt = performance.now();
      victim.downs.push([killedAt, restartedAt]);
      const seen = { work: work.perNode[victim.index], js: js.perNode[victim.index] };
      await step(`restart nsqd ${victim.index}`, [
        ...lookupdsList(TOPIC, all),
        ...lookupdsNodes(all),
        adminNodes(all),
        adminTopic(TOPIC, all, CHANNELS),
        ["bunsq Consumer to receive from it again", () => work.perNode[victim.index] > seen.work],
        ["nsqjs Reader to receive from it again", () => js.perNode[victim.index] > seen.js],
      ]);
      await Bun.sleep(s.phaseMs);
    }

    // ---- restart an nsqlookupd ----
    s.log("restart nsqlookupd 0");
    const old = lookupds[0];
    await old.stop("SIGKILL");
    lookupds[0] = await spawnLookupd(LOOKUPD_ARGS, old.tcpPort, old.httpPort);
    await step("restart nsqlookupd 0", [
      ...lookupdsNodes(all),
      ...lookupdsList(TOPIC, all),
      ...lookupdsList(SIDE, all),
      ...lookupdsChannels(CHANNELS),
      adminNodes(all),
    ]);
    await Bun.sleep(s.phaseMs);

    // ---- tombstone a topic on one node through nsqadmin (it is then deleted there) ----
    const target = nodes[2];
    const kept = nodes.filter((n) => n !== target);
    s.log(`tombstone ${SIDE} on nsqd ${target.index} through nsqadmin`);
    const t = await getJson(admin.httpPort, `/api/nodes/${nodeName(target)}`, {
      method: "DELETE",
      body: JSON.stringify({ topic: SIDE }),
    });
    if (t.status !== 200) throw new Error(`tombstone: ${t.status} ${JSON.stringify(t.json)}`);
    await step(`tombstone ${SIDE} on nsqd ${target.index}`, [
      ...lookupdsList(SIDE, kept),
      [
        `nsqd ${target.index} to have no topic ${SIDE}`,
        async () => ((await getJson(target.httpPort, `/stats?format=json&topic=${SIDE}`)).json.topics ?? []).length === 0,
      ],
      adminTopic(SIDE, kept),
      adminTopic(TOPIC, all, CHANNELS),
    ]);

    // ---- delete a channel cluster-wide through nsqadmin ----
    s.log("delete channel doomed through nsqadmin");
    const d = await getJson(admin.httpPort, `/api/topics/${TOPIC}/doomed`, { method: "DELETE" });
    if (d.status !== 200) throw new Error(`channel delete: ${d.status} ${JSON.stringify(d.json)}`);
    const live = ["js", "work"];
    await step("delete channel doomed", [
      ...lookupdsChannels(live),
      ...nodes.map(
        (n) =>
          [
            `nsqd ${n.index} to have channels ${live} only`,
            async () => {
              const topics = (await getJson(n.httpPort, `/stats?format=json&topic=${TOPIC}`)).json.topics;
              return same(topics[0].channels.map((c: { channel_name: string }) => c.channel_name), live);
            },
          ] as [string, () => Promise<boolean>],
      ),
      adminTopic(TOPIC, all, live),
    ]);
    await Bun.sleep(s.phaseMs);

    // ---- stop producing; every acknowledged message must arrive ----
    producing = false;
    await Promise.all(producers);
    const gaps = { work: work.maxGapMs, js: js.maxGapMs }; // from here on, silence is expected
    s.log(`producers stopped: published ${published}, acked ${acked.size}, failed ${failed}`);
    const missing = (r: Received) => [...acked.keys()].filter((b) => !r.counts.has(b)).length;
    const drained = async () => {
      for (const n of nodes) {
        const topics = (await getJson(n.httpPort, `/stats?format=json&topic=${TOPIC}`)).json.topics;
        for (const c of topics[0].channels) if (c.depth > 0 || c.in_flight_count > 0) return false;
      }
      return true;
    };
    try {
      await step("drain", [
        ["every channel on every nsqd to be empty", drained],
        ["nsqadmin to show channels work and js empty", async () => {
          const t = (await getJson(admin.httpPort, `/api/topics/${TOPIC}`)).json;
          return t.channels.every((c: { depth: number; in_flight_count: number }) => c.depth === 0 && c.in_flight_count === 0);
        }],
      ]);
    } catch (err) {
      s.log(`${(err as Error).message}; missing work ${missing(work)}, js ${missing(js)}`);
    }

    const figures = (r: Received, down: number[], maxGapMs: number): ChannelFigures => {
      const lost = [...acked.keys()].filter((b) => !r.counts.has(b));
      const lostBeforeKill = lost.filter((b) => {
        const node = nodes[Number(b.slice(1, b.indexOf("-")))];
        return node.downs.some(([killedAt]) => acked.get(b)! <= killedAt);
      });
      return {
        deliveries: r.deliveries,
        distinct: r.counts.size,
        duplicates: r.deliveries - r.counts.size,
        lost,
        lostBeforeKill,
        receivedWhileDown: down,
        maxGapMs: Math.round(maxGapMs),
      };
    };
    return {
      durationMs: Math.round(performance.now() - started),
      published,
      acked: acked.size,
      failed,
      work: figures(work, receivedWhileDown.work, gaps.work),
      js: figures(js, receivedWhileDown.js, gaps.js),
      converge,
      inFlightBound: s.maxInFlight,
    };
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        // cleanup goes on
      }
    }
  }
}
