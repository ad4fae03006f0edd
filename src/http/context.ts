import type { NSQD } from "../core/nsqd.ts";
import type { TcpServer } from "../tcp/server.ts";
import type { RateTracker } from "./rates.ts";

/** What the HTTP routes need from the running nsqd. */
export interface HttpContext {
  readonly nsqd: NSQD;
  readonly tcp: TcpServer;
  readonly rates: RateTracker;
  /** Port the HTTP server is bound to (known once it listens). */
  httpPort(): number;
  /** Called after PUT /config/nsqlookupd_tcp_addresses stored a new list. */
  onLookupdAddressesChanged?: (addresses: readonly string[]) => void;
}
