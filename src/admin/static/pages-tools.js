// The message counter and the lookup view (topics known to the lookupds, creation).
import { enc, get, link } from "./api.js";
import { esc, num } from "./format.js";
import { warning } from "./pages-topics.js";

let previous = null;

export async function counterPage() {
  const data = await get("/api/counter");
  const total = Object.values(data.stats).reduce((n, s) => n + s.message_count, 0);
  const now = Date.now();
  const perSecond = previous && now > previous.at ? Math.max(0, ((total - previous.total) * 1000) / (now - previous.at)) : 0;
  previous = { total, at: now };
  return `${warning(data.message)}<h1>Messages processed</h1>
    <div class="counter"><b id="counter-total">${num(total)}</b><span>messages processed by every channel on every node</span>
    <span class="muted" id="counter-rate">${num(Math.round(perSecond))} msgs/s</span></div>`;
}

export async function lookupPage() {
  const { lookupds, isAdmin } = window.NSQADMIN;
  if (lookupds.length === 0) return `<h1>Lookup</h1><p class="alert">nsqadmin was started with --nsqd-http-address: there are no nsqlookupds to show.</p>`;
  const [all, inactive] = await Promise.all([get("/api/topics"), get("/api/topics?inactive=true")]);
  const rows = Object.entries(inactive.topics).map(([t, channels]) => `<li><a href="${link(`/topics/${enc(t)}`)}" data-nav>${esc(t)}</a>
    ${channels.map((c) => `<span class="tag">${esc(c)}</span>`).join(" ")}</li>`);
  return `${warning(all.message)}<h1>Lookup</h1>
    <p class="muted">nsqlookupds: ${lookupds.map(esc).join(", ")} — ${num(all.topics.length)} topics registered.</p>
    <h2>Topics without producers</h2>${rows.length ? `<ul id="inactive">${rows.join("")}</ul>` : '<p class="muted">None.</p>'}
    ${isAdmin ? `<h2>Create topic / channel</h2>
    <form id="create" class="create"><input name="topic" placeholder="topic" required pattern="[.a-zA-Z0-9_-]+(#ephemeral)?">
      <input name="channel" placeholder="channel (optional)"><button class="btn" type="submit">Create</button></form>
    <p class="muted">Created in the nsqlookupds only: nsqds create them when they are first published to or consumed from.</p>` : ""}`;
}
