// Calls to nsqadmin's own /api, under the configured base path.

const base = window.NSQADMIN.basePath;

export async function get(path) {
  const res = await fetch(`${base}${path}`, { headers: { Accept: "application/json" } });
  const data = await res.json().catch(() => ({ message: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(data.message || `HTTP ${res.status}`);
  return data;
}

export async function send(method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({ message: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(data.message || `HTTP ${res.status}`);
  return data;
}

export const link = (path) => `${base}${path}`;
export const enc = encodeURIComponent;
