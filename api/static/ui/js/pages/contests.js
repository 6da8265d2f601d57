// Contests: filters (platform, phase, dates), local times with UTC on hover, the calendar feed link.
// Pages are the API's default size, so the page every visitor asks for is the one the server has
// built already (and answers 304 to a browser that has it).
import { call, hasRoute } from "../api.js";
import { badge, duration, h, mount, when } from "../dom.js";

const PHASE_BADGE = { UPCOMING: "info", RUNNING: "ok", FINISHED: "muted", CANCELLED: "bad" };

function field(id, label, control) {
  return h("div", { class: "field" }, h("label", { for: id, text: label }), control);
}

function row(c) {
  const cancelled = c.phase === "CANCELLED" || c.cancelled === true || c.status === "CANCELLED";
  const phase = cancelled ? "CANCELLED" : c.phase;
  return h("tr", { class: cancelled ? "cancelled" : null, "data-contest": `${c.platform}/${c.platformId}` },
    h("td", { class: "name" }, c.url ? h("a", { href: c.url, rel: "noopener noreferrer", target: "_blank", text: c.name,
      "aria-label": cancelled ? `${c.name} (cancelled)` : null }) : c.name),
    h("td", { text: c.platform }),
    h("td", {}, when(c.startTime, "not announced")),
    h("td", { class: "hide-narrow", text: duration(c.durationSeconds) }),
    h("td", {}, badge(phase.toLowerCase(), PHASE_BADGE[phase] || "muted")));
}

export async function render(root, { signal }) {
  // Every registered platform (built-in, clist.by resources, plugins), as `/platforms` lists them.
  const listed = (await call("/platforms")).platforms;
  const platforms = listed.map((p) => p.platform);
  const hosts = Object.fromEntries(listed.map((p) => [p.platform, p.host]));
  const params = new URLSearchParams(location.hash.split("?")[1] || "phase=UPCOMING");
  const form = h("form", { class: "toolbar", role: "search", "aria-label": "Filter contests" },
    field("f-platform", "Platform", h("select", { id: "f-platform", name: "platform" },
      h("option", { value: "", text: "All" }), platforms.map((p) => h("option", { value: p, text: hosts[p] ? `${p} (${hosts[p]})` : p, selected: params.get("platform") === p })))),
    field("f-phase", "Phase", h("select", { id: "f-phase", name: "phase" },
      h("option", { value: "", text: "Any" }), ["UPCOMING", "RUNNING", "FINISHED"].map((p) =>
        h("option", { value: p, text: p.toLowerCase(), selected: params.get("phase") === p })))),
    field("f-from", "Starting from", h("input", { id: "f-from", name: "from", type: "date", value: params.get("from") || "" })),
    field("f-to", "Starting before", h("input", { id: "f-to", name: "to", type: "date", value: params.get("to") || "" })),
    h("button", { type: "submit", text: "Show" }));
  const feed = h("p", { id: "calendar", class: "muted" });
  const body = h("tbody");
  const status = h("p", { class: "muted", id: "contests-status", "aria-live": "polite" });
  const more = h("button", { type: "button", class: "secondary", text: "Load more", hidden: true });
  mount(root, h("h1", { text: "Contests" }), form, feed, status,
    h("div", { class: "table-wrap" }, h("table", { id: "contests" },
      h("caption", { class: "sr-only", text: "Contests by start time" }),
      h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Contest" }), h("th", { scope: "col", text: "Platform" }),
        h("th", { scope: "col", text: "Starts (your time)" }), h("th", { scope: "col", class: "hide-narrow", text: "Duration" }),
        h("th", { scope: "col", text: "Phase" }))), body)),
    h("div", { class: "actions" }, more));
  const feedAvailable = await hasRoute("/contests.ics");
  let cursor = null;
  let latest = 0; // only the newest request's answer is shown (filters may change mid-load)

  function query() {
    const q = new URLSearchParams();
    const data = new FormData(form);
    if (data.get("platform")) q.set("platform", data.get("platform"));
    if (data.get("phase")) q.set("phase", data.get("phase"));
    // Dates are the viewer's days: midnight local time, sent as UTC instants.
    if (data.get("from")) q.set("from", new Date(`${data.get("from")}T00:00`).toISOString());
    if (data.get("to")) q.set("to", new Date(`${data.get("to")}T00:00`).toISOString());
    return q;
  }

  function showFeed(q) {
    if (!feedAvailable) { mount(feed, "Calendar feed: not available on this server."); return; }
    const f = new URLSearchParams();
    for (const key of ["platform", "phase"]) if (q.get(key)) f.set(key, q.get(key));
    const path = `/contests.ics${f.toString() ? `?${f}` : ""}`;
    const https = new URL(path, location.href);
    const webcal = `webcal://${https.host}${path}`;
    const wider = new URL(`${path}${f.toString() ? "&" : "?"}days=365`, location.href);
    mount(feed, "Subscribe to these contests in your calendar: ",
      h("a", { href: webcal, id: "calendar-link", text: "webcal" }), " · ",
      h("a", { href: https.href, text: "download .ics" }),
      " (what ended in the last 30 days and everything to come; ",
      h("a", { href: wider.href, text: "the last year" }), ")");
  }

  async function load(reset) {
    const q = query();
    const mine = ++latest;
    if (reset) cursor = null;
    if (cursor) q.set("cursor", cursor);
    status.textContent = "Loading…";
    try {
      const data = await call(`/contests?${q}`);
      if (signal.aborted || mine !== latest) return;
      if (reset) mount(body);
      body.append(...data.contests.map(row));
      cursor = data.next_cursor;
      more.hidden = !cursor;
      status.textContent = `${body.children.length} contests shown${cursor ? " (more available)" : ""}.`;
      if (!body.children.length) status.textContent = "No contests match these filters.";
    } catch (exc) {
      status.textContent = "";
      mount(status, h("span", { class: "error", role: "alert", text: exc.message }));
    }
    showFeed(q);
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); load(true); });
  more.addEventListener("click", () => load(false));
  await load(true);
}
