// A live view of a running job: a progress bar with its text, for any sync button.
import { h, mount } from "./dom.js";

/** Summary "x new, y updated (z failed)" of one platform's result. */
export function counts(result) {
  if (!result) return "";
  return `${result.synced ?? 0} new, ${result.updated ?? 0} updated (${result.failed ?? 0} failed)`;
}

/** An element that shows a job's progress: call `.update(job)` on each poll. */
export function jobProgress(label) {
  const bar = h("progress", { max: 1, "aria-label": label });
  const text = h("span", { class: "muted", "aria-live": "polite" });
  const box = h("div", { class: "run", role: "group", "aria-label": label }, bar, text);
  box.update = (job) => {
    const p = job.progress;
    if (p && p.total) {
      bar.max = p.total;
      bar.value = p.done;
      text.textContent = `${job.state.toLowerCase()}: ${p.done} of ${p.total}${p.current ? ` (${p.current})` : ""}`;
    } else {
      bar.removeAttribute("value"); // indeterminate
      text.textContent = `${(job.state || "PENDING").toLowerCase()}…`;
    }
  };
  box.done = (message) => mount(box, h("span", { text: message }));
  return box;
}
