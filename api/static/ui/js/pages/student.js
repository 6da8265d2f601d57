// One student: profile, Sync, rating chart, heatmap, solved per rating, 30/90/365-day statistics,
// recent submissions. Statistics and charts come from the stats API where the server has it (a few
// stored aggregates, whatever the number of submissions: the heatmap and the buckets are its last
// 365 days) and the recent submissions from one page of the submissions API; a server without the
// stats API has them computed here from every stored submission (read through the submissions API).
import { call, hasRoute, runJob } from "../api.js";
import { ago, announce, badge, h, mount, when } from "../dom.js";
import { bucketChart, heatmap, ratingChart } from "../charts.js";
import { jobProgress } from "../progress.js";
import { editStudent, isInactive } from "./students.js";

const MAX_PAGES = 10; // 10,000 submissions at most, the heaviest simulated student's whole history

async function allSubmissions(handle, signal, onPage = () => {}) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < MAX_PAGES && !signal.aborted; page++) {
    const data = await call(`/api/students/${encodeURIComponent(handle)}/submissions?limit=1000${cursor ? `&cursor=${cursor}` : ""}`);
    items.push(...data.submissions);
    onPage(items.length);
    cursor = data.next_cursor;
    if (!cursor) return { items, complete: true };
  }
  return { items, complete: !cursor };
}

function perDay(subs) {
  const days = {};
  for (const x of subs) {
    const key = (x.creationTime || new Date(x.creationTimeSeconds * 1000).toISOString()).slice(0, 10);
    const d = (days[key] ||= { total: 0, ok: 0 });
    d.total += 1;
    if (x.verdict === "OK") d.ok += 1;
  }
  return days;
}

function solvedBuckets(subs) {
  const seen = new Set();
  const buckets = {};
  for (const x of subs) {
    const key = x.problemKey || `${x.problem?.contestId}${x.problem?.index}`;
    if (x.verdict !== "OK" || seen.has(key) || !x.problem?.rating) continue;
    seen.add(key);
    const bucket = Math.floor(x.problem.rating / 100) * 100;
    buckets[bucket] = (buckets[bucket] || 0) + 1;
  }
  return buckets;
}

/** The same figures the stats API gives, from submissions in the last `days` days. */
function localStats(subs, contestData, days) {
  const since = Date.now() - days * 86400e3;
  const recent = subs.filter((x) => x.creationTimeSeconds * 1000 >= since);
  const solved = new Map();
  for (const x of recent) if (x.verdict === "OK") solved.set(x.problemKey, x.problem?.rating || null);
  const ratings = [...solved.values()].filter(Boolean);
  const changes = contestData.filter((c) => c.ratingUpdateTimeSeconds * 1000 >= since);
  return {
    "Solved problems": solved.size,
    "Submissions": recent.length,
    "Accepted": recent.filter((x) => x.verdict === "OK").length,
    "Hardest solved": ratings.length ? Math.max(...ratings) : "—",
    "Average rating solved": ratings.length ? Math.round(ratings.reduce((a, b) => a + b, 0) / ratings.length) : "—",
    "Problems per day": Math.round((solved.size / days) * 100) / 100,
    "Rating change": changes.length ? changes.reduce((t, c) => t + c.newRating - c.oldRating, 0) : "—",
  };
}

const label = (key) => key.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

const STAT_LABELS = { solved: "Solved problems", submissions: "Submissions", accepted: "Accepted",
  hardest: "Hardest solved", averageRating: "Average rating solved", problemsPerDay: "Problems per day",
  ratingDelta: "Rating change" };

/** The stats API's figures under the same labels as the local ones (lists feed charts, not this). */
function serverStats(body) {
  const out = {};
  for (const [key, name] of Object.entries(STAT_LABELS)) {
    const value = body[key];
    if (value === undefined) continue;
    if (value && typeof value === "object") out[name] = `${value.problemKey || value.name || ""} (${value.rating})`;
    else out[name] = value === null ? "—" : value;
  }
  for (const [key, value] of Object.entries(body)) { // figures added later show too
    if (!(key in STAT_LABELS) && typeof value === "number" && key !== "days") out[label(key)] = value;
  }
  return out;
}

