// What a job's state alone does not say, and what a source's health alone does not say.
//
// A sync job's state is SUCCESS when the sync ran, yet its result may report failures: a platform
// that failed (`{"failed": 1, "error": "leetcode: …"}`), a sync-all with a failed platform
// (`{"results": {platform: {failed, error?}}}`), items that did not parse (`failed` > 0), students
// that failed (`failed: [{handle, error}]`). Such a job is shown as "success · n failed".
//
// A source's health turns `failing` only after FAILING_AFTER failed syncs in a row (one or two
// leave it as it was), so a card whose last sync failed says so next to the health, with a hint.
import { badge, h } from "./dom.js";

export const FAILING_AFTER = 3; // syncs/health.py: failed syncs in a row before a source is `failing`

const STATE = { SUCCESS: "ok", FAILURE: "bad", RETRY: "warn", PROGRESS: "info", STARTED: "info", PENDING: "muted" };

function prefixed(name, error) {
  const text = String(error);
  return name && !text.toLowerCase().startsWith(`${String(name).toLowerCase()}:`) ? `${name}: ${text}` : text;
}

/** The failures a result reports: `{failed, errors, items}`: failed counts items, platforms or
 *  students; errors are why a platform (or a student) failed; items why single items failed. */
export function resultFailures(result) {
  const out = { failed: 0, errors: [], items: [] };
  if (!result || typeof result !== "object" || Array.isArray(result)) return out;
  const collect = (r, name) => {
    if (!r || typeof r !== "object") return;
    if (typeof r.failed === "number" && r.failed > 0) out.failed += r.failed;
    else if (Array.isArray(r.failed) && r.failed.length) {
      out.failed += r.failed.length;
      for (const f of r.failed) {
        if (f && typeof f === "object" && f.error) out.errors.push(prefixed(f.handle || f.platform || f.name, f.error));
        else if (typeof f === "string") out.errors.push(f);
      }
    }
    if (r.error && typeof r.error === "string") out.errors.push(prefixed(name, r.error));
    if (Array.isArray(r.failures)) {
      for (const f of r.failures) {
        const why = f && typeof f === "object" ? f.reason || f.error : f;
        if (why) out.items.push(prefixed(name, why));
      }
    }
  };
  if (result.results && typeof result.results === "object" && !Array.isArray(result.results)) {
    for (const [name, r] of Object.entries(result.results)) collect(r, name);
  } else {
    collect(result, result.platform);
  }
  if (!out.failed && out.errors.length) out.failed = out.errors.length;
  return out;
}

/** A finished job that succeeded but whose result reports failures. */
export function isPartial(job) {
  return job.state === "SUCCESS" && resultFailures(job.result).failed > 0;
}

/** The job's state as a badge: "success · 1 failed" (a warning) where the result reports failures. */
export function stateBadge(job) {
  const state = (job.state || "PENDING").toLowerCase();
  if (job.state === "SUCCESS") {
    const { failed } = resultFailures(job.result);
    if (failed) return badge(`${state} · ${failed} failed`, "warn");
  }
  return badge(state, STATE[job.state] || "muted");
}

/** Why single items of a SUCCESS job failed (its result's `failures`). */
export function itemFailures(job) {
  return job.state === "SUCCESS" ? resultFailures(job.result).items : [];
}

/** The errors of a job: its own, else those its result reports. */
export function jobErrors(job) {
  if (job.error) return [job.error];
  return job.state === "SUCCESS" ? resultFailures(job.result).errors : [];
}

/** Whether a card shows its last sync's failure apart from its health: the health is known and
 *  not `failing` (a failing source's reason already gives the last error). */
export const failedUnderThreshold = (health, error) => Boolean(error && health && health !== "failing");

/**
 * The last sync's failure, for a card whose health is not (yet) `failing`: a box with the error and
 * the hint "Health stays ok until 3 failed syncs in a row (1 so far)." `error` is the last run's
 * error (null: it did not fail); `inARow` the failed syncs in a row (undefined: unknown). Null
 * where there is nothing to add to the health.
 */
export function lastFailure(health, error, inARow) {
  if (!failedUnderThreshold(health, error)) return null;
  const known = Number.isFinite(inARow) && inARow > 0;
  const count = `${FAILING_AFTER} failed syncs in a row${known ? ` (${inARow} so far)` : ""}`;
  // A source never synced has no health to keep: say when it turns failing instead.
  const hint = health === "unknown" ? `Health turns failing after ${count}.` : `Health stays ${health} until ${count}.`;
  return h("div", { class: "last-failure", "data-field": "last-failure" },
    h("p", { class: "error", text: error }),
    h("p", { class: "muted hint", "data-field": "health-hint", text: hint }));
}
