// Overview: a card per source (platforms, RAIDA, students) and "Sync all platforms" with live progress.
import { ApiError, call, followJob, hasRoute, isFinished, runJob } from "../api.js";
import { ago, announce, badge, h, mount, when } from "../dom.js";
import { failedUnderThreshold, lastFailure, stateBadge } from "../outcome.js";
import { counts, jobProgress } from "../progress.js";

const HEALTH = { ok: "ok", degraded: "warn", stale: "warn", failing: "bad" };

function healthBadge(source) {
  if (source.health) return badge(source.health, HEALTH[source.health] || "muted", `health: ${source.health}`);
  if (!source.lastAttemptAt) return badge("never synced", "muted");
  const failedLast = source.lastError || (source.lastResult && source.lastResult.error);
  return failedLast ? badge("last sync failed", "bad") : badge("last sync ok", "ok");
}

/** Next to a health that is not `failing` (yet), a failed last sync gets its own badge. */
function failedBadge(health, error) {
  return failedUnderThreshold(health, error) ? [" ", badge("last sync failed", "bad")] : null;
}

function platformCard(p, onSync) {
  const r = p.lastResult || {};
  const error = p.lastError || r.error;
  const button = h("button", { type: "button", class: "secondary small", text: "Sync",
    "aria-label": `Sync ${p.platform}`, onclick: () => onSync(p.platform, button, status) });
  const status = h("div", { class: "card-status" });
  return h("section", { class: "card", "data-source": p.platform, "aria-labelledby": `src-${p.platform}` },
    h("div", { class: "card-head" }, h("h3", { id: `src-${p.platform}`, text: p.platform }),
      h("span", { class: "badges" }, healthBadge(p), failedBadge(p.health, error))),
    p.reason || p.healthReason ? h("p", { class: "muted reason", text: p.reason || p.healthReason }) : null,
    lastFailure(p.health, error, p.consecutiveFailures),
    h("dl", {},
      p.host ? [h("dt", { text: "Site" }), h("dd", { class: "host", text: p.host })] : null,
      h("dt", { text: "Last success" }), h("dd", {}, when(p.lastSyncedAt), p.lastSyncedAt ? ` (${ago(p.lastSyncedAt)})` : ""),
      h("dt", { text: "Last result" }), h("dd", { text: p.lastResult ? counts(r) : "—" }),
      error && !failedUnderThreshold(p.health, error) ? [h("dt", { text: "Error" }), h("dd", { class: "error", text: error })] : null),
    h("div", { class: "actions" }, button), status);
}

/** Health of sources other than platforms, from `GET /health`'s `sources` (where the server has it). */
async function sourceHealth() {
  let body;
  try { body = await call("/health", { anonymous: true }); } catch (exc) { body = exc instanceof ApiError ? exc.body : null; }
  const sources = body && body.sources;
  if (!sources) return {};
  const list = Array.isArray(sources) ? sources : Object.entries(sources).map(([name, v]) => ({ name, ...(typeof v === "object" ? v : { health: v }) }));
  return Object.fromEntries(list.map((x) => [x.name || x.source || x.platform, x]));
}

function healthOf(source, fallback, error = null) {
  if (!source || !source.health) return fallback;
  return h("span", { class: "badges" }, badge(source.health, HEALTH[source.health] || "muted", `health: ${source.health}`),
    failedBadge(source.health, error));
}

/** The error of a finished job that failed (null when it did not). */
function failedJobError(job) {
  if (!job) return null;
  if (job.state === "FAILURE") return job.error || "failed";
  // A RAIDA sync that could not reach the network ends with its error body as the result.
  return job.result && job.result.status === "error" ? job.result.message || "failed" : null;
}

/** Recent events (`GET /events`, where the server has it): newest first. */
async function eventsBox() {
  if (!(await hasRoute("/events"))) return null;
  const body = await call("/events?limit=10");
  const items = Array.isArray(body) ? body : body.events || [];
  return h("section", { "aria-labelledby": "events-title" }, h("h2", { id: "events-title", text: "Recent events" }),
    items.length ? h("ul", { class: "events" }, items.map((e) => {
      const data = e.data || {};
      const change = data.old !== undefined && data.new !== undefined ? `${data.old} → ${data.new}` : data.health || data.state;
      const detail = [data.source || data.platform || data.name || data.handle, change, data.reason || data.error || data.message]
        .filter(Boolean).join(" · ");
      return h("li", {}, when(e.time || e.at || e.created_at || e.createdAt), " ", h("code", { text: e.type || "" }), detail ? ` ${detail}` : "");
    })) : h("p", { class: "muted", text: "No events yet." }));
}

