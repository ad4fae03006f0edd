/** Writes what a socket takes now and keeps the rest, in order, for its drain event. */
export interface WritableSocket {
  write(data: Uint8Array): number;
  end(): void;
  terminate(): void;
}

export class SocketWriter {
  private backlog: Uint8Array[] = [];
  private backlogBytes = 0;
  private ending = false;

  constructor(
    private readonly socket: WritableSocket,
    /** Unsent bytes past which the peer is taken as not reading and cut off. */
    private readonly maxUnsent = 1 << 20,
  ) {}

  write(data: Uint8Array): void {
    if (this.ending) return;
    if (this.backlog.length > 0) return this.queue(data);
    const n = this.socket.write(data);
    if (n < data.length) this.queue(data.subarray(Math.max(n, 0)));
  }

  /** Closes once everything written so far has gone out. */
  end(): void {
    this.ending = true;
    if (this.backlog.length === 0) this.socket.end();
  }

  onDrain(): void {
    while (this.backlog.length > 0) {
      const chunk = this.backlog[0];
      const n = Math.max(this.socket.write(chunk), 0);
      this.backlogBytes -= n;
      if (n < chunk.length) {
        this.backlog[0] = chunk.subarray(n);
        return;
      }
      this.backlog.shift();
    }
    if (this.ending) this.socket.end();
  }

  private queue(chunk: Uint8Array): void {
    this.backlog.push(chunk);
    this.backlogBytes += chunk.length;
    if (this.backlogBytes > this.maxUnsent) {
      this.ending = true;
      this.backlog = [];
      this.socket.terminate();
    }
  }
}
