/** The nsqd program as a user runs it: flags, --config, bad values, signals. */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RawClient } from "../helpers/raw-client.ts";
import {
  freePort,
  removeDir,
  runNsqd,
  spawnNsqd,
  waitListening,
  NSQD_ENTRY,
  type NsqdProcess,
} from "../helpers/process.ts";

let running: NsqdProcess[] = [];
let dirs: string[] = [];
afterEach(async () => {
  for (const r of running) {
    r.proc.kill("SIGKILL");
    await r.proc.exited;
    removeDir(r.dataPath);
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  running = [];
  dirs = [];
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "bunsq-cli-"));
  dirs.push(d);
  return d;
}

describe("nsqd program", () => {
  test("serves clients and exits 0 on SIGTERM", async () => {
    const n = await spawnNsqd(["--log-level=info"]);
    running.push(n);
    const c = await RawClient.connect(n.port);
    await c.publish("prog", "hello");
    const s = await RawClient.connect(n.port);
    await s.subscribe("prog", "ch", 1);
    expect(new TextDecoder().decode((await s.message()).body)).toBe("hello");
    c.close();
    s.close();
    n.proc.kill("SIGTERM");
    expect(await n.proc.exited).toBe(0);
    const log = await new Response(n.proc.stderr).text();
    expect(log).toMatch(/^\[nsqd\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} INFO: TCP: listening on 127\.0\.0\.1:/m);
    expect(log).toContain("INFO: received SIGTERM, exiting");
  });

  test("NSQ's deprecated --verbose and --worker-id still work, with deprecation warnings", async () => {
    const n = await spawnNsqd(["--verbose", "--worker-id=7"]);
    running.push(n);
    const c = await RawClient.connect(n.port);
    await c.publish("old_flags", "hello");
    c.close();
    n.proc.kill("SIGTERM");
    expect(await n.proc.exited).toBe(0);
    const log = await new Response(n.proc.stderr).text();
    expect(log).toContain("WARNING: use of the --verbose command line flag is deprecated (use --log-level=debug)");
    expect(log).toContain("WARNING: use of the --worker-id command line flag is deprecated (use --node-id)");
    expect(log).toContain("INFO: ID: 7\n");
    expect(log).toMatch(/DEBUG: PROTOCOL\(V2\): \[.*\] PUB old_flags/);
  });

  test("SIGINT exits 0 too", async () => {
    const n = await spawnNsqd();
    running.push(n);
    n.proc.kill("SIGINT");
    expect(await n.proc.exited).toBe(0);
  });

  test("--config TOML is applied, and flags override it", async () => {
    const dir = tempDir();
    const port = freePort();
    const cfg = join(dir, "nsqd.toml");
    const data = join(dir, "data");
    writeFileSync(
      cfg,
      `tcp_address = "127.0.0.1:${port}"\ndata_path = "${data}"\nmax_msg_size = 10\nmax_rdy_count = 7\nlog_level = "warn"\n`,
    );
    const proc = Bun.spawn(["bun", NSQD_ENTRY, `--config=${cfg}`, "--max-msg-size=20"], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    running.push({ proc, port, httpPort: 0, dataPath: data });
    await waitListening(port, proc);
    const c = await RawClient.connect(port);
    c.pub("cfg", "x".repeat(21));
    expect(await c.error()).toBe("E_BAD_MESSAGE PUB message too big 21 > 20");
    const d = await RawClient.connect(port);
    await d.publish("cfg", "x".repeat(20));
    await d.subscribe("cfg", "ch");
    d.rdy(8);
    expect(await d.error()).toBe("E_INVALID RDY count 8 out of range 0-7");
    // the data path came from the file too
    expect(existsSync(join(data, "nsqd.dat"))).toBe(true);
  });

  test("a bad flag value stops start-up with a message naming the flag", async () => {
    const r = await runNsqd(["--mem-queue-size=lots"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("mem-queue-size");
    const r2 = await runNsqd(["--max-deflate-level=12"]);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain("max-deflate-level");
    const r3 = await runNsqd(["--no-such-flag"]);
    expect(r3.code).not.toBe(0);
    expect(r3.stderr).toContain("no-such-flag");
  });

  test("unreadable TLS certificate files stop start-up with the flag named", async () => {
    const r = await runNsqd([
      `--tcp-address=127.0.0.1:${freePort()}`,
      "--tls-cert=/nonexistent/cert.pem",
      "--tls-key=/nonexistent/key.pem",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--tls-cert /nonexistent/cert.pem");
  });

  test("--help lists nsqd's flags and --version prints the version", async () => {
    const help = await runNsqd(["--help"]);
    expect(help.code).toBe(0);
    for (const flag of ["-tcp-address", "-mem-queue-size", "-max-rdy-count", "-msg-timeout", "-config"]) {
      expect(help.stdout + help.stderr).toContain(flag);
    }
    const version = await runNsqd(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^nsqd v1\.3\.0/);
  });

  test("a taken port is a clear start-up failure", async () => {
    const n = await spawnNsqd();
    running.push(n);
    const r = await runNsqd([`--tcp-address=127.0.0.1:${n.port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FATAL: listen \(127\.0\.0\.1:\d+\) failed - /);
  });
});
