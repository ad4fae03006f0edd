// Time-series charts of the last hour on the topic, channel and node pages, drawn
// with uPlot (served by nsqadmin from the uplot package, loaded by the page shell
// as the global `uPlot`) from /api/history, which sums what each bunsq nsqd keeps.
// Go's nsqd keeps no history: the section then says so instead of drawing.
import { get } from "./api.js";
import { esc } from "./format.js";

const REFRESH_MS = 5000;
const HEIGHT = 190;

const CHARTS = [
  {
    id: "rates",
    title: "Messages/s",
    series: [
      ["message_rate", "in", "#1f6feb"],
      ["consume_rate", "out", "#2da44e"],
    ],
  },
  {
    id: "depth",
    title: "Queued messages",
    series: [
      ["memory_depth", "memory", "#1f6feb"],
      ["backend_depth", "disk", "#bf8700"],
      ["in_flight_count", "in flight", "#8250df"],
    ],
  },
  {
    id: "retries",
    title: "Requeued and timed out /s",
    series: [
      ["requeue_rate", "requeued", "#bf8700"],
      ["timeout_rate", "timed out", "#cf222e"],
    ],
  },
];

/** Where a page's charts go; `path` is its /api/history route. */
export function chartsSection(path) {
  return `<section id="charts" data-history="${esc(path)}">
    <h2>Last hour <span class="muted" id="charts-note"></span></h2>
    <p class="muted" id="charts-status">Loading history…</p>
    <div class="charts">${CHARTS.map((c) => `<figure class="chart" id="chart-${c.id}" hidden><figcaption>${esc(c.title)}</figcaption><div class="plot"></div></figure>`).join("")}</div>
  </section>`;
}

/** 1234567 -> "1.2M", 0.5 -> "0.5" */
function compact(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  if (a >= 100 || Number.isInteger(v)) return Math.round(v).toLocaleString("en-US");
  return String(+v.toFixed(a >= 10 ? 1 : 2));
}

const clock = (s) => new Date(s * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** At least this many sample intervals show on the time axis, so a young topic's few points are not spread over years. */
const MIN_SPAN = 30;

function plotOptions(chart, width, intervalS) {
  // away from the plot the legend shows the newest values; over it, those under the cursor
  const value = (u, v, si, idx) => compact(idx === null ? u.data[si][u.data[si].length - 1] : v);
  return {
    width,
    height: HEIGHT,
    cursor: { sync: { key: "nsqadmin-charts" }, drag: { x: false, y: false } },
    scales: {
      // from the data itself: for a single point uPlot would offer a span of years
      x: {
        time: true,
        range: (u) => {
          const t = u.data[0];
          const last = t[t.length - 1];
          return [Math.min(t[0], last - MIN_SPAN * intervalS), last];
        },
      },
      y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    axes: [
      { stroke: "#6b7685", grid: { stroke: "#eef1f5" } },
      { stroke: "#6b7685", grid: { stroke: "#eef1f5" }, size: 56, values: (u, splits) => splits.map(compact) },
    ],
    series: [
      { label: "time", value: (u, v, si, idx) => (idx === null ? "now" : clock(v)) },
      ...chart.series.map(([, label, stroke]) => ({ label, stroke, width: 1.6, points: { size: 4 }, value })),
    ],
  };
}

/** The charts of the page now shown: its section, its plots and their resize observers, when it last fetched. */
let current = null;

function destroy() {
  for (const o of current?.observers ?? []) o.disconnect();
  for (const p of current?.plots ?? []) p.destroy();
  current = null;
}

/**
 * After each redraw: a section showing the same history as before is put back
 * (its plots live on), another one starts; either fetches when it is due.
 */
export function mountCharts(previous) {
  const fresh = document.getElementById("charts");
  if (!fresh) return destroy();
  if (current && previous === current.section && previous.dataset.history === fresh.dataset.history) {
    fresh.replaceWith(previous);
  } else {
    destroy();
    current = { section: fresh, path: fresh.dataset.history, plots: null, observers: [], fetchedAt: 0 };
  }
  if (Date.now() - current.fetchedAt >= REFRESH_MS) void refresh(current);
}

function status(h) {
  if (h.nodes.length === 0 && h.unsupported.length > 0) {
    const keep = h.unsupported.length === 1 ? "keeps" : "keep";
    return `No charts: ${h.unsupported.join(", ")} ${keep} no history (Go's nsqd has no /stats/history; bunsq's nsqd keeps the last hour itself).`;
  }
  if (h.nodes.length === 0) return "No nsqd has this yet.";
  return h.time.length === 0 ? "No samples yet: each nsqd samples every 10 s." : "";
}

async function refresh(state) {
  state.fetchedAt = Date.now();
  let h;
  try {
    h = await get(state.path);
  } catch (err) {
    const statusEl = state.section.querySelector("#charts-status");
    statusEl.textContent = `History unavailable: ${err.message}`;
    statusEl.hidden = false;
    return;
  }
  if (current !== state) return; // the page changed meanwhile
  const section = state.section;
  const text = status(h);
  const statusEl = section.querySelector("#charts-status");
  statusEl.textContent = text;
  statusEl.hidden = text === "";
  statusEl.classList.toggle("note", h.unsupported.length > 0);
  const seconds = h.interval_ms / 1000;
  section.querySelector("#charts-note").textContent =
    h.time.length === 0
      ? ""
      : `${seconds} s samples from ${h.nodes.length} node${h.nodes.length === 1 ? "" : "s"}` +
        (h.unsupported.length > 0 && h.nodes.length > 0 ? `; left out, without history: ${h.unsupported.join(", ")}` : "");
  section.dataset.points = String(h.time.length);
  if (h.time.length === 0) return;
  const data = CHARTS.map((c) => [h.time, ...c.series.map(([key]) => h[key])]);
  if (state.plots === null) {
    // all shown before any is measured: the grid sizes its columns by how many figures show
    const figures = CHARTS.map((c) => section.querySelector(`#chart-${c.id}`));
    for (const f of figures) f.hidden = false;
    state.plots = CHARTS.map((c, i) => {
      const holder = figures[i].querySelector(".plot");
      const plot = new window.uPlot(plotOptions(c, holder.clientWidth || 400, seconds), data[i], holder);
      const resize = new ResizeObserver(() => {
        const width = holder.clientWidth;
        if (width > 0 && width !== plot.width) plot.setSize({ width, height: HEIGHT });
      });
      resize.observe(holder);
      state.observers.push(resize);
      return plot;
    });
  } else {
    state.plots.forEach((p, i) => p.setData(data[i]));
  }
}
