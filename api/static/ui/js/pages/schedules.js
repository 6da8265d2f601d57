// Schedules (where the server has /api/schedules): each beat entry, enable or disable it, change
// its cron, interval or time zone, run it now.
import { call, hasRoute, runJob } from "../api.js";
import { announce, badge, dialogForm, h, mount, when } from "../dom.js";

const list = (body) => (Array.isArray(body) ? body : body.schedules || []);

function spec(sc) {
  if (sc.interval) return `every ${sc.interval} s`;
  return sc.cron || "";
}

export async function render(root, { signal }) {
  if (!(await hasRoute("/api/schedules"))) {
    mount(root, h("h1", { text: "Schedules" }), h("p", { class: "muted", text: "Schedules are not available on this server." }));
    return;
  }
  const tbody = h("tbody");
  const run = h("div", { "aria-live": "polite" });
  mount(root, h("h1", { text: "Schedules" }),
    h("p", { class: "muted", text: "Changes apply to the running beat at once and survive a restart." }), run,
    h("div", { class: "table-wrap" }, h("table", { id: "schedules" },
      h("thead", {}, h("tr", {}, ["Name", "Task", "When", "Time zone", "Enabled", "Last run", "Next run", "Actions"]
        .map((t, i) => h("th", { scope: "col", class: i === 1 ? "hide-narrow" : null, text: t })))),
      tbody)));

  function draw(items) {
    mount(tbody, items.map((sc) => {
      const name = sc.name;
      const path = `/api/schedules/${encodeURIComponent(name)}`;
      return h("tr", { "data-schedule": name },
        h("th", { scope: "row", text: name }), h("td", { class: "hide-narrow" }, h("code", { text: sc.kind || sc.task || "" })),
        h("td", {}, h("code", { text: spec(sc) })), h("td", { text: sc.timezone || (sc.interval ? "—" : "UTC") }),
        h("td", {}, sc.enabled ? badge("on", "ok") : badge("off", "muted")),
        h("td", {}, when(sc.lastRunAt, "not yet")), h("td", {}, when(sc.nextRunAt, "—")),
        h("td", {},
          h("button", { type: "button", class: "secondary small", text: sc.enabled ? "Disable" : "Enable",
            "aria-label": `${sc.enabled ? "Disable" : "Enable"} ${name}`, onclick: () => change(path, { enabled: !sc.enabled }) }), " ",
          h("button", { type: "button", class: "secondary small", text: "Change", "aria-label": `Change ${name}`, onclick: async () => {
            const fields = [
              { name: "cron", label: "Cron (minute hour day month weekday)", value: sc.cron || "" },
              { name: "interval", label: "Or an interval in seconds", type: "number", value: sc.interval || "" },
              { name: "timezone", label: "Time zone (IANA name)", value: sc.timezone || "UTC" }];
            if (await dialogForm(`Change ${name}`, fields, async (values) => {
              const patch = values.interval ? { interval: Number(values.interval) } : { cron: values.cron, timezone: values.timezone };
              await call(path, { method: "PATCH", body: patch });
            })) { announce(`${name} changed.`); await reload(); }
          } }), " ",
          h("button", { type: "button", class: "small", text: "Run now", "aria-label": `Run ${name} now`, onclick: async (event) => {
            const button = event.currentTarget;
            button.disabled = true;
            mount(run, h("p", { class: "muted", text: `${name}: running…` }));
            const job = await runJob(`${path}/run`, { signal });
            button.disabled = false;
            mount(run, h("p", { class: job.state === "SUCCESS" ? "" : "error", text: `${name}: ${job.state === "SUCCESS" ? "done" : job.error}` }));
            await reload();
          } })));
    }));
  }
  async function change(path, patch) {
    try { await call(path, { method: "PATCH", body: patch }); await reload(); } catch (exc) { announce(exc.message, "bad"); }
  }
  async function reload() { if (!signal.aborted) draw(list(await call("/api/schedules"))); }
  await reload();
}
