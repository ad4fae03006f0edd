import { startNsqd, type RunningNsqd } from "../../src/cli/nsqd.ts";
import { Logger } from "../../src/core/logger.ts";
import { parseNsqdOptions } from "../../src/core/options.ts";

/** Log lines of in-process servers; printed only when BUNSQ_TEST_LOG is set. */
const quiet = new Logger({
  level: process.env.BUNSQ_TEST_LOG ? "debug" : "fatal",
  prefix: "[nsqd] ",
});

/** An nsqd in this process on a free loopback port. */
export function startTestNsqd(overrides: Record<string, unknown> = {}): RunningNsqd {
  const options = parseNsqdOptions({ tcpAddress: "127.0.0.1:0", httpAddress: "127.0.0.1:0", ...overrides });
  return startNsqd(options, quiet);
}

/** Polls until check() is truthy. */
export async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}
