/**
 * Query strings parsed like Go's url.ParseQuery, which nsqd uses: a key without
 * "=" is present with an empty value, "+" is a space, and a bad %-escape makes the
 * whole query invalid (nsqd answers 400 INVALID_REQUEST).
 */
export type Query = Map<string, string>;

function decode(part: string): string {
  return decodeURIComponent(part.indexOf("+") >= 0 ? part.replaceAll("+", " ") : part);
}

/** First value of every key, or null when the query cannot be decoded. */
export function parseQuery(url: string): Query | null {
  const query: Query = new Map();
  const start = url.indexOf("?");
  if (start < 0) return query;
  const end = url.indexOf("#", start);
  const raw = url.slice(start + 1, end < 0 ? undefined : end);
  if (raw === "") return query;
  try {
    for (const pair of raw.split("&")) {
      if (pair === "") continue;
      // Go 1.17+ refuses semicolons as separators
      if (pair.includes(";")) return null;
      const eq = pair.indexOf("=");
      const key = decode(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? "" : decode(pair.slice(eq + 1));
      if (!query.has(key)) query.set(key, value);
    }
  } catch {
    return null;
  }
  return query;
}

/** nsqd's boolean query values; anything else is "not given". */
export function queryBool(value: string | undefined): boolean | undefined {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  return undefined;
}
