// RAIDA: the 25 servers as a grid, QMail servers with the parity choice, the directory search, Sync.
import { call, runJob } from "../api.js";
import { announce, badge, h, mount, when } from "../dom.js";
import { jobProgress } from "../progress.js";

function grid(data) {
  if (!data.count) return h("p", { class: "muted", text: "No RAIDA status yet: sync the network." });
  return h("ul", { class: "raida-grid", id: "raida-grid", "aria-label": `${data.ready} of ${data.count} RAIDA servers ready` },
    data.raida.map((r) => h("li", { class: r.ready ? "ready" : "down", "data-index": r.index,
      title: r.error || r.message || "" },
    h("strong", { text: r.name || `RAIDA${r.index}` }),
    h("span", { text: r.ready ? "ready" : (r.status || "down") }), h("br"),
    h("span", { text: r.latencyMs !== null && r.latencyMs !== undefined ? `${Math.round(r.latencyMs)} ms` : "—" }))));
}

export async function render(root, { signal }) {
  const syncButton = h("button", { type: "button", id: "raida-sync", text: "Sync RAIDA network" });
  const run = h("div", { id: "raida-run", "aria-live": "polite" });
  const gridBox = h("section", { "aria-labelledby": "grid-title" });
  const serversBox = h("section", { "aria-labelledby": "servers-title" });
  const usersBox = h("section", { "aria-labelledby": "users-title" });
  mount(root, h("h1", { text: "RAIDA network" }),
    h("div", { class: "toolbar" }, syncButton, h("span", { class: "muted", text: "Pulls users, QMail servers and the status of the 25 RAIDA servers." })),
    run, gridBox, serversBox, usersBox);

  async function drawGrid() {
    const data = await call("/api/data/raida");
    const checked = data.raida.map((r) => r.checkedAt).filter(Boolean).sort().at(-1);
    mount(gridBox, h("h2", { id: "grid-title" }, "RAIDA servers ", data.count ? badge(`${data.ready} / ${data.count} ready`, data.ready >= 13 ? "ok" : "bad") : null),
      checked ? h("p", { class: "muted" }, "Checked ", when(checked)) : null, grid(data));
  }

  async function drawServers() {
    const [list, parity] = await Promise.all([call("/api/data/servers?include_unavailable=true"), call("/api/admin/servers/parity")]);
    const current = parity.parity_server ? parity.parity_server.server_id : null;
    const status = h("p", { id: "parity-status", "aria-live": "polite" },
      current ? ["Parity server: ", h("strong", { text: current })] : "No parity server is configured.");
    const form = h("form", { id: "parity-form" },
      h("div", { class: "table-wrap" }, h("table", { id: "qmail" },
        h("caption", { text: "Choose the parity server and save" }),
        h("thead", {}, h("tr", {}, ["Parity", "Server", "Type", "Region", "Address", "Uptime", "Ping", "Available"]
          .map((t, i) => h("th", { scope: "col", class: i >= 5 && i < 7 ? "num" : null, text: t })))),
        h("tbody", {}, list.servers.map((sv) => h("tr", { "data-server": sv.server_id },
          h("td", {}, h("input", { type: "radio", name: "server_id", value: sv.server_id, id: `parity-${sv.server_id}`,
            checked: sv.server_id === current, disabled: !sv.is_available, "aria-label": `Use ${sv.server_id} for parity` })),
          h("td", {}, h("label", { for: `parity-${sv.server_id}`, text: sv.server_id }), sv.server_id === current ? [" ", badge("parity", "info")] : null),
          h("td", { text: sv.server_type || "" }), h("td", { text: sv.region || "" }),
          h("td", { class: "hide-narrow", text: `${sv.ip_address || ""}:${sv.port ?? ""}` }),
          h("td", { class: "num", text: sv.percent_uptime !== undefined ? `${sv.percent_uptime}%` : "" }),
          h("td", { class: "num", text: sv.ping_ms !== undefined && sv.ping_ms !== null ? `${sv.ping_ms} ms` : "" }),
          h("td", {}, sv.is_available ? badge("yes", "ok") : badge("no", "bad"))))))),
      h("div", { class: "actions" }, h("button", { type: "submit", id: "parity-save", text: "Use for parity" })));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = new FormData(form).get("server_id");
      if (!chosen) { announce("Choose a server first.", "bad"); return; }
      try {
        const answer = await call("/api/admin/servers/parity", { method: "POST", body: { server_id: chosen } });
        announce(answer.message);
        await drawServers();
      } catch (exc) { announce(exc.message, "bad"); }
    });
    mount(serversBox, h("h2", { id: "servers-title", text: `QMail servers (${list.count})` }), status,
      list.count ? form : h("p", { class: "muted", text: "No QMail servers yet: sync the network." }));
  }

  function drawUsers() {
    const input = h("input", { id: "u-search", type: "search", name: "q", maxlength: 100, autocomplete: "off", placeholder: "name, description or address" });
    const body = h("tbody");
    const status = h("p", { class: "muted", "aria-live": "polite" });
    const more = h("button", { type: "button", class: "secondary", text: "Load more", hidden: true });
    let cursor = null;
    let latest = 0; // only the newest search's answer is shown
    async function load(reset) {
      const mine = ++latest;
      if (reset) cursor = null;
      const q = new URLSearchParams({ limit: "20" });
      if (input.value.trim()) q.set("q", input.value.trim());
      if (cursor) q.set("cursor", cursor);
      try {
        const data = await call(`/api/data/users?${q}`);
        if (mine !== latest) return;
        if (reset) mount(body);
        body.append(...data.users.map((u) => h("tr", {},
          h("td", { text: `${u.first || ""} ${u.last || ""}`.trim() }), h("td", { text: u.address || "" }),
          h("td", { class: "hide-narrow", text: u.description || "" }), h("td", { text: u.class || "" }),
          h("td", { class: "num hide-narrow", text: u.inboxFee ?? "" }))));
        cursor = data.next_cursor;
        more.hidden = !cursor;
        status.textContent = body.children.length ? `${body.children.length} users shown${cursor ? " (more available)" : ""}.` : "No users match.";
      } catch (exc) { status.textContent = exc.message; }
    }
    const form = h("form", { class: "toolbar", role: "search", "aria-label": "Search the directory" },
      h("div", { class: "field grow" }, h("label", { for: "u-search", text: "Search users" }), input),
      h("button", { type: "submit", text: "Search" }));
    form.addEventListener("submit", (event) => { event.preventDefault(); load(true); });
    more.addEventListener("click", () => load(false));
    mount(usersBox, h("h2", { id: "users-title", text: "User directory" }), form, status,
      h("div", { class: "table-wrap" }, h("table", { id: "users" },
        h("thead", {}, h("tr", {}, ["Name", "Address", "Description", "Class", "Inbox fee"].map((t, i) =>
          h("th", { scope: "col", class: i === 2 ? "hide-narrow" : i === 4 ? "num hide-narrow" : null, text: t })))), body)),
      h("div", { class: "actions" }, more));
    return load(true);
  }

  syncButton.addEventListener("click", async () => {
    syncButton.disabled = true;
    const progress = jobProgress("Sync of the RAIDA network");
    mount(run, progress);
    const job = await runJob("/api/admin/sync", { onProgress: progress.update, signal });
    syncButton.disabled = false;
    if (signal.aborted) return;
    const r = job.result || {};
    if (job.state === "SUCCESS" && r.status !== "error") {
      mount(run, h("div", { class: "card", id: "raida-result" }, h("h3", {}, "Sync ", badge(r.status || "success", "ok")),
        h("dl", {}, [["Users synced", r.users_synced], ["Servers synced", r.servers_synced],
          ["RAIDA ready", `${r.raida_ready ?? "?"} of ${r.raida_servers_synced ?? "?"}`], ["Directory from", r.directory_from],
          ["Rows skipped", r.skipped]].filter(([, v]) => v !== undefined).map(([k, v]) => [h("dt", { text: k }), h("dd", { text: String(v) })]),
        h("dt", { text: "At" }), h("dd", {}, when(r.timestamp)))));
    } else {
      mount(run, h("p", { class: "error", role: "alert", id: "raida-result", text: `RAIDA sync failed: ${job.error || r.message || "unknown error"}` }));
    }
    await Promise.all([drawGrid(), drawServers()]);
  });

  await Promise.all([drawGrid(), drawServers(), drawUsers()]);
}
