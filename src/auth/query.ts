/**
 * Asks the --auth-http-address servers about a secret, as nsqd does: GET
 * /auth?remote_ip=&tls=&secret=&common_name= (or a POST of the same form), trying
 * the servers from a random one onwards until one answers.
 */
import { AuthState, parseAuthResponse } from "./authorizations.ts";

export interface AuthQuery {
  remoteIp: string;
  tls: boolean;
  secret: string;
  commonName: string;
}

export interface AuthServers {
  addresses: readonly string[];
  method: "get" | "post";
  /** Whole request timeout, ms (nsqd's --http-client-connect-timeout + request timeout). */
  timeoutMs: number;
}

async function queryOne(address: string, q: AuthQuery, servers: AuthServers): Promise<AuthState> {
  const form = new URLSearchParams({
    remote_ip: q.remoteIp,
    tls: String(q.tls),
    secret: q.secret,
    common_name: q.commonName,
  });
  // a full URL is used as it is; host:port gets nsqd's /auth path
  const endpoint = address.includes("://") ? address : `http://${address}/auth`;
  const signal = AbortSignal.timeout(servers.timeoutMs);
  const res =
    servers.method === "post"
      ? await fetch(endpoint, { method: "POST", body: form, signal })
      : await fetch(`${endpoint}?${form}`, { signal });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`got response ${res.status} ${JSON.stringify(text)}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`invalid JSON ${JSON.stringify(text.slice(0, 200))}`);
  }
  return parseAuthResponse(body);
}

export async function queryAnyAuthServer(q: AuthQuery, servers: AuthServers): Promise<AuthState> {
  const n = servers.addresses.length;
  const first = Math.floor(Math.random() * n);
  const problems: string[] = [];
  for (let i = 0; i < n; i++) {
    const address = servers.addresses[(first + i) % n];
    try {
      return await queryOne(address, q, servers);
    } catch (err) {
      problems.push(`failed to auth against ${address} - ${(err as Error).message}`);
    }
  }
  throw new Error(problems.join("; "));
}
