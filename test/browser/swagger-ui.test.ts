/**
 * The Swagger UI in headless Chromium (Debian's, driven by playwright-core; never
 * a downloaded browser): it renders the API from this nsqd alone, with no request
 * leaving 127.0.0.1, and "Try it out" on POST /pub publishes a real message.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchChromium, loadedUrls } from "../helpers/browser.ts";
import type { Browser } from "playwright-core";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { startTestNsqd } from "../helpers/nsqd.ts";
import { RawClient } from "../helpers/raw-client.ts";


let nsqd: NsqdDaemon;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bunsq-swagger-"));
  nsqd = startTestNsqd();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  nsqd?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test(
  "Swagger UI renders offline and publishes through Try it out",
  async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const origin = `http://127.0.0.1:${nsqd.httpPort}`;
    await page.goto(`${origin}/openapi`);

    const pub = page.locator("#operations-publish-postPub");
    await pub.waitFor({ timeout: 10_000 });
    for (const path of ["/ping", "/stats", "/mpub", "/topic/create", "/channel/delete", "/config/{opt}", "/metrics"]) {
      await expect(page.locator(".opblock-summary-path", { hasText: path }).first().isVisible()).resolves.toBe(true);
    }

    const list = join(dir, "swagger-ui-list.png");
    await page.screenshot({ path: list, fullPage: true });
    expect(statSync(list).size).toBeGreaterThan(10_000);

    const consumer = await RawClient.connect(nsqd.tcpPort);
    try {
      await consumer.subscribe("swagger", "ui", 1);
      await pub.locator(".opblock-summary").click();
      await pub.locator("button.try-out__btn").click();
      await pub.locator('tr[data-param-name="topic"] input').fill("swagger");
      await pub.locator("textarea.body-param__text").fill("hello from the browser");
      await pub.locator("button.execute").click();
      await pub.locator(".live-responses-table .response-col_status", { hasText: "200" }).waitFor({ timeout: 10_000 });
      const message = await consumer.message();
      expect(new TextDecoder().decode(message.body)).toBe("hello from the browser");
    } finally {
      consumer.close();
    }

    const published = join(dir, "swagger-ui-published.png");
    await page.screenshot({ path: published });
    expect(statSync(published).size).toBeGreaterThan(10_000);
    // BUNSQ_KEEP_SCREENSHOTS=<dir> keeps copies for a human to look at
    const keep = process.env.BUNSQ_KEEP_SCREENSHOTS;
    if (keep) for (const f of [list, published]) await Bun.write(join(keep, f.slice(dir.length + 1)), Bun.file(f));

    const requested = await loadedUrls(page);
    expect(requested.length).toBeGreaterThan(3);
    const elsewhere = requested.filter((u) => !u.startsWith(`${origin}/`));
    expect(elsewhere).toEqual([]);
    await page.close();
  },
  30_000,
);