function verdictBadge(v) {
  return badge((v || "?").toLowerCase().replace(/_/g, " "), v === "OK" ? "ok" : v === "TESTING" ? "info" : "bad");
}

export async function render(root, { args, signal }) {
  const handle = args[0];
  let student = await call(`/api/students/${encodeURIComponent(handle)}`);
  const header = h("div");
  const run = h("div", { id: "student-run" });
  const charts = h("div", { class: "charts" });
  const statsBox = h("section", { class: "card", "aria-labelledby": "stats-title", hidden: true }); // shown once filled
  const recent = h("section", { "aria-labelledby": "recent-title" });
  // Loading the submissions (up to MAX_PAGES pages) takes a while: say so, and say why it failed.
  const activityStatus = h("div", { id: "activity-status" });
  mount(root, h("p", {}, h("a", { href: "#/students", text: "← Students" })), header, run,
    h("h2", { text: "Activity" }), activityStatus, statsBox, charts, recent);

  function drawHeader() {
    const syncButton = h("button", { type: "button", id: "student-sync", text: "Sync now", onclick: sync });
    mount(header, h("div", { class: "card-head" },
      h("h1", { text: `${student.name} (${student.codeforcesHandle})` }),
      isInactive(student) ? badge("inactive", "warn") : badge("active", "ok")),
    h("div", { class: "card" }, h("dl", {},
      h("dt", { text: "Rating" }), h("dd", { id: "student-rating", text: `${student.currRating ?? "—"}${student.rank ? ` (${student.rank})` : ""}` }),
      h("dt", { text: "Max rating" }), h("dd", { text: `${student.maxRating ?? "—"}${student.maxRank ? ` (${student.maxRank})` : ""}` }),
      h("dt", { text: "Email" }), h("dd", { text: student.email }),
      student.phone ? [h("dt", { text: "Phone" }), h("dd", { text: student.phone })] : null,
      h("dt", { text: "Last active" }), h("dd", {}, when(student.lastActiveAt), student.lastActiveAt ? ` (${ago(student.lastActiveAt)})` : ""),
      h("dt", { text: "Last synced" }), h("dd", { id: "student-synced" }, when(student.lastSyncedAt)),
      h("dt", { text: "Submissions" }), h("dd", { text: student.submissions ? `${student.submissions.total ?? "?"} stored` : "none yet" }),
      student.remindersSent !== undefined ? [h("dt", { text: "Reminders sent" }), h("dd", { text: String(student.remindersSent) })] : null),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", text: "Edit", onclick: async () => {
        if (await editStudent(student)) { await reload(); announce("Saved."); }
      } }), syncButton)));
  }

  async function sync(event) {
    const button = event.currentTarget;
    button.disabled = true;
    const progress = jobProgress(`Sync of ${student.codeforcesHandle}`);
    mount(run, progress);
    const job = await runJob(`/api/codeforces/sync/${encodeURIComponent(student.codeforcesHandle)}`, { onProgress: progress.update, signal });
    if (signal.aborted) return;
    button.disabled = false;
    if (job.state === "SUCCESS") {
      progress.done("Synced.");
      await reload();
    } else {
      mount(run, h("p", { class: "error", role: "alert", text: job.error || "Sync failed" }));
    }
  }

  async function reload() {
    student = await call(`/api/students/${encodeURIComponent(student.codeforcesHandle)}`);
    drawHeader();
    await drawActivity();
  }

  function drawRecent(items, complete) {
    mount(recent, h("h2", { id: "recent-title", text: "Recent submissions" }),
      complete ? null : h("p", { class: "muted", text: `Charts use the newest ${items.length} submissions.` }),
      items.length ? h("div", { class: "table-wrap" }, h("table", { id: "recent" },
        h("thead", {}, h("tr", {}, ["When", "Problem", "Rating", "Verdict", "Language"].map((t) => h("th", { scope: "col", text: t })))),
        h("tbody", {}, items.slice(0, 20).map((x) => h("tr", {},
          h("td", {}, when(x.creationTime)),
          h("td", {}, h("a", { href: `https://codeforces.com/contest/${x.contestId}/problem/${x.problem?.index}`, rel: "noopener noreferrer",
            target: "_blank", text: `${x.problemKey} ${x.problem?.name || ""}` })),
          h("td", { class: "num", text: x.problem?.rating ?? "—" }),
          h("td", {}, verdictBadge(x.verdict)),
          h("td", { class: "hide-narrow", text: x.programmingLanguage || "" })))))) : h("p", { class: "muted", text: "No submissions stored yet." }));
  }

  /** Charts and statistics from the stats API (its last 365 days), the newest 20 submissions. */
  async function drawFromServer() {
    const base = `/api/students/${encodeURIComponent(student.codeforcesHandle)}`;
    const [year, page] = await Promise.all([call(`${base}/stats?days=365`), call(`${base}/submissions?limit=20`)]);
    if (signal.aborted) return;
    const days = {};
    for (const d of year.heatmap || []) days[d.date] = { total: d.submissions, ok: d.accepted };
    const buckets = {};
    for (const b of year.solvedByRating || []) buckets[b.rating] = b.count;
    mount(activityStatus);
    statsBox.hidden = false;
    mount(charts, ratingChart(student.contestData || []), bucketChart(buckets, "in the last 365 days"), heatmap(days, new Date()));
    await drawStats([], 30);
    drawRecent(page.submissions, true);
  }

  async function drawActivity() {
    const fromServer = await hasRoute("/api/students/{handle}/stats");
    const loading = h("p", { class: "muted loading", role: "status", text: "Loading submissions…" });
    mount(activityStatus, loading);
    for (const box of [statsBox, charts, recent]) box.setAttribute("aria-busy", "true");
    let loaded;
    try {
      if (fromServer) { await drawFromServer(); return; }
      loaded = await allSubmissions(student.codeforcesHandle, signal, (n) => { loading.textContent = `Loading submissions… (${n} so far)`; });
    } catch (exc) {
      if (signal.aborted) return;
      mount(activityStatus, h("p", { class: "error", role: "alert", text: `Submissions could not be loaded: ${exc.message}` }),
        h("button", { type: "button", class: "secondary small", text: "Try again", onclick: () => drawActivity() }));
      return;
    } finally {
      for (const box of [statsBox, charts, recent]) box.removeAttribute("aria-busy");
    }
    if (signal.aborted) return;
    mount(activityStatus);
    statsBox.hidden = false;
    const { items, complete } = loaded;
    const days = perDay(items);
    const newest = items.length ? new Date(items[0].creationTimeSeconds * 1000) : new Date();
    const end = newest > new Date() ? newest : (Date.now() - newest.getTime() < 365 * 86400e3 ? new Date() : newest);
    mount(charts, ratingChart(student.contestData || []), bucketChart(solvedBuckets(items)), heatmap(days, end));
    await drawStats(items, 30);
    drawRecent(items, complete);
  }

  async function drawStats(items, days, focus = false) {
    const buttons = [30, 90, 365].map((d) => h("button", { type: "button", "aria-pressed": String(d === days), text: `${d} days`,
      onclick: () => drawStats(items, d, true) }));
    let stats;
    let source;
    if (await hasRoute("/api/students/{handle}/stats")) {
      try {
        stats = serverStats(await call(`/api/students/${encodeURIComponent(student.codeforcesHandle)}/stats?days=${days}`));
        source = "from the statistics API";
      } catch { stats = null; }
    }
    if (!stats) {
      stats = localStats(items, student.contestData || [], days);
      source = "computed from the stored submissions";
    }
    mount(statsBox, h("div", { class: "card-head" }, h("h3", { id: "stats-title", text: `Last ${days} days` }),
      h("div", { class: "segmented", role: "group", "aria-label": "Statistics window" }, buttons)),
    h("dl", { class: "stats", id: "stats", "data-days": days },
      Object.entries(stats).map(([k, v]) => h("div", {}, h("dt", { text: k }), h("dd", { text: String(v) })))),
    h("p", { class: "muted", text: `Figures ${source}.` }));
    if (focus) statsBox.querySelector(`[aria-pressed="true"]`).focus({ preventScroll: true });
  }

  drawHeader();
  await drawActivity();
}
