// Streams: the topic list, one topic across its nodes, one channel with its clients.
import { enc, get, link } from "./api.js";
import { chartsSection } from "./charts.js";
import { duration, esc, latency, num, rate, sparkline } from "./format.js";
import { record } from "./history.js";

const admin = window.NSQADMIN.isAdmin;

export function warning(message) {
  return message ? `<div class="alert" role="alert">${esc(message)}</div>` : "";
}

function button(action, label, attrs, danger = false) {
  if (!admin) return "";
  const data = Object.entries(attrs).map(([k, v]) => `data-${k}="${esc(v)}"`).join(" ");
  return `<button class="btn${danger ? " danger" : ""}" data-action="${action}" ${data}>${label}</button>`;
}

export async function topicsPage() {
  const data = await get("/api/topics");
  const details = await Promise.all(data.topics.map((t) => get(`/api/topics/${enc(t)}`).catch(() => null)));
  const rows = data.topics.map((t, i) => {
    const d = details[i];
    const values = record(`t:${t}`, d?.message_rate_1m);
    return `<tr data-topic="${esc(t)}">
      <td data-label="Topic"><a href="${link(`/topics/${enc(t)}`)}" data-nav>${esc(t)}</a>${d?.paused ? ' <span class="tag">paused</span>' : ""}</td>
      <td data-label="Depth" class="n">${num(d?.depth)}</td>
      <td data-label="Messages" class="n">${num(d?.message_count)}</td>
      <td data-label="Channels" class="n">${num(d?.channels.length)}</td>
      <td data-label="Rate/s" class="n rate">${rate(d?.message_rate_1m)} ${sparkline(values)}</td>
    </tr>`;
  });
  return `${warning(data.message)}<h1>Streams</h1>
    ${data.topics.length === 0 ? '<p class="muted">No topics yet.</p>' : `<table class="grid" id="topics">
    <thead><tr><th>Topic</th><th class="n">Depth</th><th class="n">Messages</th><th class="n">Channels</th><th class="n">Rate/s</th></tr></thead>
    <tbody>${rows.join("")}</tbody></table>`}`;
}

const queueCells = (s) => `
  <td data-label="Depth" class="n">${num(s.depth)}</td>
  <td data-label="Memory + Disk" class="n">${num(s.memory_depth)} + ${num(s.backend_depth)}</td>
  <td data-label="In-Flight" class="n">${num(s.in_flight_count)}</td>
  <td data-label="Deferred" class="n">${num(s.deferred_count)}</td>
  <td data-label="Requeued" class="n">${num(s.requeue_count)}</td>
  <td data-label="Timed Out" class="n">${num(s.timeout_count)}</td>
  <td data-label="Messages" class="n">${num(s.message_count)}</td>
  <td data-label="Clients" class="n">${num(s.client_count)}</td>`;
const queueHead = `<th class="n">Depth</th><th class="n">Memory + Disk</th><th class="n">In-Flight</th><th class="n">Deferred</th>
  <th class="n">Requeued</th><th class="n">Timed Out</th><th class="n">Messages</th><th class="n">Clients</th>`;

export async function topicPage({ topic }) {
  const t = await get(`/api/topics/${enc(topic)}`);
  const values = record(`t:${topic}`, t.message_rate_1m);
  const nodes = (t.nodes || []).map((n) => `<tr>
    <td data-label="Node"><a href="${link(`/nodes/${enc(n.node)}`)}" data-nav>${esc(n.hostname)} <span class="muted">${esc(n.node)}</span></a>${n.paused ? ' <span class="tag">paused</span>' : ""}</td>
    <td data-label="Depth" class="n">${num(n.depth)}</td>
    <td data-label="Memory + Disk" class="n">${num(n.memory_depth)} + ${num(n.backend_depth)}</td>
    <td data-label="Messages" class="n">${num(n.message_count)}</td>
    <td data-label="Channels" class="n">${num(n.channels.length)}</td>
    <td data-label="Rate/s" class="n">${rate(n.message_rate_1m)}</td>
    <td data-label="E2E">${esc(latency(n.e2e_processing_latency))}</td>
    <td>${button("tombstone", "Tombstone", { topic, node: n.node }, true)}</td></tr>`);
  const channels = t.channels.map((ch) => {
    const v = record(`c:${topic}/${ch.channel_name}`, ch.message_rate_1m);
    return `<tr data-channel="${esc(ch.channel_name)}">
      <td data-label="Channel"><a href="${link(`/topics/${enc(topic)}/${enc(ch.channel_name)}`)}" data-nav>${esc(ch.channel_name)}</a>${ch.paused ? ' <span class="tag">paused</span>' : ""}</td>
      ${queueCells(ch)}
      <td data-label="Rate/s" class="n rate">${rate(ch.message_rate_1m)} ${sparkline(v)}</td>
      <td data-label="E2E">${esc(latency(ch.e2e_processing_latency))}</td></tr>`;
  });
  return `${warning(t.message)}
    <h1><a href="${link("/")}" data-nav>Streams</a> / ${esc(topic)} ${t.paused ? '<span class="tag">paused</span>' : ""}</h1>
    <div class="actions">
      ${button(t.paused ? "unpause" : "pause", t.paused ? "Unpause Topic" : "Pause Topic", { topic })}
      ${button("empty", "Empty Queue", { topic }, true)}
      ${button("delete", "Delete Topic", { topic }, true)}
      <a class="btn" href="#tail" data-tail="${esc(topic)}">Live tail</a>
    </div>
    <div class="cards">
      <div class="card"><b id="topic-depth">${num(t.depth)}</b><span>depth</span></div>
      <div class="card"><b id="topic-messages">${num(t.message_count)}</b><span>messages</span></div>
      <div class="card"><b>${rate(t.message_rate_1m)}</b><span>msgs/s (1m)</span>${sparkline(values)}</div>
      ${latency(t.e2e_processing_latency) ? `<div class="card"><b>${esc(latency(t.e2e_processing_latency))}</b><span>e2e latency</span></div>` : ""}
    </div>
    ${chartsSection(`/api/history/topics/${enc(topic)}`)}
    <h2>Topic message queue on each node</h2>
    <table class="grid" id="topic-nodes"><thead><tr><th>Node</th><th class="n">Depth</th><th class="n">Memory + Disk</th>
      <th class="n">Messages</th><th class="n">Channels</th><th class="n">Rate/s</th><th>E2E</th><th></th></tr></thead>
      <tbody>${nodes.join("")}</tbody></table>
    <h2>Channel message queues</h2>
    ${t.channels.length === 0 ? '<p class="muted">No channels.</p>' : `<table class="grid" id="channels"><thead><tr><th>Channel</th>${queueHead}<th class="n">Rate/s</th><th>E2E</th></tr></thead>
      <tbody>${channels.join("")}</tbody></table>`}
    <section id="tail" hidden><h2>Live tail</h2><ol class="tail" id="tail-messages"></ol></section>`;
}

