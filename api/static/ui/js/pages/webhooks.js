// Webhooks (where the server has /api/webhooks): endpoints and their events, enable or disable,
// the delivery log, a test event, add and delete.
import { call, hasRoute } from "../api.js";
import { announce, badge, confirmDialog, h, mount, when } from "../dom.js";

const DEFAULT_EVENTS = ["contest.created", "contest.updated", "contest.cancelled", "contest.starting_soon",
  "source.health_changed", "student.inactive", "job.failed", "raida.quorum_lost"];

export async function render(root, { signal }) {
  if (!(await hasRoute("/api/webhooks"))) {
    mount(root, h("h1", { text: "Webhooks" }), h("p", { class: "muted", text: "Webhooks are not available on this server." }));
    return;
  }
  const tbody = h("tbody");
  const deliveries = h("section", { "aria-live": "polite" });
  const secretBox = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", "aria-labelledby": "w-add" });
  mount(root, h("h1", { text: "Webhooks" }), secretBox,
    h("div", { class: "table-wrap" }, h("table", { id: "webhooks" },
      h("thead", {}, h("tr", {}, ["URL", "Events", "State", "Last error", "Actions"].map((t) => h("th", { scope: "col", text: t })))), tbody)),
    deliveries, form);

  function drawForm(events) {
    const url = h("input", { id: "w-url", type: "url", required: true, placeholder: "https://example.org/hook" });
    mount(form, h("h2", { id: "w-add", text: "Add an endpoint" }),
      h("div", { class: "field" }, h("label", { for: "w-url", text: "URL" }), url),
      h("fieldset", {}, h("legend", { text: "Events" }), events.map((e) => h("label", { class: "check" },
        h("input", { type: "checkbox", name: "events", value: e, defaultChecked: true }), ` ${e} `))),
      h("div", { class: "actions" }, h("button", { type: "submit", text: "Add" })));
    form.onsubmit = async (event) => {
      event.preventDefault();
      try {
        const created = await call("/api/webhooks", { method: "POST", body: { url: url.value, events: new FormData(form).getAll("events") } });
        mount(secretBox, h("p", { class: "card" }, "Endpoint added. Its signing secret (keep it; verify signatures with it): ",
          h("code", { text: created.secret || "(not shown)" })));
        form.reset();
        await reload();
      } catch (exc) { announce(exc.message, "bad"); }
    };
  }

  async function showDeliveries(w, path) {
    const log = await call(`${path}/deliveries`);
    const rows = Array.isArray(log) ? log : log.deliveries || [];
    if (!rows.length) {
      mount(deliveries, h("h2", { text: `Deliveries to ${w.url}` }), h("p", { class: "muted", text: "No deliveries yet." }));
      return;
    }
    const cells = (d) => [
      h("td", {}, when(d.createdAt)), h("td", { text: d.type || "" }),
      h("td", {}, badge(d.status || "", d.status === "delivered" ? "ok" : d.status === "failed" ? "bad" : "info"),
        d.statusCode ? ` ${d.statusCode}` : ""),
      h("td", { class: "num", text: String(d.attempts ?? "") }),
      h("td", { class: "num", text: d.latencyMs !== null && d.latencyMs !== undefined ? `${Math.round(d.latencyMs)} ms` : "" }),
      h("td", { class: "error", text: d.lastError || "" })];
    const head = ["Created", "Event", "Status", "Attempts", "Latency", "Last error"].map((t) => h("th", { scope: "col", text: t }));
    mount(deliveries, h("h2", { text: `Deliveries to ${w.url}` }), h("div", { class: "table-wrap" },
      h("table", { id: "deliveries" }, h("thead", {}, h("tr", {}, head)), h("tbody", {}, rows.map((d) => h("tr", {}, cells(d)))))));
  }

  function draw(items) {
    mount(tbody, items.map((w) => {
      const path = `/api/webhooks/${encodeURIComponent(w.id)}`;
      const act = (text, onclick, cls = "secondary small") => h("button", { type: "button", class: cls, text,
        "aria-label": `${text} ${w.url}`, onclick });
      return h("tr", { "data-webhook": w.id },
        h("td", {}, h("code", { text: w.url }), w.description ? h("div", { class: "muted", text: w.description }) : null),
        h("td", { text: (w.events || []).join(", ") }),
        h("td", {}, w.enabled === false ? badge("disabled", "bad") : w.failingSince ? badge("failing", "warn") : badge("active", "ok"),
          w.disabledReason ? h("div", { class: "muted", text: w.disabledReason }) : null),
        h("td", { class: "error", text: w.lastError || "" }),
        h("td", {},
          act("Deliveries", () => showDeliveries(w, path)), " ",
          act("Send test", async () => {
            try { await call(`${path}/test`, { method: "POST" }); announce("Test event sent."); await showDeliveries(w, path); } catch (exc) { announce(exc.message, "bad"); }
          }), " ",
          act(w.enabled === false ? "Enable" : "Disable", async () => {
            try { await call(path, { method: "PATCH", body: { enabled: w.enabled === false } }); await reload(); } catch (exc) { announce(exc.message, "bad"); }
          }), " ",
          act("Delete", async () => {
            if (!(await confirmDialog(`Delete the endpoint ${w.url}?`))) return;
            try { await call(path, { method: "DELETE" }); await reload(); } catch (exc) { announce(exc.message, "bad"); }
          })));
    }));
    if (!items.length) mount(tbody, h("tr", {}, h("td", { colspan: 5, class: "muted", text: "No endpoints yet." })));
  }

  async function reload() {
    const body = await call("/api/webhooks");
    if (signal.aborted) return body;
    draw(Array.isArray(body) ? body : body.webhooks || []);
    return body;
  }
  const body = await reload();
  drawForm((body && body.events) || DEFAULT_EVENTS);
}
