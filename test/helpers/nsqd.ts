import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "bun:test";
import { Logger } from "../../src/common/logger.ts";
import { parseNsqdOptions, type NsqdOptions } from "../../src/core/options.ts";
import { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { RawClient } from "./raw-client.ts";

/** Log lines of in-process servers; printed only when BUNSQ_TEST_LOG is set. */
const quiet = new Logger({
  level: process.env.BUNSQ_TEST_LOG ? "debug" : "fatal",
  prefix: "[nsqd] ",
});

/** An nsqd daemon that removes its temp data dir, if it made one, when stopped. */
class TestNsqd extends NsqdDaemon {
  constructor(
    options: NsqdOptions,
    private readonly ownDir: string | null,
  ) {
    super(options, quiet);
  }

  override stop(): void {
    super.stop();
    if (this.ownDir !== null) rmSync(this.ownDir, { recursive: true, force: true });
  }
}

/**
 * An nsqd in this process on a free loopback port, with its data in a fresh temp
 * dir (removed by stop() unless the test passed its own dataPath).
 */
export function startTestNsqd(overrides: Record<string, unknown> = {}): NsqdDaemon {
  const ownDir = overrides.dataPath === undefined ? mkdtempSync(join(tmpdir(), "bunsq-test-")) : null;
  const options = parseNsqdOptions({
    tcpAddress: "127.0.0.1:0",
    httpAddress: "127.0.0.1:0",
    ...(ownDir !== null ? { dataPath: ownDir } : {}),
    ...overrides,
  });
  const daemon = new TestNsqd(options, ownDir);
  try {
    daemon.start();
  } catch (err) {
    if (ownDir !== null) rmSync(ownDir, { recursive: true, force: true });
    throw err;
  }
  return daemon;
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
  nsqd(overrides?: Record<string, unknown>): NsqdDaemon;
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
  start(overrides?: Record<string, unknown>): NsqdDaemon;
  connect(server: NsqdDaemon): Promise<RawClient>;
} {
  const servers: NsqdDaemon[] = [];
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
