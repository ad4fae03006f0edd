import type { NSQD } from "../core/nsqd.ts";
import type { StatsReporter } from "../core/stats.ts";
import type { RateTracker } from "./rates.ts";

/** What the HTTP door reads of the TCP door (nsqd's TcpServer), so that http imports nothing of tcp. */
export interface TcpDoor {
  readonly port: number;
  /** The open client connections. */
  readonly clients: ReadonlySet<StatsReporter>;
}

/** What the HTTP routes need from the running nsqd. */
export interface HttpContext {
  readonly nsqd: NSQD;
  readonly tcp: TcpDoor;
  readonly rates: RateTracker;
  /** Port the HTTP server is bound to (known once it listens). */
  httpPort(): number;
  /** Called after PUT /config/nsqlookupd_tcp_addresses stored a new list. */
  onLookupdAddressesChanged?: (addresses: readonly string[]) => void;
}
