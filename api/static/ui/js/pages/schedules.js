// Schedules (where the server has /api/schedules): each beat entry, enable/disable, change, run now.
import { call, hasRoute } from "../api.js";
import { announce, badge, dialogForm, h, mount, when } from "../dom.js";

const list = (body) => (Array.isArray(body) ? body : body.schedules || body.items || []);

export async function render(root) {
  const body = (await hasRoute("/api/schedules")) ? await call("/api/schedules") : null;
  if (body === null) {
    mount(root, h("h1", { text: "Schedules" }), h("p", { class: "muted", text: "Schedules are not available on this server." }));
    return;
  }
  const tbody = h("tbody");
  mount(root, h("h1", { text: "Schedules" }),
    h("div", { class: "table-wrap" }, h("table", { id: "schedules" },
      h("thead", {}, h("tr", {}, ["Name", "Task", "When", "Time zone", "Enabled", "Last run", "Next run", "Actions"].map((t) => h("th", { scope: "col", text: t })))),
      tbody)));

  function draw(items) {
    mount(tbody, items.map((sc) => {
      const name = sc.name;
      const path = `/api/schedules/${encodeURIComponent(name)}`;
      const spec = sc.cron || (sc.interval !== undefined && sc.interval !== null ? `every ${sc.interval} s` : sc.schedule || "");
      return h("tr", { "data-schedule": name },
        h("th", { scope: "row", text: name }), h("td", {}, h("code", { text: sc.task || "" })),
        h("td", { text: typeof spec === "string" ? spec : JSON.stringify(spec) }), h("td", { text: sc.timezone || "UTC" }),
        h("td", {}, sc.enabled === false ? badge("off", "muted") : badge("on", "ok")),
        h("td", {}, when(sc.last_run || sc.lastRun || sc.last_run_at)), h("td", {}, when(sc.next_run || sc.nextRun || sc.next_run_at, "—")),
        h("td", {},
          h("button", { type: "button", class: "secondary small", text: sc.enabled === false ? "Enable" : "Disable",
            onclick: () => change(path, { enabled: sc.enabled === false }) }), " ",
          h("button", { type: "button", class: "secondary small", text: "Change", onclick: async () => {
            const fields = [{ name: "cron", label: "Cron (minute hour day month weekday)", value: sc.cron || "" },
              { name: "timezone", label: "Time zone (IANA name)", value: sc.timezone || "UTC" }];
            if (await dialogForm(`Change ${name}`, fields, async (values) => {
              const patch = { timezone: values.timezone };
              if (values.cron) patch.cron = values.cron;
              await call(path, { method: "PATCH", body: patch });
            })) await reload();
          } }), " ",
          h("button", { type: "button", class: "small", text: "Run now", onclick: async () => {
            try { await call(`${path}/run`, { method: "POST", headers: { Prefer: "respond-async" } }); announce(`${name} started.`); } catch (exc) { announce(exc.message, "bad"); }
          } })));
    }));
  }
  async function change(path, patch) {
    try { await call(path, { method: "PATCH", body: patch }); await reload(); } catch (exc) { announce(exc.message, "bad"); }
  }
  async function reload() { draw(list(await call("/api/schedules"))); }
  draw(list(body));
}
