/** The nsqlookupd, nsqd and nsqadmin programs as child processes on free loopback ports. */
import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NSQD_ENTRY, freePort, waitListening } from "../helpers/process.ts";

export const LOOKUPD_ENTRY = `${import.meta.dir}/../../src/cli/nsqlookupd.ts`;
export const NSQADMIN_ENTRY = `${import.meta.dir}/../../src/cli/nsqadmin.ts`;

/** How much of a process's log is kept (its tail). */
const LOG_KEEP = 256 * 1024;

export interface Proc {
  proc: Subprocess<"ignore", "ignore", "pipe">;
  tcpPort: number;
  httpPort: number;
  /** The tail of what the process wrote to stderr (its log); read continuously so a full pipe never blocks it. */
  log(): string;
  /** Resolves once the log contains `text`. */
  waitLog(text: string, timeoutMs?: number): Promise<void>;
  /** SIGKILL or SIGTERM, and wait for the exit. */
  stop(signal?: "SIGKILL" | "SIGTERM"): Promise<number>;
}

async function spawn(entry: string, tcpPort: number, httpPort: number, args: string[], cleanup?: () => void) {
  const listen = tcpPort > 0 ? [`--tcp-address=127.0.0.1:${tcpPort}`] : [];
  const proc = Bun.spawn(["bun", entry, ...listen, `--http-address=127.0.0.1:${httpPort}`, ...args], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  let log = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) {
      log += decoder.decode(chunk, { stream: true });
      if (log.length > 2 * LOG_KEEP) log = log.slice(-LOG_KEEP);
    }
  })().catch(() => {});
  const p: Proc = {
    proc,
    tcpPort,
    httpPort,
    log: () => log,
    async waitLog(text, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!log.includes(text)) {
        if (Date.now() > deadline) throw new Error(`no "${text}" in the log after ${timeoutMs}ms:\n${log.slice(-2000)}`);
        await Bun.sleep(20);
      }
    },
    async stop(signal = "SIGKILL") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const code = await proc.exited;
      cleanup?.();
      return code;
    },
  };
  try {
    if (tcpPort > 0) await waitListening(tcpPort, proc);
    await waitListening(httpPort, proc);
  } catch (err) {
    await p.stop();
    throw new Error(`${(err as Error).message}\n${log.slice(-2000)}`);
  }
  return p;
}

/** Starts processes together; if one fails, the ones that started are stopped before the error is thrown. */
export async function startAll(starts: Promise<Proc>[]): Promise<Proc[]> {
  const results = await Promise.allSettled(starts);
  const failed = results.find((r) => r.status === "rejected");
  if (failed === undefined) return results.map((r) => (r as PromiseFulfilledResult<Proc>).value);
  await Promise.all(results.map((r) => (r.status === "fulfilled" ? r.value.stop() : undefined)));
  throw failed.reason;
}

export function spawnLookupd(args: string[] = [], tcpPort = freePort(), httpPort = freePort()): Promise<Proc> {
  return spawn(LOOKUPD_ENTRY, tcpPort, httpPort, ["--broadcast-address=127.0.0.1", ...args]);
}

export interface NsqdPlacement {
  /** Data directory owned by the caller (kept on stop); a temp dir removed on stop if not given. */
  dataPath?: string;
  tcpPort?: number;
  httpPort?: number;
}

/** An nsqd registered with the given lookupds. Give it the same placement again to restart it. */
export function spawnClusterNsqd(lookupds: Proc[], args: string[] = [], placement: NsqdPlacement = {}): Promise<Proc> {
  const owned = placement.dataPath === undefined;
  const dataPath = placement.dataPath ?? mkdtempSync(join(tmpdir(), "bunsq-cluster-"));
  return spawn(
    NSQD_ENTRY,
    placement.tcpPort ?? freePort(),
    placement.httpPort ?? freePort(),
    [
      `--data-path=${dataPath}`,
      "--broadcast-address=127.0.0.1",
      ...lookupds.map((l) => `--lookupd-tcp-address=127.0.0.1:${l.tcpPort}`),
      ...args,
    ],
    owned ? () => rmSync(dataPath, { recursive: true, force: true }) : undefined,
  );
}

/** nsqadmin reading the given lookupds (its tcpPort is 0: it has none). */
export function spawnNsqadmin(lookupds: Proc[], args: string[] = []): Promise<Proc> {
  return spawn(NSQADMIN_ENTRY, 0, freePort(), [
    ...lookupds.map((l) => `--lookupd-http-address=127.0.0.1:${l.httpPort}`),
    ...args,
  ]);
}
