// Jobs: history with kind, trigger, state, progress, duration and error; retry; a link to Flower.
import { call } from "../api.js";
import { announce, duration, h, mount, when } from "../dom.js";
import { isPartial, itemFailures, jobErrors, stateBadge } from "../outcome.js";

const KINDS = ["contests.sync_all", "contests.platform", "students.sync", "students.sync_all", "raida.sync", "ping"];
let flowerUrl; // from /ui/config.json, once

function seconds(job) {
  if (!job.started_at && !job.created_at) return null;
  const start = new Date(job.started_at || job.created_at).getTime();
  const end = job.finished_at ? new Date(job.finished_at).getTime() : Date.now();
  return (end - start) / 1000;
}

function progressText(job) {
  const p = job.progress;
  if (!p || !p.total) return "";
  return `${p.done} / ${p.total}${p.current && !job.finished_at ? ` (${p.current})` : ""}`;
}

function summary(job) {
  const params = job.params && Object.keys(job.params).length
    ? Object.entries(job.params).map(([k, v]) => `${k}=${v}`).join(", ") : "";
  return params;
}

export async function render(root, { signal }) {
  if (flowerUrl === undefined) flowerUrl = (await call("/ui/config.json").catch(() => ({}))).flowerUrl || null;
  const kind = h("select", { id: "j-kind" }, h("option", { value: "", text: "All kinds" }), KINDS.map((k) => h("option", { value: k, text: k })));
  const body = h("tbody");
  const status = h("p", { class: "muted", "aria-live": "polite" });
  mount(root, h("h1", { text: "Jobs" }),
    h("div", { class: "toolbar" }, h("div", { class: "field" }, h("label", { for: "j-kind", text: "Kind" }), kind),
      h("button", { type: "button", class: "secondary", text: "Refresh", onclick: () => load() }),
      flowerUrl ? h("a", { href: flowerUrl, class: "button secondary", target: "_blank", rel: "noopener", text: "Open Flower" })
        : h("span", { class: "muted", text: "Flower link: set SYNCQ_FLOWER_URL to show it." })),
    status,
    h("div", { class: "table-wrap" }, h("table", { id: "jobs" }, h("caption", { class: "sr-only", text: "Recent jobs, newest first" }),
      h("thead", {}, h("tr", {}, ["Created", "Kind", "Trigger", "State", "Progress", "Duration", "Error", "Actions"]
        .map((t, i) => h("th", { scope: "col", class: i === 2 || i === 5 ? "hide-narrow" : null, text: t })))), body)));

  function row(job) {
    const finished = job.state === "SUCCESS" || job.state === "FAILURE";
    const actions = h("td", {},
      finished ? h("button", { type: "button", class: "secondary small", text: "Retry", "aria-label": `Retry job ${job.job_id}`,
        onclick: async (event) => {
          event.currentTarget.disabled = true;
          try {
            const answer = await call(`/jobs/${encodeURIComponent(job.job_id)}/retry`, { method: "POST", headers: { Prefer: "respond-async" } });
            announce(`Retry queued as job ${answer.job_id || ""}.`);
          } catch (exc) { announce(exc.message, "bad"); }
          await load();
        } }) : null, " ",
      flowerUrl ? h("a", { href: `${flowerUrl.replace(/\/$/, "")}/task/${encodeURIComponent(job.job_id)}`, target: "_blank", rel: "noopener",
        text: "Flower", "aria-label": `Job ${job.job_id} in Flower` }) : null);
    const errors = jobErrors(job);
    const items = itemFailures(job);
    const details = h("details", {}, h("summary", { text: job.job_id.slice(0, 8), "aria-label": `Details of job ${job.job_id}` }),
      errors.length ? h("ul", { class: "job-errors error" }, errors.map((e) => h("li", { text: e }))) : null,
      items.length ? h("ul", { class: "job-errors muted", "aria-label": "Items that failed" },
        items.slice(0, 20).map((e) => h("li", { text: e })), items.length > 20 ? h("li", { text: `… ${items.length - 20} more` }) : null) : null,
      h("pre", { class: "json", text: JSON.stringify({ params: job.params, result: job.result, retry_of: job.retry_of }, null, 2).slice(0, 4000) }));
    return h("tr", { "data-job": job.job_id, "data-state": job.state, "data-outcome": isPartial(job) ? "partial" : null },
      h("td", {}, when(job.created_at), details),
      h("td", {}, h("code", { text: job.kind }), summary(job) ? h("div", { class: "muted", text: summary(job) }) : null,
        job.retry_of ? h("div", { class: "muted", text: `retry of ${job.retry_of.slice(0, 8)}` }) : null),
      h("td", { class: "hide-narrow", text: job.trigger || "" }),
      h("td", { "data-field": "state" }, stateBadge(job)),
      h("td", { text: progressText(job) }),
      h("td", { class: "hide-narrow", text: duration(seconds(job)) }),
      h("td", { class: "error", "data-field": "error" }, errors.map((e, i) => [i ? h("br") : null, e])),
      actions);
  }

  let timer = null;
  async function load() {
    clearTimeout(timer);
    const q = new URLSearchParams({ limit: "100" });
    if (kind.value) q.set("kind", kind.value);
    try {
      const data = await call(`/jobs?${q}`);
      if (signal.aborted) return;
      mount(body, data.jobs.map(row));
      const running = data.jobs.filter((j) => j.state !== "SUCCESS" && j.state !== "FAILURE").length;
      status.textContent = `${data.count} jobs${running ? `, ${running} running (refreshing)` : ""}.`;
      if (running) timer = setTimeout(load, 2000); // live while anything runs
    } catch (exc) { status.textContent = exc.message; }
  }
  signal.addEventListener("abort", () => clearTimeout(timer));
  kind.addEventListener("change", () => load());
  await load();
}
