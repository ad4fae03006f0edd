/** Splits "host:port" (host may be empty, a name, an IPv4 or a bracketed IPv6 address). */
export function splitHostPort(address: string): { hostname: string; port: number } {
  const colon = address.lastIndexOf(":");
  let host = address.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { hostname: host === "" ? "0.0.0.0" : host, port: Number(address.slice(colon + 1)) };
}
