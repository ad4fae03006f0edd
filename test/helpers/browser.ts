import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";

/** Debian's Chromium: `bun run test` installs it first (scripts/ensure-chromium.sh); never a browser download. */
const CHROMIUM = "/usr/bin/chromium";

/** Headless Chromium for a browser test; a missing browser is a failure, not a skip. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run scripts/ensure-chromium.sh`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

interface PageGlobals {
  location: { href: string };
  performance: { getEntriesByType(type: string): { name: string }[] };
}

/**
 * Every URL a page loaded, as the page itself records it (Resource Timing). Read
 * from the page rather than from Playwright's request events, whose bookkeeping
 * races under Bun when a page polls.
 */
export function loadedUrls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals;
    return [g.location.href, ...g.performance.getEntriesByType("resource").map((e) => e.name)];
  });
}
