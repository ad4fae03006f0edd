/**
 * What a worker knows of its siblings: the private TCP and HTTP ports each one
 * listens on (null while it is down or starting). The supervisor sends the
 * whole table over IPC whenever a worker starts or stops.
 */
import { workerOfNode } from "./layout.ts";

export interface PeerPorts {
  tcpPort: number;
  /** Its private HTTP port, or its private HTTPS port when plain HTTP is refused (--tls-required=true). */
  httpPort: number;
}

/** Worker to supervisor: this worker is listening on its private ports. */
export interface ListeningMessage {
  type: "listening";
  index: number;
  tcpPort: number;
  httpPort: number;
}

/** Supervisor to workers: every worker's private ports, by index. */
export interface PeersMessage {
  type: "peers";
  peers: (PeerPorts | null)[];
}

export class WorkerPeers {
  private ports: (PeerPorts | null)[];
  private readonly listeners = new Set<() => void>();
  private received = false;

  constructor(
    /** This worker's index. */
    readonly self: number,
    readonly count: number,
    /** --node-id: worker i's node id is base + i. */
    readonly nodeBase: number,
    /** Host the private ports listen on (loopback when they listen on every address). */
    readonly host: string,
  ) {
    this.ports = new Array<PeerPorts | null>(count).fill(null);
  }

  /** The sibling indexes (every worker but this one). */
  siblings(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) if (i !== this.self) out.push(i);
    return out;
  }

  get(index: number): PeerPorts | null {
    return this.ports[index] ?? null;
  }

  /** The worker index owning messages of `node`, or -1. */
  workerOf(node: number): number {
    return workerOfNode(this.nodeBase, this.count, node);
  }

  /** Siblings that are up, with their ports. */
  live(): { index: number; ports: PeerPorts }[] {
    const out: { index: number; ports: PeerPorts }[] = [];
    for (let i = 0; i < this.count; i++) {
      const p = this.ports[i];
      if (i !== this.self && p !== null && p !== undefined) out.push({ index: i, ports: p });
    }
    return out;
  }

  update(ports: (PeerPorts | null)[]): void {
    this.ports = Array.from({ length: this.count }, (_, i) => ports[i] ?? null);
    this.received = true;
    for (const listener of this.listeners) listener();
  }

  /** The supervisor's table has arrived (a worker serves the shared addresses from its start, before it knows its siblings). */
  get known(): boolean {
    return this.received;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
