import { afterEach } from "bun:test";
import { RawClient } from "./raw-client.ts";
import { removeDir, spawnNsqd, tempDataDir, type NsqdProcess } from "./process.ts";

/**
 * For a test file whose tests run nsqd as real processes on data paths that
 * outlive a process (restarts, kills): every process, client and data path made
 * through it is killed, closed or removed after each test.
 */
export function nsqdProcesses(): {
  /** A fresh data path, removed after the test. */
  dataDir(): string;
  /** Starts nsqd on `dataPath` (logging warnings only) with `args`. */
  start(dataPath: string, args?: string[]): Promise<NsqdProcess>;
  connect(p: NsqdProcess): Promise<RawClient>;
  /** Sends the signal and waits for the process to end; returns its exit code. */
  signal(p: NsqdProcess, signal: "SIGKILL" | "SIGTERM"): Promise<number>;
} {
  let procs: NsqdProcess[] = [];
  let dirs: string[] = [];
  let clients: RawClient[] = [];
  afterEach(async () => {
    for (const c of clients) c.close();
    for (const p of procs) {
      p.proc.kill("SIGKILL");
      await p.proc.exited;
    }
    for (const d of dirs) removeDir(d);
    clients = [];
    procs = [];
    dirs = [];
  });
  return {
    dataDir() {
      const dir = tempDataDir();
      dirs.push(dir);
      return dir;
    },
    async start(dataPath, args = []) {
      const p = await spawnNsqd(["--log-level=warn", ...args], dataPath);
      procs.push(p);
      return p;
    },
    async connect(p) {
      const c = await RawClient.connect(p.port);
      clients.push(c);
      return c;
    },
    async signal(p, signal) {
      p.proc.kill(signal);
      const code = await p.proc.exited;
      procs = procs.filter((x) => x !== p);
      return code;
    },
  };
}
