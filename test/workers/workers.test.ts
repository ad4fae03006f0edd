/**
 * `nsqd --workers=N` as real processes on loopback: publishes spread over the
 * workers reach every channel exactly once, whether the consumer connects to
 * the shared address or discovers the workers through nsqlookupd; the shared
 * HTTP address answers for the whole nsqd; a worker killed with SIGKILL is
 * restarted on its data without losing an acknowledged message; SIGTERM stops
 * everything with exit 0; a data path is never reused with another N.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Consumer, Producer } from "../../src/client/index.ts";
import type { NSQLookupd } from "../../src/lookupd/nsqlookupd.ts";
import { eventually, startTestLookupd } from "../helpers/lookupd.ts";
import { NSQD_ENTRY, freePorts, removeDir, tempDataDir } from "../helpers/process.ts";
import { SpawnedWorkers, pidAlive } from "../helpers/workers.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function workers(count: number, args: string[] = [], dataPath?: string): Promise<SpawnedWorkers> {
  const w = await SpawnedWorkers.start(count, args, dataPath);
  cleanups.push(() => w.cleanup());
  return w;
}

function lookupd(): NSQLookupd {
  const l = startTestLookupd();
  cleanups.push(() => l.stop());
  return l;
}

async function getJson(port: number, path: string): Promise<any> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

async function post(port: number, path: string): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST" })).status;
}


/** Counts every body a consumer receives (all finished). */
function tallyConsumer(topic: string, channel: string, maxInFlight = 200) {
  const counts = new Map<string, number>();
  const consumer = new Consumer(topic, channel, {
    maxInFlight,
    lookupdPollInterval: 200,
    handler: (m) => {
      const body = m.body.toString();
      counts.set(body, (counts.get(body) ?? 0) + 1);
    },
  });
  cleanups.push(() => consumer.stop(2000));
  return { consumer, counts };
}

async function producers(port: number, n: number): Promise<Producer[]> {
  const list = Array.from({ length: n }, () => new Producer(`127.0.0.1:${port}`));
  await Promise.all(list.map((p) => p.connect()));
  cleanups.push(() => Promise.all(list.map((p) => p.stop())));
  return list;
}

