/**
 * nsqadmin's charts in headless Chromium (Debian's, driven by playwright-core)
 * against a real cluster with real traffic: a producer publishing in waves to
 * two nsqds (small memory queues, so some spills to disk) and a consumer on one
 * that finishes most messages, requeues some and lets some time out. The nsqds
 * sample every 500 ms instead of 10 s. Each chart is drawn on the topic, channel
 * and node pages, hovering shows the values under the cursor, and a Go nsqd
 * (no history) gets a clear note instead of charts. Screenshots are kept in the
 * test's temp dir (BUNSQ_KEEP_SCREENSHOTS=<dir> copies them).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Server } from "bun";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium, loadedUrls } from "../helpers/browser.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { publish, startCluster, startGoNsqd, type TestCluster } from "./cluster.ts";

const INTERVAL_MS = 500;
let c: TestCluster;
let browser: Browser;
let dir: string;
let consumer: RawClient;
let goNsqd: Server<undefined>;
let consuming: Promise<void>;
let stopped = false;

/** Finishes most messages, requeues every 5th and leaves every 7th to time out. */
async function consume(client: RawClient): Promise<void> {
  let n = 0;
  while (!stopped && !client.closed) {
    let message;
    try {
      message = await client.message(200);
    } catch {
      continue; // nothing within 200 ms, or an error frame for a message that had timed out
    }
    n++;
    if (n % 7 === 0) continue;
    if (n % 5 === 0) client.req(message.id, 0);
    else client.fin(message.id);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bunsq-nsqadmin-charts-"));
  c = await startCluster({ memQueueSize: 40 });
  for (const n of c.nsqds) {
    n.nsqd.history.start(INTERVAL_MS);
    await fetch(`http://127.0.0.1:${n.httpPort}/topic/create?topic=clicks`, { method: "POST" });
    await fetch(`http://127.0.0.1:${n.httpPort}/channel/create?topic=clicks&channel=web`, { method: "POST" });
  }
  consumer = await RawClient.connect(c.nsqds[1]!.tcpPort);
  consumer.identify({ user_agent: "charts-test/1.0", msg_timeout: 1000 });
  await consumer.response();
  await consumer.subscribe("clicks", "web", 8);
  consuming = consume(consumer);
  // waves of 2-14 messages every 150 ms for about 6 s, to each nsqd
  for (let i = 0; i < 40; i++) {
    const count = 8 + Math.round(6 * Math.sin(i / 4));
    await publish(c.nsqds[0]!, "clicks", count);
    await publish(c.nsqds[1]!, "clicks", count);
    await Bun.sleep(150);
  }
  goNsqd = startGoNsqd("clicks", "web", 7);
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  stopped = true;
  await consuming;
  await browser?.close();
  consumer?.close();
  c?.stop();
  void goNsqd?.stop(true);
  if (dir !== undefined && !process.env.BUNSQ_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
});

async function shot(page: Page, name: string, selector?: string): Promise<void> {
  const file = join(dir, `${name}.png`);
  if (selector === undefined) await page.screenshot({ path: file, fullPage: true });
  else await page.locator(selector).screenshot({ path: file });
  expect(statSync(file).size).toBeGreaterThan(5_000);
  const keep = process.env.BUNSQ_KEEP_SCREENSHOTS;
  if (keep) await Bun.write(join(keep, `${name}.png`), Bun.file(file));
}

async function open(origin: string, path: string, width = 1280): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  page.setDefaultTimeout(8000);
  await page.goto(`${origin}${path}`);
  return page;
}

/** Waits until the charts hold at least `points` samples and all three are drawn. */
async function chartsDrawn(page: Page, points: number): Promise<void> {
  await page.waitForFunction(
    (n) => Number((globalThis as any).document.getElementById("charts")?.dataset.points ?? 0) >= n,
    points,
  );
  for (const id of ["rates", "depth", "retries"]) {
    await page.locator(`#chart-${id} canvas`).waitFor();
    expect(await page.locator(`#chart-${id}`).isVisible()).toBe(true);
  }
}

/** The legend's label: value pairs of one chart. */
async function legend(page: Page, id: string): Promise<Record<string, string>> {
  const rows = page.locator(`#chart-${id} .u-legend .u-series`);
  const out: Record<string, string> = {};
  for (let i = 0; i < (await rows.count()); i++) {
    const label = (await rows.nth(i).locator(".u-label").textContent())!.trim();
    out[label] = (await rows.nth(i).locator(".u-value").textContent())!.trim();
  }
  return out;
}

