/**
 * nsqadmin's web UI in headless Chromium (Debian's, driven by playwright-core)
 * against a real cluster: every page shows the published counts, actions change
 * the nsqds and notify, a dead node shows as an error, the live tail streams.
 * Screenshots of each page are kept in the test's temp dir (BUNSQ_KEEP_SCREENSHOTS=<dir> copies them).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchChromium, loadedUrls } from "../helpers/browser.ts";
import type { Browser, Page } from "playwright-core";
import { eventually } from "../helpers/lookupd.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { nsqdTopic, publish, startCluster, type TestCluster } from "./cluster.ts";

let c: TestCluster;
let browser: Browser;
let dir: string;
let consumer: RawClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bunsq-nsqadmin-ui-"));
  c = await startCluster();
  for (const n of c.nsqds) {
    await fetch(`http://127.0.0.1:${n.httpPort}/topic/create?topic=clicks`, { method: "POST" });
    await fetch(`http://127.0.0.1:${n.httpPort}/channel/create?topic=clicks&channel=web`, { method: "POST" });
  }
  await publish(c.nsqds[0]!, "clicks", 4);
  await publish(c.nsqds[1]!, "clicks", 6);
  consumer = await RawClient.connect(c.nsqds[1]!.tcpPort);
  consumer.identify({ user_agent: "browser-test/2.0" });
  await consumer.response();
  await consumer.subscribe("clicks", "web", 2);
  await consumer.message();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  consumer?.close();
  c?.stop();
  if (dir !== undefined && !process.env.BUNSQ_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
});

async function shot(page: Page, name: string): Promise<void> {
  const file = join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  expect(statSync(file).size).toBeGreaterThan(5_000);
  const keep = process.env.BUNSQ_KEEP_SCREENSHOTS;
  if (keep) await Bun.write(join(keep, `${name}.png`), Bun.file(file));
}

async function open(path: string, width = 1280): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  page.setDefaultTimeout(5000);
  await page.goto(`${c.origin}${path}`);
  return page;
}


const cell = (page: Page, table: string, row: string, label: string) =>
  page.locator(`${table} tr`, { hasText: row }).first().locator(`td[data-label="${label}"]`);

test("pages render the cluster's numbers, offline", async () => {
  const page = await open("/");
  await expect(cell(page, "#topics", "clicks", "Messages").textContent()).resolves.toBeDefined();
  await page.locator("#topics td[data-label=Messages]", { hasText: "10" }).waitFor();
  await shot(page, "topics");

  await page.click("text=clicks");
  await page.locator("#channels tr", { hasText: "web" }).waitFor();
  expect(await page.locator("#topic-messages").textContent()).toBe("10");
  expect(await cell(page, "#channels", "web", "Depth").textContent()).toBe("8");
  expect(await cell(page, "#channels", "web", "In-Flight").textContent()).toBe("2");
  expect(await page.locator("#topic-nodes tbody tr").count()).toBe(2);
  // sparklines fill in as the page refreshes itself
  await page.locator('#channels svg.spark[data-points="2"]').waitFor({ timeout: 6000 });
  await shot(page, "topic");

  await page.click("#channels >> text=web");
  await page.locator("#clients tr", { hasText: "browser-test/2.0" }).waitFor();
  expect(await cell(page, "#clients", "browser-test/2.0", "In-Flight").textContent()).toBe("2");
  expect(await cell(page, "#clients", "browser-test/2.0", "Version").textContent()).toBe("V2");
  await shot(page, "channel");

  await page.click("nav >> text=Nodes");
  await page.locator("#nodes tbody tr").nth(1).waitFor();
  await shot(page, "nodes");
  await page.locator("#nodes tbody tr a").first().click();
  await page.locator("#node-topics tr", { hasText: "clicks" }).waitFor();
  await shot(page, "node");

  await page.click("nav >> text=Counter");
  await page.locator("#counter-total", { hasText: "10" }).waitFor();
  await shot(page, "counter");

  await page.click("nav >> text=Lookup");
  await page.locator("#create").waitFor();
  await page.fill('#create input[name="topic"]', "signups");
  await page.fill('#create input[name="channel"]', "mailer");
  await page.click('#create button[type="submit"]');
  await page.click('[data-answer="yes"]');
  await page.locator("#inactive li", { hasText: "signups" }).waitFor();
  await shot(page, "lookup");
  const channels = await fetch(`http://127.0.0.1:${c.lookupd.httpPort}/channels?topic=signups`);
  expect(await channels.json()).toEqual({ channels: ["mailer"] });
  await eventually(() => c.notifications.some((n) => n.action === "create_channel"), "create_channel notification");

  expect((await loadedUrls(page)).filter((u) => !u.startsWith(`${c.origin}/`))).toEqual([]);
  await page.close();
}, 30_000);

test("pause, empty and delete from the UI change the nsqds and notify", async () => {
  const page = await open("/topics/clicks/web");
  const act = async (label: string, action: string) => {
    await page.click(`button:has-text("${label}")`);
    await page.click('[data-answer="yes"]');
    await eventually(() => c.notifications.some((n) => n.action === action), `${action} notification`);
  };
  await act("Pause Channel", "pause_channel");
  for (const n of c.nsqds) expect((await nsqdTopic(n, "clicks")).channels[0].paused).toBe(true);
  await page.locator("h1 .tag", { hasText: "paused" }).waitFor();
  await shot(page, "channel-paused");
  await act("Unpause Channel", "unpause_channel");
  for (const n of c.nsqds) expect((await nsqdTopic(n, "clicks")).channels[0].paused).toBe(false);
  await act("Empty Queue", "empty_channel");
  await eventually(async () => (await nsqdTopic(c.nsqds[0]!, "clicks")).channels[0].depth === 0, "channel emptied");
  await act("Delete Channel", "delete_channel");
  for (const n of c.nsqds) expect((await nsqdTopic(n, "clicks")).channels).toEqual([]);
  await page.waitForURL(`${c.origin}/topics/clicks`);

  await act("Pause Topic", "pause_topic");
  for (const n of c.nsqds) expect((await nsqdTopic(n, "clicks")).paused).toBe(true);
  await act("Delete Topic", "delete_topic");
  for (const n of c.nsqds) expect(await nsqdTopic(n, "clicks")).toBeUndefined();
  await page.waitForURL(`${c.origin}/`);
  await page.close();
}, 30_000);

test("live tail shows messages as they are published, on a phone-width screen", async () => {
  await publish(c.nsqds[0]!, "feed", 1);
  const page = await open("/topics/feed", 390);
  await page.click("text=Live tail");
  await page.locator('#tail[data-state="live"]').waitFor();
  await eventually(async () => (await nsqdTopic(c.nsqds[0]!, "feed")).channels.some((ch: any) => ch.client_count === 1), "tail subscribed");
  await publish(c.nsqds[0]!, "feed", 2);
  await page.locator("#tail-messages li", { hasText: "message 1" }).waitFor();
  const width = (await page.evaluate("document.documentElement.scrollWidth")) as number;
  expect(width).toBeLessThanOrEqual(390);
  await shot(page, "tail-phone");
  await page.close();
}, 20_000);

test("a node that is down shows as an error", async () => {
  const admin = c.startAdmin({ nsqdHttpAddresses: [`127.0.0.1:${c.nsqds[0]!.httpPort}`, "127.0.0.1:1"] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`http://127.0.0.1:${admin.httpPort}/nodes`);
  await page.locator(".alert", { hasText: "127.0.0.1:1" }).waitFor();
  expect(await page.locator("#nodes tbody tr").count()).toBe(1);
  await shot(page, "node-down");
  await page.close();
}, 20_000);
