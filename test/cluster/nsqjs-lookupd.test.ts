/** Interop: nsqjs discovers bunsq's nsqds through bunsq's nsqlookupd (lookupdHTTPAddresses). */
import { afterEach, expect, test } from "bun:test";
import nsq from "nsqjs";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import type { NSQLookupd } from "../../src/lookupd/nsqlookupd.ts";
import { eventually, lookupProducers, startTestLookupd } from "../helpers/lookupd.ts";
import { startTestNsqd } from "../helpers/nsqd.ts";
import { RawClient } from "../helpers/raw-client.ts";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

test("an nsqjs Reader with lookupdHTTPAddresses consumes from every nsqd the lookupds know", async () => {
  const lookupds: NSQLookupd[] = [startTestLookupd(), startTestLookupd()];
  cleanups.push(() => lookupds.forEach((l) => l.stop()));
  const nsqds: NsqdDaemon[] = [0, 1].map(() =>
    startTestNsqd({ broadcastAddress: "127.0.0.1", lookupdTcpAddresses: lookupds.map((l) => `127.0.0.1:${l.tcpPort}`) }),
  );
  cleanups.push(() => nsqds.forEach((n) => n.stop()));

  for (const [i, n] of nsqds.entries()) {
    const c = await RawClient.connect(n.tcpPort);
    for (let j = 0; j < 5; j++) await c.publish("interop", `n${i}-${j}`);
    c.close();
  }
  for (const l of lookupds) {
    await eventually(async () => (await lookupProducers(l.httpPort, "interop")).length === 2, "both nsqds registered");
  }

  const received: string[] = [];
  const reader = new nsq.Reader("interop", "js", {
    nsqdTCPAddresses: [],
    lookupdHTTPAddresses: lookupds.map((l) => `127.0.0.1:${l.httpPort}`),
    lookupdPollInterval: 1,
    maxInFlight: 10,
  });
  reader.on("message", (m) => {
    received.push(m.body.toString());
    m.finish();
  });
  reader.connect();
  cleanups.push(() => reader.close());
  await eventually(() => received.length >= 10, "all ten messages through nsqjs");
  expect(received.sort()).toEqual([0, 1].flatMap((i) => [0, 1, 2, 3, 4].map((j) => `n${i}-${j}`)).sort());
});
