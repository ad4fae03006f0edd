/** nsqd registering with nsqlookupd: both in this process, real sockets on loopback. */
import { afterEach, describe, expect, test } from "bun:test";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { LookupPeers } from "../../src/nsqd/lookup-peers.ts";
import type { NSQLookupd } from "../../src/lookupd/nsqlookupd.ts";
import { eventually, http, lookupProducers, startTestLookupd } from "../helpers/lookupd.ts";
import { startTestNsqd } from "../helpers/nsqd.ts";
import { freePort } from "../helpers/process.ts";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

function lookupd(overrides: Record<string, unknown> = {}): NSQLookupd {
  const l = startTestLookupd(overrides);
  cleanups.push(() => l.stop());
  return l;
}

function nsqd(lookupds: NSQLookupd[] = [], overrides: Record<string, unknown> = {}): NsqdDaemon {
  const n = startTestNsqd({
    broadcastAddress: "127.0.0.1",
    lookupdTcpAddresses: lookupds.map((l) => `127.0.0.1:${l.tcpPort}`),
    ...overrides,
  });
  cleanups.push(() => n.stop());
  return n;
}

const channelsOf = async (l: NSQLookupd, topic: string): Promise<string[]> =>
  (await http(l.httpPort, `/channels?topic=${encodeURIComponent(topic)}`)).json.channels;

describe("nsqd's lookupd peers", () => {
  test("on connect nsqd identifies and registers every topic and channel it has", async () => {
    const l = lookupd();
    const n = nsqd();
    n.nsqd.getTopic("lonely");
    n.nsqd.getChannel("orders", "archive");
    n.nsqd.getChannel("orders", "tail#ephemeral");
    n.lookupPeers.setAddresses([`127.0.0.1:${l.tcpPort}`]);
    const me = `127.0.0.1:${n.tcpPort}`;
    await eventually(async () => (await lookupProducers(l.httpPort, "orders")).length === 1, "orders registered");
    expect(await lookupProducers(l.httpPort, "lonely")).toEqual([me]);
    expect((await channelsOf(l, "orders")).sort()).toEqual(["archive", "tail#ephemeral"]);
    const node = (await http(l.httpPort, "/nodes")).json.producers[0];
    expect(node).toMatchObject({
      broadcast_address: "127.0.0.1",
      hostname: n.nsqd.hostname,
      tcp_port: n.tcpPort,
      http_port: n.httpPort,
      version: expect.stringMatching(/^1\.3\.0/),
    });
    expect(n.lookupPeers.addresses).toEqual([`127.0.0.1:${l.tcpPort}`]);
  });

  test("creations and deletions propagate to every lookupd, ephemeral ones included", async () => {
    const [a, b] = [lookupd(), lookupd()];
    const n = nsqd([a, b]);
    const me = `127.0.0.1:${n.tcpPort}`;
    n.nsqd.getChannel("events", "audit");
    n.nsqd.getChannel("events", "live#ephemeral");
    for (const l of [a, b]) {
      await eventually(async () => (await channelsOf(l, "events")).length === 2, "channels on every lookupd");
      expect(await lookupProducers(l.httpPort, "events")).toEqual([me]);
    }
    // through nsqd's own HTTP API, as nsqadmin would
    expect((await http(n.httpPort, "/channel/delete?topic=events&channel=live%23ephemeral", "POST")).status).toBe(200);
    for (const l of [a, b]) {
      await eventually(async () => (await channelsOf(l, "events")).length === 1, "the ephemeral channel to go");
    }
    expect((await http(n.httpPort, "/topic/delete?topic=events", "POST")).status).toBe(200);
    for (const l of [a, b]) {
      await eventually(async () => (await lookupProducers(l.httpPort, "events")).length === 0, "the producer to go");
    }
  });

  test("a restarted lookupd gets every registration back", async () => {
    const first = lookupd();
    const port = first.tcpPort;
    const n = nsqd([first]);
    n.nsqd.getChannel("kept", "c1");
    await eventually(async () => (await lookupProducers(first.httpPort, "kept")).length === 1, "registration");
    first.stop();
    n.nsqd.getTopic("made-while-down");
    const second = lookupd({ tcpAddress: `127.0.0.1:${port}` });
    await eventually(async () => (await lookupProducers(second.httpPort, "kept")).length === 1, "re-registration", 8000);
    await eventually(async () => (await lookupProducers(second.httpPort, "made-while-down")).length === 1, "new topic");
    expect(await channelsOf(second, "kept")).toEqual(["c1"]);
  });

  test("a lookupd that is not up yet is retried until it is", async () => {
    const port = freePort();
    const n = nsqd([], { lookupdTcpAddresses: [`127.0.0.1:${port}`] });
    n.nsqd.getTopic("early");
    await Bun.sleep(300); // a few failed attempts
    const l = lookupd({ tcpAddress: `127.0.0.1:${port}` });
    await eventually(async () => (await lookupProducers(l.httpPort, "early")).length === 1, "registration", 8000);
  });

  test("PUT /config/nsqlookupd_tcp_addresses moves nsqd to other lookupds", async () => {
    const [a, b] = [lookupd(), lookupd()];
    const n = nsqd([a]);
    n.nsqd.getTopic("moving");
    await eventually(async () => (await lookupProducers(a.httpPort, "moving")).length === 1, "on a");
    const res = await fetch(`http://127.0.0.1:${n.httpPort}/config/nsqlookupd_tcp_addresses`, {
      method: "PUT",
      body: JSON.stringify([`127.0.0.1:${b.tcpPort}`]),
    });
    expect(res.status).toBe(200);
    await eventually(async () => (await lookupProducers(b.httpPort, "moving")).length === 1, "on b");
    await eventually(async () => (await lookupProducers(a.httpPort, "moving")).length === 0, "off a");
    expect(n.lookupPeers.addresses).toEqual([`127.0.0.1:${b.tcpPort}`]);
  });

  test("PINGs keep nsqd active past --inactive-producer-timeout", async () => {
    const l = lookupd({ inactiveProducerTimeout: 300 });
    const n = nsqd();
    const peers = new LookupPeers(
      n.nsqd,
      { tcpPort: () => n.tcpPort, httpPort: () => n.httpPort },
      { pingIntervalMs: 50, backoff: { minMs: 50, maxMs: 200 } },
    );
    cleanups.push(() => peers.close());
    n.nsqd.getTopic("alive");
    peers.setAddresses([`127.0.0.1:${l.tcpPort}`]);
    await eventually(async () => (await lookupProducers(l.httpPort, "alive")).length === 1, "registration");
    await Bun.sleep(700);
    expect(await lookupProducers(l.httpPort, "alive")).toHaveLength(1);
    const debug = (await http(l.httpPort, "/debug")).json["client::"][0];
    expect(Date.now() - debug.last_update / 1e6).toBeLessThan(300);
  });
});
