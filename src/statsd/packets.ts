/**
 * statsd lines ("<prefix><name>:<value>|c" or "|g") packed into UDP payloads of
 * at most `packetSize` bytes, never splitting a line (nsqd's boundary-buffered writer).
 */
export class StatsdPackets {
  readonly packets: string[] = [];
  private current = "";

  constructor(
    private readonly prefix: string,
    private readonly packetSize: number,
  ) {}

  incr(stat: string, value: number): void {
    this.add(`${this.prefix}${stat}:${Math.trunc(value)}|c\n`);
  }

  gauge(stat: string, value: number): void {
    this.add(`${this.prefix}${stat}:${Math.trunc(value)}|g\n`);
  }

  private add(line: string): void {
    if (this.current.length > 0 && this.current.length + line.length > this.packetSize) this.flush();
    this.current += line;
  }

  /** Ends the current packet; returns all packets. */
  flush(): string[] {
    if (this.current.length > 0) this.packets.push(this.current);
    this.current = "";
    return this.packets;
  }
}

/** nsqd's statsd.HostKey: dots and colons become underscores. */
export function hostKey(hostPort: string): string {
  return hostPort.replace(/[.:]/g, "_");
}

/** --statsd-prefix with %s replaced by the host key, ending in a dot unless empty. */
export function statsdPrefix(template: string, broadcastAddress: string, httpPort: number): string {
  if (template === "") return "";
  const prefix = template.replaceAll("%s", hostKey(`${broadcastAddress}:${httpPort}`));
  return prefix.endsWith(".") ? prefix : `${prefix}.`;
}
