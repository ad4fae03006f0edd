// Nodes: every nsqd, and one nsqd with its topics and channels.
import { enc, get, link } from "./api.js";
import { chartsSection } from "./charts.js";
import { esc, num, rate } from "./format.js";
import { warning } from "./pages-topics.js";

export async function nodesPage() {
  const data = await get("/api/nodes");
  const rows = data.nodes.map((n) => {
    const addr = `${n.broadcast_address}:${n.http_port}`;
    const topics = n.topics.map((t) => `<a class="tag${t.tombstoned ? " dead" : ""}" href="${link(`/topics/${enc(t.topic)}`)}" data-nav>${esc(t.topic)}</a>`);
    return `<tr><td data-label="Hostname"><a href="${link(`/nodes/${enc(addr)}`)}" data-nav>${esc(n.hostname)}</a></td>
      <td data-label="Broadcast">${esc(n.broadcast_address)}</td>
      <td data-label="TCP" class="n">${n.tcp_port}</td><td data-label="HTTP" class="n">${n.http_port}</td>
      <td data-label="Version">${esc(n.version)}${n.out_of_date ? ' <span class="tag dead">out of date</span>' : ""}</td>
      <td data-label="Lookupd conns">${esc(n.remote_addresses.join(", "))}</td>
      <td data-label="Topics">${topics.join(" ")}</td></tr>`;
  });
  return `${warning(data.message)}<h1>Nodes</h1>
    <table class="grid" id="nodes"><thead><tr><th>Hostname</th><th>Broadcast address</th><th class="n">TCP</th><th class="n">HTTP</th>
      <th>Version</th><th>Lookupd connections</th><th>Topics</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

export async function nodePage({ node }) {
  const data = await get(`/api/nodes/${enc(node)}`);
  const rows = data.topics.flatMap((t) => [
    `<tr class="topic-row"><td data-label="Topic"><a href="${link(`/topics/${enc(t.topic_name)}`)}" data-nav>${esc(t.topic_name)}</a>${t.paused ? ' <span class="tag">paused</span>' : ""}</td>
      <td data-label="Depth" class="n">${num(t.depth)}</td><td data-label="In-Flight" class="n"></td>
      <td data-label="Messages" class="n">${num(t.message_count)}</td><td data-label="Clients" class="n"></td>
      <td data-label="Rate/s" class="n">${rate(t.message_rate_1m)}</td></tr>`,
    ...t.channels.map((c) => `<tr><td data-label="Channel" class="indent"><a href="${link(`/topics/${enc(t.topic_name)}/${enc(c.channel_name)}`)}" data-nav>${esc(c.channel_name)}</a>${c.paused ? ' <span class="tag">paused</span>' : ""}</td>
      <td data-label="Depth" class="n">${num(c.depth)}</td><td data-label="In-Flight" class="n">${num(c.in_flight_count)}</td>
      <td data-label="Messages" class="n">${num(c.message_count)}</td><td data-label="Clients" class="n">${num(c.client_count)}</td>
      <td data-label="Rate/s" class="n">${rate(c.message_rate_1m)}</td></tr>`),
  ]);
  return `${warning(data.message)}<h1><a href="${link("/nodes")}" data-nav>Nodes</a> / ${esc(node)}</h1>
    <div class="cards"><div class="card"><b id="node-messages">${num(data.total_messages)}</b><span>messages</span></div>
    <div class="card"><b>${num(data.total_clients)}</b><span>clients</span></div><div class="card"><b>${num(data.topics.length)}</b><span>topics</span></div></div>
    ${chartsSection(`/api/history/nodes/${enc(node)}`)}
    <table class="grid" id="node-topics"><thead><tr><th>Topic / channel</th><th class="n">Depth</th><th class="n">In-Flight</th><th class="n">Messages</th>
      <th class="n">Clients</th><th class="n">Rate/s</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}
