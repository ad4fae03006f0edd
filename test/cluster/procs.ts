/** The nsqlookupd and nsqd programs as child processes on free loopback ports. */
import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NSQD_ENTRY, freePort, waitListening } from "../helpers/process.ts";

export const LOOKUPD_ENTRY = `${import.meta.dir}/../../src/cli/nsqlookupd.ts`;

export interface Proc {
  proc: Subprocess<"ignore", "ignore", "pipe">;
  tcpPort: number;
  httpPort: number;
  /** SIGKILL or SIGTERM, and wait for the exit. */
  stop(signal?: "SIGKILL" | "SIGTERM"): Promise<number>;
}

async function spawn(entry: string, tcpPort: number, httpPort: number, args: string[], cleanup?: () => void) {
  const proc = Bun.spawn(
    ["bun", entry, `--tcp-address=127.0.0.1:${tcpPort}`, `--http-address=127.0.0.1:${httpPort}`, ...args],
    { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  const p: Proc = {
    proc,
    tcpPort,
    httpPort,
    async stop(signal = "SIGKILL") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const code = await proc.exited;
      cleanup?.();
      return code;
    },
  };
  try {
    await waitListening(tcpPort, proc);
    await waitListening(httpPort, proc);
  } catch (err) {
    await p.stop();
    throw err;
  }
  return p;
}

export function spawnLookupd(args: string[] = [], tcpPort = freePort(), httpPort = freePort()): Promise<Proc> {
  return spawn(LOOKUPD_ENTRY, tcpPort, httpPort, ["--broadcast-address=127.0.0.1", ...args]);
}

/** An nsqd registered with the given lookupds, its data in a temp dir removed on stop. */
export function spawnClusterNsqd(lookupds: Proc[], args: string[] = []): Promise<Proc> {
  const dataPath = mkdtempSync(join(tmpdir(), "bunsq-cluster-"));
  return spawn(
    NSQD_ENTRY,
    freePort(),
    freePort(),
    [
      `--data-path=${dataPath}`,
      "--broadcast-address=127.0.0.1",
      ...lookupds.map((l) => `--lookupd-tcp-address=127.0.0.1:${l.tcpPort}`),
      ...args,
    ],
    () => rmSync(dataPath, { recursive: true, force: true }),
  );
}
