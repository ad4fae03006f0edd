// The live tail: messages of a topic streamed by nsqadmin as Server-Sent Events.
import { enc, link } from "./api.js";
import { esc } from "./format.js";

let source = null;

export function stopTail() {
  source?.close();
  source = null;
}

export function startTail(topic) {
  stopTail();
  const section = document.getElementById("tail");
  const list = document.getElementById("tail-messages");
  section.hidden = false;
  section.dataset.state = "connecting";
  source = new EventSource(link(`/api/topics/${enc(topic)}/tail`));
  source.addEventListener("ready", () => (section.dataset.state = "live"));
  source.addEventListener("message", (e) => {
    const m = JSON.parse(e.data);
    const item = document.createElement("li");
    item.innerHTML = `<span class="muted">${new Date(m.timestamp).toLocaleTimeString()} ${esc(m.node)}</span> <code>${esc(m.body)}</code>${m.size > m.body.length ? ` <span class="muted">(${m.size} bytes)</span>` : ""}`;
    // the list lives inside the page and is redrawn on refresh: keep it in the document
    (document.getElementById("tail-messages") || list).prepend(item);
  });
  source.addEventListener("failure", (e) => {
    const item = document.createElement("li");
    item.className = "alert";
    item.textContent = JSON.parse(e.data).error;
    list.prepend(item);
  });
}
