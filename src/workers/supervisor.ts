/**
 * The nsqd program with `--workers=N` (N > 1): it serves nothing itself. It
 * starts N worker processes (the same program and arguments, with the worker's
 * index in BUNSQ_NSQD_WORKER), tells each where its siblings listen, forwards
 * SIGTERM / SIGINT, restarts a worker that dies (with backoff; it recovers its
 * own data path), and reports the exit once every worker has stopped.
 */
import type { Subprocess } from "bun";
import type { Logger } from "../common/logger.ts";
import type { NsqdOptions } from "../core/options.ts";
import { linkTlsOptions } from "./link-tls.ts";
import type { ListeningMessage, PeerPorts, PeersMessage } from "./peers.ts";
import { WORKER_ENV } from "./worker.ts";

const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 5_000;
/** A worker that ran this long before dying is restarted at once again. */
const STABLE_MS = 10_000;

interface WorkerSlot {
  proc: Subprocess | null;
  ports: PeerPorts | null;
  startedAt: number;
  /** Has listened at least once: a later death is a crash to recover from, not a start-up failure. */
  everListened: boolean;
  failures: number;
  timer: ReturnType<typeof setTimeout> | null;
}

/** The command that runs this program again: `bun <script>` or a compiled binary. */
function selfCommand(): string[] {
  const compiled = Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/");
  return compiled ? [process.execPath] : [process.execPath, Bun.main];
}

export class Supervisor {
  private readonly slots: WorkerSlot[];
  private stopping = false;
  private exited: (code: number) => void = () => {};
  private readonly done: Promise<number>;

  constructor(
    private readonly options: NsqdOptions,
    private readonly argv: readonly string[],
    private readonly logger: Logger,
  ) {
    this.slots = Array.from({ length: options.workers }, () => ({
      proc: null,
      ports: null,
      startedAt: 0,
      everListened: false,
      failures: 0,
      timer: null,
    }));
    this.done = new Promise((resolve) => (this.exited = resolve));
  }

  start(): void {
    const { tcpAddress, httpAddress, broadcastTcpPort, broadcastHttpPort } = this.options;
    if (tcpAddress.endsWith(":0") || httpAddress.endsWith(":0")) {
      throw new Error("--workers needs fixed ports in --tcp-address and --http-address (the workers share them)");
    }
    if (this.options.tlsCert !== "" && this.options.httpsAddress.endsWith(":0")) {
      throw new Error("--workers with TLS needs a fixed port in --https-address (the workers share it)");
    }
    // refuses a certificate the workers' relay links could not present to each other
    linkTlsOptions(this.options);
    if (broadcastTcpPort !== 0 || broadcastHttpPort !== 0) {
      throw new Error("--workers cannot be used with --broadcast-tcp-port or --broadcast-http-port: each worker announces its own ports");
    }
    this.logger.info(`WORKERS: starting ${this.slots.length} workers on ${tcpAddress} and ${httpAddress}`);
    for (let i = 0; i < this.slots.length; i++) this.spawn(i);
  }

  /** Forwards SIGTERM to every worker; resolves with 0 once all exited cleanly. */
  stop(): Promise<number> {
    if (!this.stopping) {
      this.stopping = true;
      for (const slot of this.slots) {
        if (slot.timer !== null) clearTimeout(slot.timer);
        slot.proc?.kill("SIGTERM");
      }
      this.checkAllExited();
    }
    return this.done;
  }

  private spawn(index: number): void {
    const slot = this.slots[index];
    slot.timer = null;
    slot.startedAt = Date.now();
    slot.proc = Bun.spawn([...selfCommand(), ...this.argv], {
      env: { ...process.env, [WORKER_ENV]: String(index) },
      stdio: ["ignore", "inherit", "inherit"],
      ipc: (message: ListeningMessage) => {
        if (message?.type !== "listening") return;
        slot.ports = { tcpPort: message.tcpPort, httpPort: message.httpPort };
        slot.everListened = true;
        this.logger.info(`WORKERS: worker ${index} (pid ${slot.proc?.pid}) listening, own ports tcp ${message.tcpPort} http ${message.httpPort}`);
        this.broadcast();
      },
      onExit: (_proc, code, signal) => this.onExit(index, code, signal),
    });
  }

  private onExit(index: number, code: number | null, signal: number | NodeJS.Signals | null): void {
    const slot = this.slots[index];
    slot.proc = null;
    slot.ports = null;
    this.slotCodes[index] = code ?? 1;
    if (this.stopping) return this.checkAllExited();
    this.broadcast();
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    if (!slot.everListened) {
      // it never started: the others would fail alike (a bad data path, an address in use)
      this.logger.fatal(`WORKERS: worker ${index} failed to start (${how}); stopping`);
      void this.stop().then(() => process.exit(1));
      return;
    }
    if (Date.now() - slot.startedAt > STABLE_MS) slot.failures = 0;
    const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** slot.failures);
    slot.failures++;
    this.logger.error(`WORKERS: worker ${index} exited (${how}); restarting in ${delay}ms`);
    slot.timer = setTimeout(() => this.spawn(index), delay);
  }

  private readonly slotCodes: number[] = [];

  private checkAllExited(): void {
    if (this.slots.some((s) => s.proc !== null)) return;
    const clean = this.slotCodes.every((c) => c === 0);
    this.logger.info(`WORKERS: all workers stopped${clean ? "" : " (some with errors)"}`);
    this.exited(clean ? 0 : 1);
  }

  /** Tells every running worker where its siblings listen. */
  private broadcast(): void {
    const message: PeersMessage = { type: "peers", peers: this.slots.map((s) => s.ports) };
    for (const slot of this.slots) {
      if (slot.proc === null || slot.ports === null) continue;
      try {
        slot.proc.send(message);
      } catch (err) {
        this.logger.warn(`WORKERS: could not update a worker's peers - ${(err as Error).message}`);
      }
    }
  }
}
