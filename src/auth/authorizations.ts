/**
 * What an auth server grants one connection (nsqd's auth.State): authorizations of
 * a topic pattern, channel patterns and permissions, valid for a TTL. Patterns are
 * unanchored regular expressions, as nsqd matches them.
 */

export type Permission = "subscribe" | "publish";

export interface Authorization {
  topic: RegExp;
  channels: RegExp[];
  permissions: Set<Permission>;
}

export class AuthState {
  constructor(
    readonly identity: string,
    readonly identityUrl: string,
    readonly authorizations: Authorization[],
    /** Date.now() after which the server must be asked again. */
    readonly expires: number,
  ) {}

  isExpired(now = Date.now()): boolean {
    return this.expires < now;
  }

  /** A channel name asks for "subscribe"; an empty one for "publish" (nsqd's rule). */
  isAllowed(topic: string, channel: string): boolean {
    const permission: Permission = channel !== "" ? "subscribe" : "publish";
    for (const a of this.authorizations) {
      if (!a.permissions.has(permission) || !a.topic.test(topic)) continue;
      for (const c of a.channels) if (c.test(channel)) return true;
    }
    return false;
  }
}

function compile(pattern: unknown, what: string): RegExp {
  if (typeof pattern !== "string") throw new Error(`${what} is not a string`);
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw new Error(`unable to compile ${what} ${JSON.stringify(pattern)} ${(err as Error).message}`);
  }
}

/** Validates an auth server's JSON answer as nsqd does; throws with the reason. */
export function parseAuthResponse(raw: unknown, now = Date.now()): AuthState {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error("response is not a JSON object");
  const r = raw as Record<string, unknown>;
  const ttl = r.ttl;
  const list = r.authorizations ?? [];
  if (!Array.isArray(list)) throw new Error("authorizations is not a list");
  const authorizations = list.map((item: unknown): Authorization => {
    const a = (item ?? {}) as Record<string, unknown>;
    const permissions = new Set<Permission>();
    for (const p of (a.permissions ?? []) as unknown[]) {
      if (p !== "subscribe" && p !== "publish") throw new Error(`unknown permission ${String(p)}`);
      permissions.add(p);
    }
    const channels = ((a.channels ?? []) as unknown[]).map((c) => compile(c, "channel"));
    return { topic: compile(a.topic ?? "", "topic"), channels, permissions };
  });
  if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl <= 0) throw new Error(`invalid TTL ${String(ttl)} (must be >0)`);
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  return new AuthState(text(r.identity), text(r.identity_url), authorizations, now + ttl * 1000);
}
