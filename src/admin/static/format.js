// Formatting helpers shared by the pages: escaping, numbers, durations, sparklines.

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function num(n) {
  return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US");
}

export function rate(r) {
  if (r === null || r === undefined) return "–";
  return r >= 100 ? Math.round(r).toLocaleString("en-US") : r.toFixed(r >= 10 ? 1 : 2);
}

/** nanoseconds to "1h2m3s" */
export function duration(ns) {
  let s = Math.floor(ns / 1e9);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

export function latency(e2e) {
  if (!e2e || !e2e.percentiles || e2e.percentiles.length === 0) return "";
  return e2e.percentiles.map((p) => `p${Math.round(p.quantile * 1000) / 10}: ${(p.value / 1e6).toFixed(1)}ms`).join(" ");
}

/** An inline SVG line of the last values (oldest first). */
export function sparkline(values) {
  if (!values || values.length < 2) return `<svg class="spark" viewBox="0 0 60 16" data-points="${values ? values.length : 0}"></svg>`;
  const max = Math.max(...values, 0.0001);
  const step = 60 / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(15 - (v / max) * 14).toFixed(1)}`).join(" ");
  return `<svg class="spark" viewBox="0 0 60 16" data-points="${values.length}"><polyline points="${points}"/></svg>`;
}
