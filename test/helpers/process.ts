import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const NSQD_ENTRY = `${import.meta.dir}/../../src/cli/nsqd.ts`;

/** A port that was free a moment ago (for child processes, which cannot report port 0 back). */
export function freePort(): number {
  return freePorts(1)[0];
}

/** Ports this test process has handed out: the kernel may offer a closed one again, to a later call. */
const handedOut = new Set<number>();

/**
 * Distinct ports that were free a moment ago (all held open together while
 * chosen), none handed out before by this process: two servers a test starts
 * one after the other never get the same port.
 */
export function freePorts(count: number): number[] {
  const listeners = [];
  const ports: number[] = [];
  while (ports.length < count) {
    const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    listeners.push(l);
    if (!handedOut.has(l.port)) ports.push(l.port);
  }
  for (const l of listeners) l.stop(true);
  for (const port of ports) handedOut.add(port);
  return ports;
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitListening(port: number, proc?: Subprocess, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc?.exitCode != null) throw new Error(`process exited with ${proc.exitCode} before listening`);
    try {
      const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      s.end();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nothing listening on ${port} after ${timeoutMs}ms`);
      await Bun.sleep(20);
    }
  }
}

export interface NsqdProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  port: number;
  /** 0 when the caller chose its own --http-address. */
  httpPort: number;
  dataPath: string;
}

/** A fresh temporary directory; the caller removes it (see removeDir). */
export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), "bunsq-proc-"));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Starts the nsqd program as a child process on a free loopback port, with its
 * data in `dataPath` (a new temp dir if not given; the caller removes it).
 */
export async function spawnNsqd(args: string[] = [], dataPath = tempDataDir()): Promise<NsqdProcess> {
  const port = freePort();
  const httpPort = args.some((a) => a.startsWith("--http-address")) ? 0 : freePort();
  const httpArg = httpPort > 0 ? [`--http-address=127.0.0.1:${httpPort}`] : [];
  const proc = Bun.spawn(
    ["bun", NSQD_ENTRY, `--tcp-address=127.0.0.1:${port}`, ...httpArg, `--data-path=${dataPath}`, ...args],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  await waitListening(port, proc);
  if (httpPort > 0) await waitListening(httpPort, proc);
  return { proc, port, httpPort, dataPath };
}

/** Runs the nsqd program to completion (for --help, --version and bad flags), in a temp data path. */
export async function runNsqd(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const dataPath = tempDataDir();
  const proc = Bun.spawn(["bun", NSQD_ENTRY, `--data-path=${dataPath}`, `--http-address=127.0.0.1:${freePort()}`, ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  removeDir(dataPath);
  return { code, stdout, stderr };
}