async function raidaCard(health) {
  const [data, jobs] = await Promise.all([call("/api/data/raida"), call("/jobs?kind=raida.sync&limit=1")]);
  const last = jobs.jobs[0];
  const quorum = Math.ceil((data.count || 25) / 2 + 0.5);
  const kind = !data.count ? "muted" : data.ready >= quorum ? "ok" : "bad";
  const source = health.raida;
  const error = failedJobError(last);
  const box = lastFailure(source && source.health, error, source && source.consecutiveFailures);
  return h("section", { class: "card", "data-source": "raida", "aria-labelledby": "src-raida" },
    h("div", { class: "card-head" }, h("h3", { id: "src-raida", text: "RAIDA network" }),
      healthOf(source, badge(data.count ? `${data.ready} of ${data.count} ready` : "never synced", kind), error)),
    source && source.reason ? h("p", { class: "muted reason", text: source.reason }) : null,
    box,
    h("dl", {},
      h("dt", { text: "Last sync" }), h("dd", {}, last ? when(last.finished_at || last.created_at) : "never"),
      h("dt", { text: "State" }), h("dd", { "data-field": "state" }, last ? stateBadge(last) : "—"),
      last && last.error && !box ? [h("dt", { text: "Error" }), h("dd", { class: "error", text: last.error })] : null),
    h("div", { class: "actions" }, h("a", { href: "#/raida", class: "button secondary small", text: "Open RAIDA" })));
}

async function studentsCard(health) {
  const [list, jobs] = await Promise.all([call("/api/students?limit=200"), call("/jobs?kind=students.sync_all&limit=1")]);
  const last = jobs.jobs[0];
  const week = Date.now() - 7 * 86400e3;
  const inactive = list.students.filter((s) => !s.lastActiveAt || new Date(s.lastActiveAt) < week).length;
  const total = `${list.count}${list.next_cursor ? "+" : ""}`;
  const source = health.students;
  const error = failedJobError(last);
  const box = lastFailure(source && source.health, error, source && source.consecutiveFailures);
  return h("section", { class: "card", "data-source": "students", "aria-labelledby": "src-students" },
    h("div", { class: "card-head" }, h("h3", { id: "src-students", text: "Students" }),
      healthOf(source, badge(`${total} tracked`, "info"), error)),
    source && source.reason ? h("p", { class: "muted reason", text: source.reason }) : null,
    box,
    h("dl", {},
      h("dt", { text: "Inactive 7 days" }), h("dd", { text: String(inactive) }),
      h("dt", { text: "Last background sync" }), h("dd", {}, last ? when(last.finished_at || last.created_at) : "never"),
      last ? [h("dt", { text: "State" }), h("dd", { "data-field": "state" }, stateBadge(last))] : null,
      last && last.error && !box ? [h("dt", { text: "Error" }), h("dd", { class: "error", text: last.error })] : null),
    h("div", { class: "actions" }, h("a", { href: "#/students", class: "button secondary small", text: "Open students" })));
}

function resultTable(results) {
  // "unchanged" (stored contests that did not change) is shown where the server counts it.
  const unchanged = Object.values(results).some((r) => r.unchanged !== undefined);
  const rows = Object.entries(results).map(([platform, r]) => {
    const error = r.error || (r.failures && r.failures.length ? r.failures.map((f) => f.error || f.reason).join("; ") : "");
    return h("tr", { "data-platform": platform, class: r.error ? "failed" : null },
      h("th", { scope: "row", text: platform }),
      h("td", { class: "num", "data-field": "synced", text: String(r.synced ?? 0) }),
      h("td", { class: "num", "data-field": "updated", text: String(r.updated ?? 0) }),
      h("td", { class: "num", "data-field": "failed", text: String(r.failed ?? 0) }),
      unchanged ? h("td", { class: "num hide-narrow", "data-field": "unchanged", text: String(r.unchanged ?? 0) }) : null,
      h("td", { "data-field": "summary" }, counts(r), r.error ? [" ", badge("failed", "bad")] : null),
      h("td", { class: "error", "data-field": "error", text: error }));
  });
  return h("div", { class: "table-wrap" }, h("table", { id: "sync-result" },
    h("caption", { text: "Result of the last sync of all platforms" }),
    h("thead", {}, h("tr", {}, ["Platform", "New", "Updated", "Failed", unchanged ? "Unchanged" : null, "Summary", "Error"]
      .filter(Boolean).map((t, i) => h("th", { scope: "col", class: i && i < (unchanged ? 5 : 4) ? "num" : null, text: t })))),
    h("tbody", {}, rows)));
}

