// Webhooks (where the server has /api/webhooks): endpoints, their events, deliveries, a test event.
import { call, hasRoute } from "../api.js";
import { announce, badge, confirmDialog, h, mount, when } from "../dom.js";

const EVENTS = ["contest.created", "contest.updated", "contest.cancelled", "contest.starting_soon",
  "source.health_changed", "student.inactive", "job.failed", "raida.quorum_lost"];
const list = (body) => (Array.isArray(body) ? body : body.webhooks || body.items || []);

export async function render(root) {
  const body = (await hasRoute("/api/webhooks")) ? await call("/api/webhooks") : null;
  if (body === null) {
    mount(root, h("h1", { text: "Webhooks" }), h("p", { class: "muted", text: "Webhooks are not available on this server." }));
    return;
  }
  const tbody = h("tbody");
  const deliveries = h("section", { "aria-live": "polite" });
  const url = h("input", { id: "w-url", type: "url", required: true, placeholder: "https://example.org/hook" });
  const form = h("form", { class: "card" }, h("h2", { text: "Add an endpoint" }),
    h("div", { class: "field" }, h("label", { for: "w-url", text: "URL" }), url),
    h("fieldset", {}, h("legend", { text: "Events" }), EVENTS.map((e) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "events", value: e, checked: true }), ` ${e} `))),
    h("div", { class: "actions" }, h("button", { type: "submit", text: "Add" })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const created = await call("/api/webhooks", { method: "POST", body: { url: url.value, events: new FormData(form).getAll("events") } });
      announce(created.secret ? `Endpoint added. Its signing secret (shown once): ${created.secret}` : "Endpoint added.");
      form.reset();
      await reload();
    } catch (exc) { announce(exc.message, "bad"); }
  });
  mount(root, h("h1", { text: "Webhooks" }),
    h("div", { class: "table-wrap" }, h("table", { id: "webhooks" },
      h("thead", {}, h("tr", {}, ["URL", "Events", "State", "Actions"].map((t) => h("th", { scope: "col", text: t })))), tbody)),
    deliveries, form);

  function draw(items) {
    mount(tbody, items.map((w) => {
      const id = w.id || w._id;
      const path = `/api/webhooks/${encodeURIComponent(id)}`;
      return h("tr", { "data-webhook": id },
        h("td", {}, h("code", { text: w.url })), h("td", { text: (w.events || []).join(", ") }),
        h("td", {}, w.disabled || w.enabled === false ? badge(w.disabled_reason || "disabled", "bad") : badge("active", "ok")),
        h("td", {},
          h("button", { type: "button", class: "secondary small", text: "Deliveries", onclick: () => showDeliveries(w, path) }), " ",
          h("button", { type: "button", class: "secondary small", text: "Send test", onclick: async () => {
            try { await call(`${path}/test`, { method: "POST" }); announce("Test event sent."); } catch (exc) { announce(exc.message, "bad"); }
          } }), " ",
          h("button", { type: "button", class: "secondary small", text: "Delete", onclick: async () => {
            if (!(await confirmDialog(`Delete the endpoint ${w.url}?`))) return;
            try { await call(path, { method: "DELETE" }); await reload(); } catch (exc) { announce(exc.message, "bad"); }
          } })));
    }));
    if (!items.length) mount(tbody, h("tr", {}, h("td", { colspan: 4, class: "muted", text: "No endpoints yet." })));
  }
  async function showDeliveries(w, path) {
    const log = await call(`${path}/deliveries`);
    const rows = Array.isArray(log) ? log : log.deliveries || [];
    if (!rows.length) {
      mount(deliveries, h("h2", { text: `Deliveries to ${w.url}` }), h("p", { class: "muted", text: "No deliveries yet." }));
      return;
    }
    const cells = (d) => [
      h("td", {}, when(d.created_at || d.createdAt)), h("td", { text: d.event || d.type || "" }),
      h("td", { text: String(d.status ?? "") }), h("td", { text: String(d.attempts ?? "") }),
      h("td", { text: d.latency_ms !== undefined ? `${d.latency_ms} ms` : "" }),
      h("td", { class: "error", text: d.last_error || d.error || "" })];
    const head = ["When", "Event", "Status", "Attempts", "Latency", "Last error"].map((t) => h("th", { scope: "col", text: t }));
    mount(deliveries, h("h2", { text: `Deliveries to ${w.url}` }), h("div", { class: "table-wrap" },
      h("table", {}, h("thead", {}, h("tr", {}, head)), h("tbody", {}, rows.map((d) => h("tr", {}, cells(d)))))));
  }
  async function reload() { draw(list(await call("/api/webhooks"))); }
  draw(list(body));
}
