/**
 * A full disk (a 1 MiB tmpfs as the data path): publishers get E_PUB_FAILED / HTTP
 * 500 and /ping reports NOK, nothing acknowledged is lost, and once consumers free
 * space by reading, publishing works again and /ping is OK.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { startTestNsqd } from "../helpers/nsqd.ts";
import { RawClient } from "../helpers/raw-client.ts";

const isRoot = process.getuid?.() === 0;
let mountPoint = "";
let server: NsqdDaemon | null = null;
const clients: RawClient[] = [];

beforeAll(() => {
  if (!isRoot) return;
  mountPoint = mkdtempSync(join(tmpdir(), "bunsq-fulldisk-"));
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint]);
  if (r.exitCode !== 0) throw new Error(`cannot mount a tmpfs: ${r.stderr.toString()}`);
});

afterAll(() => {
  for (const c of clients) c.close();
  server?.stop();
  if (mountPoint !== "") {
    Bun.spawnSync(["umount", "-l", mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  }
});

async function connect(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

test.skipIf(!isRoot)("a full disk refuses publishes cleanly and recovers when space returns", async () => {
  server = startTestNsqd({ dataPath: mountPoint, memQueueSize: 0, maxBytesPerFile: 64 * 1024 });
  const s = server;
  const body = "x".repeat(1000);
  const acked = new Set<string>();
  let refusal = "";
  let p = await connect(s.tcpPort);
  for (let i = 0; refusal === "" && i < 5000; i++) {
    p.pub("full", `${i}:${body}`);
    const f = await p.frame();
    if (f.type === 0) acked.add(String(i));
    else refusal = f.text;
  }
  expect(refusal).toStartWith("E_PUB_FAILED PUB failed disk write failed");
  expect(acked.size).toBeGreaterThan(100);
  await p.waitClosed();

  const ping = await fetch(`http://127.0.0.1:${s.httpPort}/ping`);
  expect(ping.status).toBe(500);
  expect(((await ping.json()) as { message: string }).message).toStartWith("NOK - ");
  const httpPub = await fetch(`http://127.0.0.1:${s.httpPort}/pub?topic=full`, { method: "POST", body });
  expect(httpPub.status).toBe(500);

  // a consumer reads everything acknowledged; finished segments are deleted, freeing space
  const c = await connect(s.tcpPort);
  await c.subscribe("full", "ch", 200);
  const received = new Set<string>();
  while (received.size < acked.size) {
    const m = await c.message(5000);
    received.add(new TextDecoder().decode(m.body).split(":")[0]);
    c.fin(m.id);
  }
  expect([...acked].every((id) => received.has(id))).toBe(true);

  p = await connect(s.tcpPort);
  await p.publish("full", "after");
  expect(text(await c.message(5000))).toBe("after");
  const pingAgain = await fetch(`http://127.0.0.1:${s.httpPort}/ping`);
  expect(pingAgain.status).toBe(200);
  expect(await pingAgain.text()).toBe("OK");
});

function text(m: { body: Uint8Array }): string {
  return new TextDecoder().decode(m.body);
}
