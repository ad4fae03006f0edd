/**
 * A consumer that knows only nsqlookupd HTTP addresses, like NSQ's client
 * libraries: it polls /lookup on every lookupd, connects to each producer it has
 * not seen yet, subscribes and finishes every message it receives.
 */
import { RawClient } from "../helpers/raw-client.ts";

export class LookupConsumer {
  readonly received: string[] = [];
  /** "host:port" of the nsqds connected to. */
  readonly nsqds = new Set<string>();
  private readonly clients: RawClient[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private stopped = false;

  constructor(
    private readonly lookupdHttpPorts: number[],
    private readonly topic: string,
    private readonly channel: string,
    private readonly pollMs = 100,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    void this.poll();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    for (const c of this.clients) c.close();
  }

  private async poll(): Promise<void> {
    for (const port of this.lookupdHttpPorts) {
      let producers: { broadcast_address: string; tcp_port: number }[];
      try {
        const res = await fetch(`http://127.0.0.1:${port}/lookup?topic=${encodeURIComponent(this.topic)}`);
        if (res.status !== 200) continue;
        producers = ((await res.json()) as { producers: typeof producers }).producers;
      } catch {
        continue; // a lookupd that is down: ask the others
      }
      for (const p of producers) {
        const address = `${p.broadcast_address}:${p.tcp_port}`;
        if (this.stopped || this.nsqds.has(address)) continue;
        this.nsqds.add(address);
        void this.consume(p.tcp_port);
      }
    }
  }

  private async consume(port: number): Promise<void> {
    const c = await RawClient.connect(port);
    this.clients.push(c);
    await c.subscribe(this.topic, this.channel, 100);
    while (!this.stopped && !c.closed) {
      try {
        const m = await c.message(500);
        this.received.push(new TextDecoder().decode(m.body));
        c.fin(m.id);
      } catch {
        // idle: wait again unless the connection or the consumer is done
      }
    }
  }
}