describe("nsqd --workers=2", () => {
  test("messages published over many connections reach each channel exactly once, direct and through nsqlookupd", async () => {
    const l = lookupd();
    const w = await workers(2, [`--lookupd-tcp-address=127.0.0.1:${l.tcpPort}`]);
    const topic = "spread";
    expect(await post(w.httpPort, `/topic/create?topic=${topic}`)).toBe(200);
    expect(await post(w.httpPort, `/channel/create?topic=${topic}&channel=direct`)).toBe(200);
    expect(await post(w.httpPort, `/channel/create?topic=${topic}&channel=lookup`)).toBe(200);
    // both workers registered the topic with nsqlookupd, each on its own ports
    await eventually(async () => (await getJson(l.httpPort, `/lookup?topic=${topic}`)).producers.length === 2, "2 producers in nsqlookupd");
    const own = w.workers().map((x) => x.tcpPort).sort();
    const registered = (await getJson(l.httpPort, `/lookup?topic=${topic}`)).producers.map((p: any) => p.tcp_port).sort();
    expect(registered).toEqual(own);

    const direct = tallyConsumer(topic, "direct");
    await direct.consumer.connectToNsqd(`127.0.0.1:${w.tcpPort}`);
    const viaLookup = tallyConsumer(topic, "lookup");
    await viaLookup.consumer.connectToNsqlookupd(`127.0.0.1:${l.httpPort}`);
    await eventually(() => viaLookup.consumer.connectedAddresses().length === 2, "the lookupd consumer on both workers");

    const pubs = await producers(w.tcpPort, 16);
    const total = 4000;
    const sent: Promise<void>[] = [];
    for (let i = 0; i < total; i += 20) {
      const p = pubs[(i / 20) % pubs.length];
      if ((i / 20) % 2 === 0) sent.push(p.multiPublish(topic, Array.from({ length: 20 }, (_, k) => `m-${i + k}`)));
      else for (let k = 0; k < 20; k++) sent.push(p.publish(topic, `m-${i + k}`));
    }
    await Promise.all(sent);

    for (const { counts } of [direct, viaLookup]) {
      await eventually(() => counts.size === total, `${total} distinct messages`, 20_000);
    }
    // the publishers were spread over both workers
    for (const x of w.workers()) {
      const stats = await getJson(x.httpPort, `/stats?format=json&topic=${topic}`);
      expect(stats.topics[0].message_count).toBeGreaterThan(0);
    }
    await eventually(async () => {
      const stats = await getJson(w.httpPort, `/stats?format=json&topic=${topic}`);
      return stats.topics[0].channels.every((c: any) => c.in_flight_count === 0 && c.depth === 0);
    }, "every message finished");
    for (const { counts } of [direct, viaLookup]) {
      expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
      for (let i = 0; i < total; i++) expect(counts.has(`m-${i}`)).toBe(true);
    }
    const stats = await getJson(w.httpPort, `/stats?format=json&topic=${topic}`);
    const t = stats.topics[0];
    expect(t.message_count).toBe(total);
    const byName = new Map<string, any>(t.channels.map((c: any) => [c.channel_name, c]));
    for (const name of ["direct", "lookup"]) {
      expect(byName.get(name).message_count).toBe(total);
      const finished = byName.get(name).clients.reduce((n: number, c: any) => n + c.finish_count, 0);
      expect(finished).toBe(total);
    }
    // the relay links are folded into the subscriber of the shared address
    expect(byName.get("direct").client_count).toBe(1);
    expect(byName.get("lookup").client_count).toBe(2);
    expect(stats.producers.reduce((n: number, p: any) => n + p.pub_counts[0].count, 0)).toBe(total);
  }, 60_000);

  test("the shared HTTP address answers for the whole nsqd", async () => {
    const w = await workers(2);
    const info = await getJson(w.httpPort, "/info");
    expect(info.tcp_port).toBe(w.tcpPort);
    expect(info.http_port).toBe(w.httpPort);
    expect(await (await fetch(`http://127.0.0.1:${w.httpPort}/ping`)).text()).toBe("OK");

    expect(await post(w.httpPort, "/topic/create?topic=adm")).toBe(200);
    expect(await post(w.httpPort, "/channel/create?topic=adm&channel=c")).toBe(200);
    expect(await post(w.httpPort, "/channel/pause?topic=adm&channel=c")).toBe(200);
    for (const x of w.workers()) {
      const stats = await getJson(x.httpPort, "/stats?format=json&topic=adm");
      expect(stats.topics[0].channels[0].paused).toBe(true);
    }
    // /pub stores in the worker that takes it; the shared counts see every one
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`http://127.0.0.1:${w.httpPort}/pub?topic=adm`, { method: "POST", body: `h-${i}` });
      expect(r.status).toBe(200);
    }
    const stats = await getJson(w.httpPort, "/stats?format=json&topic=adm");
    expect(stats.topics[0].message_count).toBe(10);
    expect(stats.topics[0].channels[0].depth).toBe(10);
    const metrics = await (await fetch(`http://127.0.0.1:${w.httpPort}/metrics`)).text();
    expect(metrics).toContain('nsq_topic_messages_total{topic="adm"} 10\n');
    expect(metrics).toContain('nsq_channel_paused{topic="adm",channel="c"} 1\n');
    const text = await (await fetch(`http://127.0.0.1:${w.httpPort}/stats?topic=adm`)).text();
    expect(text).toContain("msgs: 10");

    expect(await post(w.httpPort, "/topic/delete?topic=adm")).toBe(200);
    for (const x of w.workers()) expect((await getJson(x.httpPort, "/stats?format=json")).topics).toEqual([]);
  }, 30_000);

  test("a worker killed with SIGKILL under load is restarted on its data; nothing acknowledged is lost", async () => {
    const w = await workers(2, ["--mem-queue-size=0", "--sync-every=1"]);
    const topic = "crash";
    expect(await post(w.httpPort, `/topic/create?topic=${topic}`)).toBe(200);
    expect(await post(w.httpPort, `/channel/create?topic=${topic}&channel=c`)).toBe(200);
    const { consumer, counts } = tallyConsumer(topic, "c", 20);
    await consumer.connectToNsqd(`127.0.0.1:${w.tcpPort}`);

    const acked = new Set<string>();
    let publishing = true;
    const loops = Array.from({ length: 6 }, async (_, p) => {
      let producer = new Producer(`127.0.0.1:${w.tcpPort}`);
      for (let i = 0; publishing; i++) {
        const body = `p${p}-${i}`;
        try {
          await producer.publish(topic, body);
          acked.add(body);
        } catch {
          // the connection was on the killed worker: a new one lands on a live worker
          await producer.stop().catch(() => {});
          producer = new Producer(`127.0.0.1:${w.tcpPort}`);
          await Bun.sleep(10);
        }
      }
      await producer.stop();
    });
    await eventually(() => acked.size >= 300, "publishing under way");
    const victim = w.workers()[1];
    process.kill(victim.pid, "SIGKILL");
    await w.waitFor(() => (w.workers()[1]?.pid ?? victim.pid) !== victim.pid, "worker 1 restarted", 15_000);
    expect(pidAlive(w.workers()[0].pid)).toBe(true);
    const before = acked.size;
    await eventually(() => acked.size >= before + 300, "publishing after the restart");
    publishing = false;
    await Promise.all(loops);

    await eventually(() => [...acked].every((b) => counts.has(b)), "every acknowledged message delivered", 30_000);
    expect(w.log()).toContain("worker 1 exited");
  }, 90_000);

  test("SIGTERM stops every worker and the supervisor exits 0", async () => {
    const w = await workers(2);
    const pids = w.workers().map((x) => x.pid);
    w.proc.kill("SIGTERM");
    expect(await w.proc.exited).toBe(0);
    await eventually(() => pids.every((pid) => !pidAlive(pid)), "the workers to exit");
    expect(w.log()).toContain("all workers stopped");
  }, 30_000);
});

