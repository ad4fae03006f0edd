/** What nsqadmin's HTTP routes share. Options are replaced as a whole by PUT /config. */
import type { Logger } from "../common/logger.ts";
import type { ClusterActions } from "./actions.ts";
import type { ClusterInfo } from "./cluster.ts";
import type { Notifier } from "./notify.ts";
import type { AdminOptions } from "./options.ts";
import type { Upstream } from "./upstream.ts";

export interface AdminContext {
  options(): AdminOptions;
  setOptions(options: AdminOptions): void;
  readonly logger: Logger;
  readonly upstream: Upstream;
  readonly cluster: ClusterInfo;
  readonly actions: ClusterActions;
  readonly notifier: Notifier;
}
