/**
 * NSQ flags of the relaying tools: nsq_to_http's --header, and nsq_to_nsq's
 * --require-json-field, --require-json-value and --whitelist-json-field, run as
 * processes against real nsqds.
 */
import { expect, test } from "bun:test";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { Consumer, Producer } from "../../src/client/index.ts";
import { channelStats, uniqueTopic } from "../client/helpers.ts";
import { eventually } from "../helpers/lookupd.ts";
import { perTestCleanups } from "../helpers/nsqd.ts";
import { runTool, startTool } from "./helpers.ts";

const { defer, nsqd } = perTestCleanups();

async function publish(s: NsqdDaemon, topic: string, bodies: string[]): Promise<void> {
  const p = new Producer(s.tcpAddress);
  await p.multiPublish(topic, bodies);
  await p.stop();
}

test("nsq_to_http --header: sent with every request, replacing the tool's own; a malformed one stops it", async () => {
  const s = nsqd();
  const topic = uniqueTopic();
  const seen: { method: string; headers: Record<string, string> }[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      seen.push({ method: req.method, headers: Object.fromEntries(req.headers) });
      return new Response("ok");
    },
  });
  defer(() => server.stop(true));
  const common = [`--topic=${topic}`, `--nsqd-tcp-address=${s.tcpAddress}`, "--header=X-Api-Key: s3cret", "--header", "X-Trace:a:b"];

  const post = startTool("nsq_to_http", [...common, `--post=http://127.0.0.1:${server.port}/`, "--header=Content-Type: application/json"]);
  defer(() => post.stop());
  await publish(s, topic, ['{"a":1}']);
  await eventually(() => seen.length === 1, "the POST");
  expect((await post.stop()).code).toBe(0);
  expect(seen[0]!.method).toBe("POST");
  expect(seen[0]!.headers).toMatchObject({
    "x-api-key": "s3cret",
    "x-trace": "a:b",
    "content-type": "application/json",
    "user-agent": expect.stringMatching(/^nsq_to_http v1\.3\.0/),
  });

  const get = startTool("nsq_to_http", [...common, `--get=http://127.0.0.1:${server.port}/?m=%s`]);
  defer(() => get.stop());
  await publish(s, topic, ["second"]);
  await eventually(() => seen.length === 2, "the GET");
  expect(seen[1]!.method).toBe("GET");
  expect(seen[1]!.headers).toMatchObject({ "x-api-key": "s3cret", "x-trace": "a:b" });

  for (const bad of ["no-colon", ": value", "key:", ":"]) {
    const r = await runTool("nsq_to_http", [...common, `--header=${bad}`, `--post=http://127.0.0.1:${server.port}/`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`invalid --header ${JSON.stringify(bad)}: expected key:value`);
  }
});

/** Relays `bodies` from one nsqd to another with `flags`; resolves to what arrived, sorted, and the source channel's stats. */
async function relay(bodies: string[], flags: string[], expected: number) {
  const source = nsqd();
  const dest = nsqd();
  const topic = uniqueTopic();
  await publish(source, topic, bodies);
  const arrived: string[] = [];
  const reader = new Consumer("relayed", "check", { handler: (m) => void arrived.push(m.text()) });
  defer(() => reader.stop());
  await reader.connectToNsqd(dest.tcpAddress);
  const tool = startTool("nsq_to_nsq", [
    `--topic=${topic}`,
    `--nsqd-tcp-address=${source.tcpAddress}`,
    `--destination-nsqd-tcp-address=${dest.tcpAddress}`,
    "--destination-topic=relayed",
    "--consumer-opt=default_requeue_delay,10ms",
    "--consumer-opt=backoff_multiplier,10ms",
    ...flags,
  ]);
  defer(() => tool.stop());
  await eventually(async () => (await channelStats(source, topic, "nsq_to_nsq"))?.message_count === bodies.length, "all taken");
  await eventually(() => arrived.length === expected, `${expected} relayed`);
  return { arrived: arrived.sort(), source: () => channelStats(source, topic, "nsq_to_nsq"), tool };
}

test("nsq_to_nsq --require-json-field/--require-json-value pass matching objects; strings and numbers compare as NSQ does", async () => {
  const { arrived, source, tool } = await relay(
    [
      '{"kind":42,"n":1}',
      '{"kind":"42","n":2}',
      '{"kind":42.0,"n":3}',
      '{"kind":4.2e1,"n":4}',
      '{"kind":43,"n":5}',
      '{"kind":true,"n":6}',
      '{"kind":[42],"n":7}',
      "not json",
    ],
    ["--require-json-field=kind", "--require-json-value=42"],
    4,
  );
  // passing messages are relayed as they were
  expect(arrived).toEqual(['{"kind":"42","n":2}', '{"kind":4.2e1,"n":4}', '{"kind":42,"n":1}', '{"kind":42.0,"n":3}']);
  // the rest are finished without being relayed
  await eventually(async () => {
    const st = (await source())!;
    return st.depth + st.in_flight_count + st.deferred_count === 0;
  }, "the rest finished");
  expect((await source())!.requeue_count).toBe(0);
  const run = await tool.stop();
  expect(run.stderr).toContain("ERROR: Unable to decode json: not json");
});

test("nsq_to_nsq --require-json-field alone passes any value; a required value on a missing field requeues", async () => {
  const anyValue = await relay(['{"kind":"x"}', '{"kind":null}', '{"other":1}'], ["--require-json-field=kind"], 2);
  expect(anyValue.arrived).toEqual(['{"kind":"x"}', '{"kind":null}']);

  const missing = await relay(['{"other":1}', '{"kind":"v"}'], ["--require-json-field=kind", "--require-json-value=v"], 1);
  expect(missing.arrived).toEqual(['{"kind":"v"}']);
  await eventually(async () => (await missing.source())!.requeue_count >= 2, "the message without the field requeued again");
});

test("nsq_to_nsq --whitelist-json-field keeps only those fields, re-encoded as Go does", async () => {
  const { arrived, source } = await relay(
    ['{"z":1,"a":"<b>&","drop":{"x":1},"m":[1,2]}', '{"other":true}', '"a string"'],
    ["--whitelist-json-field=z", "--whitelist-json-field=a", "--whitelist-json-field=m", "--whitelist-json-field=absent"],
    2,
  );
  expect(arrived).toEqual(['{"a":"\\u003cb\\u003e\\u0026","m":[1,2],"z":1}', "{}"]);
  // JSON that is not an object cannot be trimmed: requeued, never relayed
  await eventually(async () => (await source())!.requeue_count >= 1, "the string requeued");
});