export async function render(root, { signal }) {
  const cards = h("div", { class: "cards", id: "sources" });
  const syncButton = h("button", { type: "button", id: "sync-all", text: "Sync all platforms" });
  const live = h("div", { id: "sync-live" });
  const result = h("div", { id: "sync-result-box", "aria-live": "polite" });
  const eventsHolder = h("div");
  mount(root, h("h1", { text: "Overview" }),
    h("div", { class: "toolbar" }, syncButton, h("span", { class: "muted", text: "Fetches every platform's contests, one after another." })),
    live, result, h("h2", { text: "Sources" }), cards, eventsHolder);

  async function refreshCards() {
    const [platforms, health] = await Promise.all([call("/platforms"), sourceHealth()]);
    const extra = await Promise.allSettled([raidaCard(health), studentsCard(health), eventsBox()]);
    if (signal.aborted) return platforms;
    const [raida, students, events] = extra.map((x) => (x.status === "fulfilled" ? x.value : h("p", { class: "error", text: x.reason.message })));
    mount(cards, platforms.platforms.map((p) => platformCard(p, syncOne)), raida, students);
    mount(eventsHolder, events);
    return platforms;
  }

  async function syncOne(platform, button, status) {
    button.disabled = true;
    const progress = jobProgress(`Sync of ${platform}`);
    mount(status, progress);
    const job = await runJob(`/contests/sync/${encodeURIComponent(platform)}`, { onProgress: progress.update, signal });
    const r = job.result || {};
    progress.done(job.state === "SUCCESS" ? counts(r) : `failed: ${job.error}`);
    announce(`${platform}: ${job.state === "SUCCESS" ? counts(r) : job.error}`, r.error || job.error ? "bad" : "info");
    if (!signal.aborted) await refreshCards();
  }

  // Follows a sync-all job: each platform's line moves from waiting to syncing to its counts.
  async function follow(start) {
    syncButton.disabled = true;
    syncButton.setAttribute("aria-busy", "true");
    const names = (await call("/platforms")).platforms.map((p) => p.platform);
    const lines = Object.fromEntries(names.map((n) => [n, h("span", { class: "muted", text: "waiting" })]));
    const progress = jobProgress("Sync of all platforms");
    mount(live, h("div", { class: "card" }, h("h2", { text: "Syncing all platforms" }), progress,
      h("ul", { class: "steps" }, names.map((n) => h("li", { "data-step": n }, h("strong", { text: n }), lines[n])))));
    let lastDone = -1;
    const onProgress = async (job) => {
      progress.update(job);
      const current = job.progress && job.progress.current;
      const done = job.progress ? job.progress.done : 0;
      if (done === lastDone || !job.created_at) {
        if (current && lines[current] && lines[current].dataset.state !== "done") mount(lines[current], badge("syncing", "info"));
        return;
      }
      lastDone = done;
      // A platform whose last attempt is newer than this job was synced by it: show its counts now.
      const since = new Date(job.created_at).getTime();
      for (const p of (await call("/platforms")).platforms) {
        const line = lines[p.platform];
        if (!line) continue;
        const error = p.lastError || (p.lastResult && p.lastResult.error);
        if (p.lastAttemptAt && new Date(p.lastAttemptAt).getTime() >= since) {
          line.dataset.state = "done";
          mount(line, badge(error ? "failed" : "done", error ? "bad" : "ok"), " ", counts(p.lastResult));
        } else if (p.platform === current) {
          mount(line, badge("syncing", "info"));
        }
      }
    };
    const job = await start(onProgress);
    syncButton.disabled = false;
    syncButton.removeAttribute("aria-busy");
    if (signal.aborted) return;
    mount(live);
    if (job.state === "SUCCESS" && job.result && job.result.results) {
      const totals = Object.values(job.result.results).reduce((t, r) => ({ synced: t.synced + (r.synced || 0),
        updated: t.updated + (r.updated || 0), failed: t.failed + (r.failed || 0) }), { synced: 0, updated: 0, failed: 0 });
      mount(result, h("p", { id: "sync-summary", text: `${job.result.message}: ${counts(totals)}.` }), resultTable(job.result.results));
      announce(`Sync of all platforms finished: ${counts(totals)}.`);
    } else {
      mount(result, h("p", { class: "error", role: "alert", text: `Sync of all platforms failed: ${job.error || job.state}` }));
    }
    await refreshCards();
  }

  syncButton.addEventListener("click", () => follow((onProgress) => runJob("/contests/sync/all", { onProgress, signal })));
  await refreshCards();
  // A sync-all already running (started elsewhere) is followed, and the button stays disabled.
  const running = (await call("/jobs?kind=contests.sync_all&limit=1")).jobs[0];
  if (running && !isFinished(running.state)) {
    follow((onProgress) => followJob(running.job_id, { onProgress, signal, first: running }));
  }
}