const numeric = (v: string | undefined) => Number((v ?? "").replace(/,/g, "").replace(/k$/, "e3").replace(/M$/, "e6"));

test("topic, channel and node pages draw every chart from the nsqds' history", async () => {
  const page = await open(c.origin, "/topics/clicks");
  await chartsDrawn(page, 8);
  // away from the plot the legends show the newest values
  const rates = await legend(page, "rates");
  expect(Object.keys(rates)).toEqual(["time", "in", "out"]);
  expect(rates.time).toBe("now");
  const depth = await legend(page, "depth");
  expect(Object.keys(depth)).toEqual(["time", "memory", "disk", "in flight"]);
  // nsqd 0 has no consumer: its channel keeps 40 in memory and the rest on disk
  expect(numeric(depth.memory)).toBeGreaterThanOrEqual(40);
  expect(numeric(depth.disk)).toBeGreaterThan(0);
  expect(Object.keys(await legend(page, "retries"))).toEqual(["time", "requeued", "timed out"]);
  expect(await page.locator("#charts-note").textContent()).toContain("from 2 nodes");
  await shot(page, "charts-topic");
  await shot(page, "charts-topic-section", "#charts");

  // hovering shows the values under the cursor, on all three charts at once (synced cursors)
  const over = page.locator("#chart-rates .u-over");
  const box = (await over.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await page.waitForFunction(() => {
    const v = (globalThis as any).document.querySelector("#chart-rates .u-legend .u-series .u-value");
    return v && v.textContent !== "now";
  });
  const hovered = await legend(page, "rates");
  expect(hovered.time).toMatch(/\d{1,2}:\d{2}:\d{2}/);
  expect(numeric(hovered.in)).toBeGreaterThan(0);
  expect((await legend(page, "depth")).time).toBe(hovered.time);
  await shot(page, "charts-hover", "#charts");

  // the charts survive the page's own 2 s redraws: the same canvases stay
  const canvas = await page.locator("#chart-rates canvas").elementHandle();
  await page.waitForFunction((t) => Number((globalThis as any).document.getElementById("page").dataset.loaded) > t, Date.now() + 100);
  expect(await canvas!.evaluate((el: any) => el.isConnected)).toBe(true);

  await page.click("#channels >> text=web");
  await page.waitForURL(`${c.origin}/topics/clicks/web`);
  await chartsDrawn(page, 8);
  const retries = await legend(page, "retries");
  expect(Object.keys(retries)).toEqual(["time", "requeued", "timed out"]);
  // requeues and timeouts happened: some sample shows them
  const channelHistory = await page.evaluate(async () => {
    const res = await fetch("/api/history/topics/clicks/web");
    return (await res.json()) as { requeue_rate: number[]; timeout_rate: number[] };
  });
  expect(Math.max(...channelHistory.requeue_rate)).toBeGreaterThan(0);
  expect(Math.max(...channelHistory.timeout_rate)).toBeGreaterThan(0);
  await shot(page, "charts-channel");

  await page.goto(`${c.origin}/nodes/127.0.0.1:${c.nsqds[1]!.httpPort}`);
  await chartsDrawn(page, 8);
  expect(await page.locator("#charts-note").textContent()).toContain("from 1 node");
  await shot(page, "charts-node");

  // uPlot and everything else came from nsqadmin itself
  expect((await loadedUrls(page)).filter((u) => !u.startsWith(`${c.origin}/`))).toEqual([]);
  await page.close();
}, 40_000);

test("charts fit a phone-width screen", async () => {
  const page = await open(c.origin, "/topics/clicks", 390);
  await chartsDrawn(page, 8);
  const width = (await page.evaluate("document.documentElement.scrollWidth")) as number;
  expect(width).toBeLessThanOrEqual(390);
  await shot(page, "charts-phone");
  await page.close();
}, 20_000);

test("against Go's nsqd the page says there are no charts, and still shows the topic", async () => {
  const goNode = `127.0.0.1:${goNsqd.port}`;
  const admin = c.startAdmin({ nsqdHttpAddresses: [goNode] });
  const page = await open(`http://127.0.0.1:${admin.httpPort}`, "/topics/clicks");
  const status = page.locator("#charts-status.note");
  await status.waitFor();
  expect(await status.textContent()).toContain(`No charts: ${goNode} keeps no history (Go's nsqd has no /stats/history`);
  expect(await page.locator("#charts figure:visible").count()).toBe(0);
  expect(await page.locator("#topic-messages").textContent()).toBe("7");
  await shot(page, "charts-go-nsqd");
  await page.close();
}, 20_000);
