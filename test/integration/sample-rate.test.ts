/**
 * IDENTIFY's sample_rate: a consumer that asks for 1-99 receives about that share
 * of its channel's messages (nsqjs's sampleRate option, a client we did not write).
 */
import { afterEach, expect, test } from "bun:test";
import { Reader, type ConnectionOptions, type Message } from "nsqjs";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { serverClient } from "../helpers/features.ts";
import { startTestNsqd, until } from "../helpers/nsqd.ts";
import { RawClient } from "../helpers/raw-client.ts";

let server: NsqdDaemon | null = null;
let reader: Reader | null = null;
afterEach(() => {
  reader?.close();
  reader = null;
  server?.stop();
  server = null;
});

test("sample_rate 25 delivers about a quarter of the channel's messages", async () => {
  const s = (server = startTestNsqd());
  const total = 4000;
  const pub = await RawClient.connect(s.tcpPort);
  const batch = Array.from({ length: 200 }, (_, i) => `m${i}`);
  for (let i = 0; i < total / batch.length; i++) {
    pub.mpub("sampled", batch);
    expect(await pub.response()).toBe("OK");
  }
  pub.close();
  let received = 0;
  reader = new Reader("sampled", "ch", {
    nsqdTCPAddresses: [`127.0.0.1:${s.tcpPort}`],
    clientId: "sampler",
    sampleRate: 25,
    maxInFlight: 500,
  } as ConnectionOptions & { nsqdTCPAddresses: string[]; sampleRate: number });
  reader.on("message", (m: Message) => {
    received++;
    m.finish();
  });
  reader.connect();
  const channel = () => s.nsqd.getExistingTopic("sampled")!.getExistingChannel("ch");
  // the channel is drained when every message was either delivered or skipped by the sampler
  // (the client identifies before its SUB creates the channel: wait for both)
  const drained = () => {
    const c = channel();
    return serverClient(s, "sampler") !== undefined && c !== undefined && c.depth === 0 && c.inFlightCount === 0;
  };
  await until(drained, "the channel to drain", 5000);
  expect(serverClient(s, "sampler")!.sampleRate).toBe(25);
  // binomial(4000, 0.25): mean 1000, standard deviation about 27
  expect(received).toBeGreaterThan(850);
  expect(received).toBeLessThan(1150);
});
