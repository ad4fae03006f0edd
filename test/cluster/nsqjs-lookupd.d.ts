// nsqjs's Reader options for discovery through nsqlookupd, beside test/interop/nsqjs.d.ts.
import "nsqjs";

declare module "nsqjs" {
  interface ReaderOptions {
    lookupdHTTPAddresses?: string[];
    /** Seconds between /lookup queries. */
    lookupdPollInterval?: number;
  }
}
