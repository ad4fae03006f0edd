import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "bun:test";
import { startNsqd, type RunningNsqd } from "../../src/cli/nsqd.ts";
import { Logger } from "../../src/common/logger.ts";
import { parseNsqdOptions } from "../../src/core/options.ts";
import { RawClient } from "./raw-client.ts";

/** Log lines of in-process servers; printed only when BUNSQ_TEST_LOG is set. */
const quiet = new Logger({
  level: process.env.BUNSQ_TEST_LOG ? "debug" : "fatal",
  prefix: "[nsqd] ",
});

/**
 * An nsqd in this process on a free loopback port, with its data in a fresh temp
 * dir (removed by stop() unless the test passed its own dataPath).
 */
export function startTestNsqd(overrides: Record<string, unknown> = {}): RunningNsqd {
  const ownDir = overrides.dataPath === undefined ? mkdtempSync(join(tmpdir(), "bunsq-test-")) : null;
  const options = parseNsqdOptions({
    tcpAddress: "127.0.0.1:0",
    httpAddress: "127.0.0.1:0",
    ...(ownDir !== null ? { dataPath: ownDir } : {}),
    ...overrides,
  });
  const running = startNsqd(options, quiet);
  if (ownDir === null) return running;
  const stop = running.stop.bind(running);
  running.stop = () => {
    stop();
    rmSync(ownDir, { recursive: true, force: true });
  };
  return running;
}

/** Polls until check() is truthy. */
export async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/**
 * For a test file: start() and connect() register what they create, and every
 * server and client is stopped after each test.
 */
/**
 * Cleanups that run after each test, the last registered first (`defer`), and
 * an nsqd that one of them stops.
 */
export function perTestCleanups(): {
  defer(cleanup: () => unknown): void;
  nsqd(overrides?: Record<string, unknown>): RunningNsqd;
} {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const defer = (cleanup: () => unknown) => void cleanups.push(cleanup);
  return {
    defer,
    nsqd(overrides = {}) {
      const s = startTestNsqd(overrides);
      defer(() => s.stop());
      return s;
    },
  };
}

export function perTestServers(): {
  start(overrides?: Record<string, unknown>): RunningNsqd;
  connect(server: RunningNsqd): Promise<RawClient>;
} {
  const servers: RunningNsqd[] = [];
  const clients: RawClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    for (const s of servers.splice(0)) s.stop();
  });
  return {
    start(overrides = {}) {
      const s = startTestNsqd(overrides);
      servers.push(s);
      return s;
    },
    async connect(server) {
      const c = await RawClient.connect(server.tcpPort);
      clients.push(c);
      return c;
    },
  };
}