const flags = (c) => [c.tls && "TLS", c.snappy && "snappy", c.deflate && "deflate", c.authed && "authed"].filter(Boolean).join(" ");

export async function channelPage({ topic, channel }) {
  const ch = await get(`/api/topics/${enc(topic)}/${enc(channel)}`);
  const head = `<h1><a href="${link("/")}" data-nav>Streams</a> / <a href="${link(`/topics/${enc(topic)}`)}" data-nav>${esc(topic)}</a> / ${esc(channel)}
    ${ch.paused ? '<span class="tag">paused</span>' : ""}</h1>`;
  if (ch.channel_name === undefined) return `${warning(ch.message)}${head}<p class="alert">Channel not found on any node.</p>`;
  const values = record(`c:${topic}/${channel}`, ch.message_rate_1m);
  const nodes = (ch.nodes || []).map((n) => `<tr><td data-label="Node"><a href="${link(`/nodes/${enc(n.node)}`)}" data-nav>${esc(n.hostname)} <span class="muted">${esc(n.node)}</span></a>${n.paused ? ' <span class="tag">paused</span>' : ""}</td>${queueCells(n)}</tr>`);
  const clients = ch.clients.map((c) => `<tr>
    <td data-label="Client">${esc(c.hostname)} <span class="muted">${esc(c.remote_address)}</span></td>
    <td data-label="Node">${esc(c.node)}</td>
    <td data-label="User-Agent">${esc(c.user_agent)}</td>
    <td data-label="Version">${esc(c.version)}</td>
    <td data-label="Flags">${esc(flags(c))}</td>
    <td data-label="Ready" class="n">${num(c.ready_count)}</td>
    <td data-label="In-Flight" class="n">${num(c.in_flight_count)}</td>
    <td data-label="Finished" class="n">${num(c.finish_count)}</td>
    <td data-label="Requeued" class="n">${num(c.requeue_count)}</td>
    <td data-label="Messages" class="n">${num(c.message_count)}</td>
    <td data-label="Connected">${duration(c.connected)}</td></tr>`);
  return `${warning(ch.message)}${head}
    <div class="actions">
      ${button(ch.paused ? "unpause" : "pause", ch.paused ? "Unpause Channel" : "Pause Channel", { topic, channel })}
      ${button("empty", "Empty Queue", { topic, channel }, true)}
      ${button("delete", "Delete Channel", { topic, channel }, true)}
    </div>
    <div class="cards">
      <div class="card"><b id="channel-depth">${num(ch.depth)}</b><span>depth</span></div>
      <div class="card"><b>${num(ch.in_flight_count)}</b><span>in flight</span></div>
      <div class="card"><b>${rate(ch.message_rate_1m)}</b><span>msgs/s (1m)</span>${sparkline(values)}</div>
      ${latency(ch.e2e_processing_latency) ? `<div class="card"><b>${esc(latency(ch.e2e_processing_latency))}</b><span>e2e latency</span></div>` : ""}
    </div>
    ${chartsSection(`/api/history/topics/${enc(topic)}/${enc(channel)}`)}
    <h2>Channel message queue on each node</h2>
    <table class="grid" id="channel-nodes"><thead><tr><th>Node</th>${queueHead}</tr></thead><tbody>${nodes.join("")}</tbody></table>
    <h2>Clients</h2>
    ${clients.length === 0 ? '<p class="muted">No clients connected.</p>' : `<table class="grid" id="clients"><thead><tr><th>Client</th><th>Node</th><th>User-Agent</th><th>Version</th>
      <th>Flags</th><th class="n">Ready</th><th class="n">In-Flight</th><th class="n">Finished</th><th class="n">Requeued</th><th class="n">Messages</th><th>Connected</th></tr></thead>
      <tbody>${clients.join("")}</tbody></table>`}`;
}
