/**
 * nsqadmin as a real process, used the way people use it: Chromium tabs move
 * between its pages and close while their 2-second refreshes are in flight, and
 * hundreds of API requests are reset by their clients before the answer. nsqadmin
 * must stay the same process, answer /ping, log no error that only a safety net
 * caught, and still render every page (issue 19: this used to end the process).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../helpers/browser.ts";
import { startDaemonCluster, type DaemonCluster } from "../helpers/daemons.ts";
import { mulberry32 } from "../helpers/random.ts";
import { CHANNEL, TOPIC, bugLines, seedState } from "../hardening/daemon-fuzz.ts";

let c: DaemonCluster;
let browser: Browser;
let origin: string;

/** Every page of the UI and what shows it has rendered the cluster. */
function pages(): { path: string; rendered: (p: Page) => Promise<unknown> }[] {
  const node = `127.0.0.1:${c.nsqd.httpPort}`;
  return [
    { path: "/", rendered: (p) => p.locator("#topics tr", { hasText: TOPIC }).waitFor() },
    { path: `/topics/${TOPIC}`, rendered: (p) => p.locator("#channels tr", { hasText: CHANNEL }).waitFor() },
    { path: `/topics/${TOPIC}/${CHANNEL}`, rendered: (p) => p.locator("#channel-nodes tbody tr").first().waitFor() },
    { path: "/nodes", rendered: (p) => p.locator("#nodes tbody tr", { hasText: String(c.nsqd.httpPort) }).waitFor() },
    { path: `/nodes/${node}`, rendered: (p) => p.locator("#node-topics tr", { hasText: TOPIC }).waitFor() },
    { path: "/counter", rendered: (p) => p.locator("#counter-total").waitFor() },
    { path: "/lookup", rendered: (p) => p.locator("#create").waitFor() },
  ];
}

beforeAll(async () => {
  c = await startDaemonCluster();
  origin = `http://127.0.0.1:${c.admin.httpPort}`;
  await seedState(c);
  await fetch(`http://127.0.0.1:${c.nsqd.httpPort}/mpub?topic=${TOPIC}`, { method: "POST", body: "a\nb\nc" });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await c?.stop();
});

async function adminAlive(pid: number): Promise<void> {
  if (!c.admin.alive()) throw new Error(`nsqadmin exited with ${c.admin.proc.exitCode}:\n${c.admin.logTail()}`);
  expect(c.admin.proc.pid).toBe(pid);
  expect(await (await fetch(`${origin}/ping`)).text()).toBe("OK");
  expect(bugLines(c.admin)).toEqual([]);
}

test("tabs that leave pages and close mid-refresh do not end nsqadmin", async () => {
  const pid = c.admin.pid;
  const all = pages();
  const random = mulberry32(Number(process.env.BUNSQ_FUZZ_SEED ?? Date.now() % 1_000_000));
  const pick = () => all[Math.floor(random() * all.length)]!;
  // four tabs at a time, each visiting pages and going away at moments that catch requests in flight
  const tab = async () => {
    for (let i = 0; i < 6; i++) {
      const page = await browser.newPage();
      await page.goto(`${origin}${pick().path}`, { waitUntil: "commit" }).catch(() => {});
      // right away (the first API calls are in flight), or around the 2-second refresh
      const wait = random() < 0.5 ? random() * 50 : 1950 + random() * 150;
      await Bun.sleep(wait);
      if (random() < 0.5) {
        await page.goto(`${origin}${pick().path}`, { waitUntil: "commit" }).catch(() => {});
        await Bun.sleep(random() * 30);
      }
      await page.close();
    }
  };
  await Promise.all([tab(), tab(), tab(), tab()]);
  await adminAlive(pid);
}, 60_000);

test("API requests reset before their answer do not end nsqadmin", async () => {
  const pid = c.admin.pid;
  const random = mulberry32(7);
  const paths = ["/api/topics", `/api/topics/${TOPIC}`, `/api/topics/${TOPIC}/${CHANNEL}`, "/api/nodes", "/api/counter",
    `/api/nodes/127.0.0.1:${c.nsqd.httpPort}`, "/api/topics?inactive=true", "/", "/static/app.js"];
  let reset = 0;
  const client = async () => {
    for (let i = 0; i < 75; i++) {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port: c.admin.httpPort, socket: { data() {} } });
      socket.write(`GET ${paths[i % paths.length]} HTTP/1.1\r\nHost: nsqadmin\r\n\r\n`);
      await Bun.sleep(random() * 4);
      socket.terminate();
      reset++;
    }
  };
  await Promise.all([client(), client(), client(), client()]);
  expect(reset).toBe(300);
  await adminAlive(pid);
}, 60_000);

test("every page still renders afterwards", async () => {
  for (const { path, rendered } of pages()) {
    const page = await browser.newPage();
    page.setDefaultTimeout(5000);
    await page.goto(`${origin}${path}`);
    await rendered(page);
    expect(await page.locator(".alert").count()).toBe(0);
    await page.close();
  }
  await adminAlive(c.admin.pid);
}, 60_000);
