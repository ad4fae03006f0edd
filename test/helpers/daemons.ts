/**
 * nsqlookupd, nsqd and nsqadmin as real child processes on free loopback ports,
 * logging at the default level (info) into files: a crash shows as an exit code
 * and the end of its log, and a chatty daemon never blocks on a full pipe.
 */
import type { Subprocess } from "bun";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, removeDir, tempDataDir, waitListening } from "./process.ts";

const CLI = `${import.meta.dir}/../../src/cli`;

export interface Daemon {
  name: string;
  proc: Subprocess<"ignore", number, number>;
  pid: number;
  /** 0 for nsqadmin, which has no TCP port. */
  tcpPort: number;
  httpPort: number;
  logFile: string;
  /** True while the process that was started is still running. */
  alive(): boolean;
  /** The last lines of its log (for a failure message). */
  logTail(lines?: number): string;
}

async function spawnDaemon(name: string, dir: string, args: string[], tcpPort: number, httpPort: number): Promise<Daemon> {
  const logFile = join(dir, `${name}.log`);
  const fd = openSync(logFile, "a");
  const proc = Bun.spawn(["bun", `${CLI}/${name}.ts`, ...args], { stdin: "ignore", stdout: fd, stderr: fd });
  closeSync(fd);
  const d: Daemon = {
    name,
    proc: proc as Subprocess<"ignore", number, number>,
    pid: proc.pid,
    tcpPort,
    httpPort,
    logFile,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    logTail: (lines = 40) => {
      try {
        return readFileSync(logFile, "utf8").split("\n").slice(-lines).join("\n");
      } catch {
        return "";
      }
    },
  };
  try {
    if (tcpPort > 0) await waitListening(tcpPort, proc, 10_000);
    await waitListening(httpPort, proc, 10_000);
  } catch (err) {
    proc.kill("SIGKILL");
    throw new Error(`${name} did not start: ${(err as Error).message}\n${d.logTail()}`);
  }
  return d;
}

export interface DaemonCluster {
  lookupd: Daemon;
  nsqd: Daemon;
  admin: Daemon;
  dir: string;
  /** SIGKILLs every process, waits for them and removes the temp dir. */
  stop(): Promise<void>;
}

/** One nsqlookupd, one nsqd registered with it, and an nsqadmin reading the cluster through the lookupd. */
export async function startDaemonCluster(extra: { admin?: string[] } = {}): Promise<DaemonCluster> {
  const dir = tempDataDir();
  const started: Daemon[] = [];
  const stop = async () => {
    for (const d of started) if (d.alive()) d.proc.kill("SIGKILL");
    await Promise.all(started.map((d) => d.proc.exited));
    if (!process.env.BUNSQ_KEEP_TEST_DIR) removeDir(dir);
  };
  try {
    const [lt, lh] = [freePort(), freePort()];
    const lookupd = await spawnDaemon(
      "nsqlookupd",
      dir,
      [`--tcp-address=127.0.0.1:${lt}`, `--http-address=127.0.0.1:${lh}`, "--broadcast-address=127.0.0.1"],
      lt,
      lh,
    );
    started.push(lookupd);
    const [nt, nh] = [freePort(), freePort()];
    const nsqd = await spawnDaemon(
      "nsqd",
      dir,
      [
        `--tcp-address=127.0.0.1:${nt}`,
        `--http-address=127.0.0.1:${nh}`,
        `--data-path=${join(dir, "nsqd-data")}`,
        "--broadcast-address=127.0.0.1",
        `--lookupd-tcp-address=127.0.0.1:${lt}`,
      ],
      nt,
      nh,
    );
    started.push(nsqd);
    const ah = freePort();
    const admin = await spawnDaemon(
      "nsqadmin",
      dir,
      [`--http-address=127.0.0.1:${ah}`, `--lookupd-http-address=127.0.0.1:${lh}`, ...(extra.admin ?? [])],
      0,
      ah,
    );
    started.push(admin);
    return { lookupd, nsqd, admin, dir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
