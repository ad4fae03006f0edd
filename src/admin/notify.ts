/**
 * --notification-http-endpoint: one JSON POST per admin action, with NSQ's
 * fields, sent in the background and in order so an action never waits for it.
 */
import { hostname } from "node:os";
import type { Logger } from "../common/logger.ts";

export interface AdminAction {
  action: string;
  topic: string;
  channel?: string;
  node?: string;
  timestamp: number;
  user?: string;
  remote_ip: string;
  user_agent: string;
  url: string;
  via: string;
}

/** Who asked for an action, read from the request when it arrives (after the action, its client may be gone). */
export interface ActionRequest {
  /** The request's URL as nsqadmin reports it (https when X-Scheme says so). */
  url: string;
  userAgent: string;
  /** "ip:port" of the peer. */
  remoteAddress: string;
  /** From the basic-auth header or the ACL header; "" when unknown. */
  user: string;
}

/** The ActionRequest of a request; call it before the action's first await. */
export function actionRequestOf(request: Request, remoteAddress: string, user: string): ActionRequest {
  const url = URL.parse(request.url);
  if (url !== null && request.headers.get("X-Scheme") === "https") url.protocol = "https:";
  return { url: url?.toString() ?? "", userAgent: request.headers.get("User-Agent") ?? "", remoteAddress, user };
}

export class Notifier {
  private chain: Promise<void> = Promise.resolve();
  private readonly via = hostname();

  constructor(
    private readonly endpoint: () => string,
    private readonly logger: Logger,
    private readonly timeoutMs: () => number,
  ) {}

  notify(action: string, topic: string, channel: string, node: string, from: ActionRequest): void {
    const endpoint = this.endpoint();
    if (endpoint === "") return;
    const body: AdminAction = {
      action,
      topic,
      ...(channel !== "" ? { channel } : {}),
      ...(node !== "" ? { node } : {}),
      timestamp: Math.floor(Date.now() / 1000),
      ...(from.user !== "" ? { user: from.user } : {}),
      remote_ip: from.remoteAddress,
      user_agent: from.userAgent,
      url: from.url,
      via: this.via,
    };
    this.chain = this.chain.then(() => this.send(endpoint, body));
  }

  private async send(endpoint: string, body: AdminAction): Promise<void> {
    try {
      const res = await fetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs()),
      });
      await res.arrayBuffer();
      if (!res.ok) this.logger.error(`notification to ${endpoint} answered ${res.status}`);
    } catch (err) {
      this.logger.error(`notification to ${endpoint} failed - ${(err as Error).message}`);
    }
  }

  /** Resolves when every notification queued so far has been sent (or failed). */
  drained(): Promise<void> {
    return this.chain;
  }
}
