/**
 * "host:port" addresses, the way every bunsq program reads and writes them. The
 * host may be empty, a name, an IPv4 address or a bracketed IPv6 address
 * ("[::1]:4150"). Flags are checked earlier by checkHostPort (src/options), so
 * these functions only take them apart and put them together.
 */

export interface HostPort {
  hostname: string;
  port: number;
}

/**
 * Splits "host:port". An empty host becomes `defaultHost`, which each caller
 * names: "0.0.0.0" (every interface) where bunsq listens, "127.0.0.1" where the
 * client dials. Throws when the port is missing or not 0-65535.
 */
export function splitHostPort(address: string, defaultHost: string): HostPort {
  const colon = address.lastIndexOf(":");
  if (colon < 0) throw new Error(`invalid address ${JSON.stringify(address)}, expected host:port`);
  let host = address.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const port = Number(address.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port in ${JSON.stringify(address)}`);
  return { hostname: host === "" ? defaultHost : host, port };
}

/** "host:port" with IPv6 hosts bracketed. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The URL of `path` on an HTTP address given as "host:port" or "http(s)://host:port". */
export function httpUrl(address: string, path: string): string {
  const base = /^https?:\/\//i.test(address) ? address.replace(/\/+$/, "") : `http://${address}`;
  return `${base}${path}`;
}
