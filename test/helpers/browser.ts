import type { Page } from "playwright-core";

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
