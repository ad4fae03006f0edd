/**
 * The daemons' safety nets: the process-level one (src/cli/uncaught.ts) in a real
 * process, Bun.serve's last-resort error handler on a real server, and the request
 * target that the access log reads without ever throwing.
 */
import { expect, test } from "bun:test";
import { Logger } from "../../src/common/logger.ts";
import { requestTarget } from "../../src/http/access-log.ts";
import { lastResortErrorHandler } from "../../src/http/last-resort.ts";

const script = `
import { logUncaught } from "${import.meta.dir}/../../src/cli/uncaught.ts";
import { Logger } from "${import.meta.dir}/../../src/common/logger.ts";
logUncaught(new Logger({ level: "info", prefix: "[t] " }));
setTimeout(() => { throw new Error("thrown in a timer"); }, 5);
setImmediate(async () => { throw new TypeError("rejected after the answer"); });
setTimeout(() => { console.log("still running"); process.exit(0); }, 100);
`;

test("uncaught exceptions and unhandled rejections are logged, not fatal", async () => {
  const proc = Bun.spawn(["bun", "-e", script], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(code).toBe(0);
  expect(stdout).toBe("still running\n");
  expect(stderr).toMatch(/ERROR: uncaught exception - Error: thrown in a timer/);
  expect(stderr).toMatch(/ERROR: unhandled promise rejection - TypeError: rejected after the answer/);
});

test("an exception that escapes an app is logged and answered 500 INTERNAL_ERROR", async () => {
  const lines: string[] = [];
  const logger = new Logger({ level: "info", prefix: "", write: (l) => lines.push(l) });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => {
      throw new RangeError("escaped the app");
    },
    error: lastResortErrorHandler(logger),
  });
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/x`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: "INTERNAL_ERROR" });
    expect(lines.some((l) => l.includes("HTTP: unhandled error - RangeError: escaped the app"))).toBe(true);
  } finally {
    await server.stop(true);
  }
});

test("requestTarget takes path and query from a URL and never throws", () => {
  expect(requestTarget("http://127.0.0.1:4161/lookup?topic=a")).toBe("/lookup?topic=a");
  expect(requestTarget("http://host")).toBe("");
  expect(requestTarget("")).toBe("");
});