describe("nsqd --workers data path", () => {
  async function run(args: string[]): Promise<{ code: number; output: string }> {
    const [tcp, http] = freePorts(2);
    const proc = Bun.spawn(["bun", NSQD_ENTRY, `--tcp-address=127.0.0.1:${tcp}`, `--http-address=127.0.0.1:${http}`, ...args], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    return { code, output: out + err };
  }

  test("another N, or a single nsqd's data, is refused with a clear message", async () => {
    const dir = tempDataDir();
    cleanups.push(() => removeDir(dir));
    const w = await workers(2, [], dir);
    expect(existsSync(join(dir, "worker-0"))).toBe(true);
    expect(existsSync(join(dir, "worker-1"))).toBe(true);
    w.proc.kill("SIGTERM");
    expect(await w.proc.exited).toBe(0);

    const three = await run([`--data-path=${dir}`, "--workers=3"]);
    expect(three.code).toBe(1);
    expect(three.output).toContain("was used with --workers=2");
    const one = await run([`--data-path=${dir}`]);
    expect(one.code).toBe(1);
    expect(one.output).toContain("was used with --workers=2");

    const single = tempDataDir();
    cleanups.push(() => removeDir(single));
    mkdirSync(single, { recursive: true });
    writeFileSync(join(single, "nsqd.dat"), '{"topics":[],"version":"1.3.0"}');
    const refused = await run([`--data-path=${single}`, "--workers=2"]);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain("holds the data of an nsqd started without --workers");
  }, 40_000);
});
