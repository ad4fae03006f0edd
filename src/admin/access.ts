/** Who is asking: the admin-user check, the /config CIDR check and the user named in notifications. */
import { cidrContains, parseCidr } from "./cidr.ts";

export function basicAuthUser(request: Request): string {
  const [scheme, encoded] = (request.headers.get("Authorization") ?? "").split(" ", 2);
  if (scheme !== "Basic" || encoded === undefined) return "";
  try {
    const decoded = atob(encoded);
    const colon = decoded.indexOf(":");
    return colon < 0 ? "" : decoded.slice(0, colon);
  } catch {
    return "";
  }
}

/** With no --admin-user everyone is an admin; otherwise the ACL header must name one. */
export function isAdmin(request: Request, adminUsers: readonly string[], aclHeader: string): boolean {
  if (adminUsers.length === 0) return true;
  const user = request.headers.get(aclHeader);
  return user !== null && adminUsers.includes(user);
}

/** The user recorded in a notification: basic auth, else the ACL header. */
export function actingUser(request: Request, aclHeader: string): string {
  return basicAuthUser(request) || (request.headers.get(aclHeader) ?? "");
}

export function configAllowed(ip: string, cidr: string): boolean {
  if (cidr === "") return true;
  const range = parseCidr(cidr);
  return range !== null && cidrContains(range, ip);
}
