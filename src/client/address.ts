/** "host:port" (IPv6 hosts in brackets) to its parts, for dialing. */
export function splitAddress(address: string): { hostname: string; port: number } {
  const colon = address.lastIndexOf(":");
  if (colon < 0) throw new Error(`invalid address ${JSON.stringify(address)}, expected host:port`);
  let host = address.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const port = Number(address.slice(colon + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`invalid port in ${JSON.stringify(address)}`);
  return { hostname: host === "" ? "127.0.0.1" : host, port };
}
