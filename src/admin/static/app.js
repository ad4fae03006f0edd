// The single-page shell: routes NSQ's nsqadmin paths to pages, redraws the
// current page every few seconds, and runs admin actions after a confirmation.
import { enc, send } from "./api.js";
import { mountCharts } from "./charts.js";
import { esc } from "./format.js";
import { counterPage, lookupPage } from "./pages-tools.js";
import { nodePage, nodesPage } from "./pages-nodes.js";
import { channelPage, topicPage, topicsPage } from "./pages-topics.js";
import { startTail, stopTail } from "./tail.js";

const base = window.NSQADMIN.basePath;
const REFRESH_MS = 2000;

const routes = [
  [/^\/(?:topics)?$/, "topics", () => topicsPage()],
  [/^\/topics\/([^/]+)$/, "topics", (m) => topicPage({ topic: m[0] })],
  [/^\/topics\/([^/]+)\/([^/]+)$/, "topics", (m) => channelPage({ topic: m[0], channel: m[1] })],
  [/^\/nodes$/, "nodes", () => nodesPage()],
  [/^\/nodes\/([^/]+)$/, "nodes", (m) => nodePage({ node: m[0] })],
  [/^\/counter$/, "counter", () => counterPage()],
  [/^\/lookup$/, "lookup", () => lookupPage()],
];

const main = document.getElementById("page");
let timer = null;
let drawing = false;
let paused = false;

function route() {
  const path = location.pathname.slice(base.length) || "/";
  for (const [re, section, page] of routes) {
    const m = path.match(re);
    if (m) return { section, render: () => page(m.slice(1).map(decodeURIComponent)) };
  }
  return { section: "", render: async () => `<h1>Not found</h1><p class="alert">No page at ${esc(path)}.</p>` };
}

async function draw() {
  if (drawing || paused) return;
  drawing = true;
  const { section, render } = route();
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.section === section);
  let html;
  try {
    html = await render();
  } catch (err) {
    html = `<div class="alert" role="alert">Error: ${esc(err.message)}</div>`;
  }
  // a running live tail and the charts survive the redraw
  const tail = document.getElementById("tail");
  const charts = document.getElementById("charts");
  main.innerHTML = html;
  const fresh = document.getElementById("tail");
  if (tail && fresh && !tail.hidden) fresh.replaceWith(tail);
  mountCharts(charts);
  main.dataset.loaded = String(Date.now());
  drawing = false;
}

function go(url) {
  stopTail();
  history.pushState(null, "", url);
  main.innerHTML = '<p class="muted">Loading…</p>';
  void draw();
}

function confirmAction(text) {
  const modal = document.getElementById("modal");
  modal.innerHTML = `<div class="dialog" role="dialog" aria-modal="true"><p>${esc(text)}</p>
    <div class="actions"><button class="btn" data-answer="no">Cancel</button><button class="btn danger" data-answer="yes">Confirm</button></div></div>`;
  modal.hidden = false;
  paused = true;
  return new Promise((resolve) => {
    modal.onclick = (e) => {
      const answer = e.target.dataset?.answer;
      if (!answer) return;
      modal.hidden = true;
      paused = false;
      resolve(answer === "yes");
    };
  });
}

function flash(text, error = false) {
  const note = document.createElement("div");
  note.className = error ? "alert toast" : "toast";
  note.textContent = text;
  document.body.append(note);
  setTimeout(() => note.remove(), 4000);
}

async function runAction(el) {
  const { action, topic, channel, node } = el.dataset;
  const what = channel ? `channel ${topic}/${channel}` : `topic ${topic}`;
  const question =
    action === "tombstone"
      ? `Tombstone topic ${topic} on node ${node}? Its lookups leave the node out and the topic is deleted there.`
      : `${action[0].toUpperCase()}${action.slice(1)} ${what}?`;
  if (!(await confirmAction(question))) return;
  const path = `/api/topics/${enc(topic)}${channel ? `/${enc(channel)}` : ""}`;
  try {
    let result;
    if (action === "delete") result = await send("DELETE", path);
    else if (action === "tombstone") result = await send("DELETE", `/api/nodes/${enc(node)}`, { topic });
    else result = await send("POST", path, { action });
    flash(result.message || `${action} ${what}: done`, Boolean(result.message));
    if (action === "delete") return go(channel ? `${base}/topics/${enc(topic)}` : `${base}/`);
  } catch (err) {
    flash(`${action} ${what} failed: ${err.message}`, true);
  }
  await draw();
}

document.addEventListener("click", (e) => {
  const target = e.target.closest("a[data-nav], [data-action], [data-tail]");
  if (!target) return;
  if (target.dataset.action) return void runAction(target);
  e.preventDefault();
  if (target.dataset.tail) return startTail(target.dataset.tail);
  go(target.href);
});

document.addEventListener("submit", async (e) => {
  if (e.target.id !== "create") return;
  e.preventDefault();
  const form = new FormData(e.target);
  const body = { topic: form.get("topic"), channel: form.get("channel") || "" };
  if (!(await confirmAction(`Create ${body.channel ? `channel ${body.topic}/${body.channel}` : `topic ${body.topic}`}?`))) return;
  try {
    const r = await send("POST", "/api/topics", body);
    flash(r.message || `created ${body.topic}`, Boolean(r.message));
  } catch (err) {
    flash(`create failed: ${err.message}`, true);
  }
  await draw();
});

window.addEventListener("popstate", () => {
  stopTail();
  void draw();
});

void draw();
timer = setInterval(draw, REFRESH_MS);
window.addEventListener("beforeunload", () => clearInterval(timer));
