// Students: list with sort and search, per-row Sync with progress, add, edit and delete.
import { call, runJob } from "../api.js";
import { ago, announce, badge, confirmDialog, dialogForm, h, mount, when } from "../dom.js";
import { jobProgress } from "../progress.js";

const INACTIVE_DAYS = 7;

export function isInactive(s) {
  return !s.lastActiveAt || Date.now() - new Date(s.lastActiveAt).getTime() > INACTIVE_DAYS * 86400e3;
}

/** Edit (or add, with no student) in a dialog; resolves true once saved. */
export function editStudent(student = null) {
  const fields = [
    { name: "name", label: "Name", required: true, maxlength: 100, value: student?.name },
    { name: "email", label: "Email", type: "email", required: true, maxlength: 254, value: student?.email },
    { name: "phone", label: "Phone (optional)", type: "tel", maxlength: 20, value: student?.phone },
    { name: "codeforcesHandle", label: "Codeforces handle", required: true, maxlength: 24,
      value: student?.codeforcesHandle, readonly: !!student, hint: student ? "The handle is the key; it does not change." : null },
  ];
  return dialogForm(student ? `Edit ${student.name}` : "Add a student", fields, async (values) => {
    if (student) {
      const { codeforcesHandle, ...rest } = values;
      await call(`/api/students/${encodeURIComponent(student.codeforcesHandle)}`, { method: "PATCH", body: rest });
    } else {
      const body = { ...values };
      if (!body.phone) delete body.phone;
      await call("/api/students", { method: "POST", body });
    }
  }, student ? "Save" : "Add");
}

export async function render(root, { signal }) {
  let students = [];
  let sort = { key: "name", dir: 1 };
  const search = h("input", { id: "s-search", type: "search", placeholder: "name, handle or email", autocomplete: "off" });
  const onlyInactive = h("input", { id: "s-inactive", type: "checkbox" });
  const body = h("tbody");
  const status = h("p", { class: "muted", "aria-live": "polite" });
  const columns = [["name", "Name"], ["codeforcesHandle", "Handle"], ["currRating", "Rating", "num"], ["maxRating", "Max", "num"],
    ["lastActiveAt", "Last active"], ["lastSyncedAt", "Last synced", "hide-narrow"], ["inactive", "Inactive"],
    ["remindersSent", "Reminders", "num hide-narrow"]];
  const head = h("tr", {}, columns.map(([key, label, cls]) => {
    const button = h("button", { type: "button", class: "sort", text: label, onclick: () => {
      sort = { key, dir: sort.key === key ? -sort.dir : (cls || "").includes("num") ? -1 : 1 };
      draw();
    } });
    return h("th", { scope: "col", class: cls || null, "data-key": key }, button);
  }), h("th", { scope: "col", text: "Actions" }));
  mount(root, h("h1", { text: "Students" }),
    h("div", { class: "toolbar" },
      h("div", { class: "field grow" }, h("label", { for: "s-search", text: "Search" }), search),
      h("label", { class: "check", for: "s-inactive" }, onlyInactive, `Only inactive (${INACTIVE_DAYS} days)`),
      h("button", { type: "button", id: "add-student", text: "Add student", onclick: async () => {
        if (await editStudent()) { announce("Student added; its first sync has started."); await load(); }
      } }),
      h("button", { type: "button", class: "secondary", id: "sync-students", text: "Sync all students", onclick: syncAll })),
    h("div", { id: "students-run" }),
    status,
    h("div", { class: "table-wrap" }, h("table", { id: "students" },
      h("caption", { class: "sr-only", text: "Students; column buttons sort" }), h("thead", {}, head), body)));

  function value(s, key) {
    if (key === "inactive") return isInactive(s) ? 1 : 0;
    const v = s[key];
    if (key.endsWith("At")) return v ? new Date(v).getTime() : 0;
    if (typeof v === "string") return v.toLowerCase();
    return v ?? -1;
  }

  function row(s) {
    const handle = s.codeforcesHandle;
    const tr = h("tr", { "data-handle": handle });
    const sync = h("button", { type: "button", class: "small", text: "Sync", "aria-label": `Sync ${s.name}` });
    const cell = h("td", { class: "row-actions" }, sync, " ",
      h("button", { type: "button", class: "secondary small", text: "Edit", "aria-label": `Edit ${s.name}`,
        onclick: async () => { if (await editStudent(s)) { announce(`Saved ${s.name}.`); await refreshRow(handle); } } }), " ",
      h("button", { type: "button", class: "secondary small", text: "Delete", "aria-label": `Delete ${s.name}`,
        onclick: async () => {
          if (!(await confirmDialog(`Delete ${s.name} (${handle}) and all their submissions?`))) return;
          try {
            await call(`/api/students/${encodeURIComponent(handle)}`, { method: "DELETE" });
            students = students.filter((x) => x.codeforcesHandle !== handle);
            draw();
            announce(`Deleted ${s.name}.`);
          } catch (exc) { announce(exc.message, "bad"); }
        } }));
    sync.addEventListener("click", async () => {
      sync.disabled = true;
      tr.classList.add("busy");
      tr.setAttribute("aria-busy", "true");
      const progress = jobProgress(`Sync of ${handle}`);
      cell.append(progress);
      const job = await runJob(`/api/codeforces/sync/${encodeURIComponent(handle)}`, { onProgress: progress.update, signal });
      if (signal.aborted) return;
      if (job.state === "SUCCESS") {
        announce(`Synced ${s.name}.`);
        await refreshRow(handle);
      } else {
        progress.done("");
        mount(progress, h("span", { class: "error", role: "alert", text: job.error || "Sync failed" }));
        tr.classList.remove("busy");
        tr.removeAttribute("aria-busy");
        sync.disabled = false;
      }
    });
    const inactive = isInactive(s);
    const reminders = s.remindersSent ?? null;
    tr.append(
      h("td", {}, h("a", { href: `#/students/${encodeURIComponent(handle)}`, text: s.name })),
      h("td", {}, h("a", { href: `https://codeforces.com/profile/${encodeURIComponent(handle)}`, rel: "noopener noreferrer",
        target: "_blank", text: handle, "aria-label": `${handle} on Codeforces` }),
        s.handleStatus === "not_found" ? [" ", badge("not found", "bad")] : null),
      h("td", { class: "num", "data-field": "rating", text: s.currRating ?? "—" }),
      h("td", { class: "num", "data-field": "maxRating", text: s.maxRating ?? "—" }),
      h("td", { "data-field": "lastActive" }, s.lastActiveAt ? h("span", { title: new Date(s.lastActiveAt).toISOString(), text: ago(s.lastActiveAt) }) : h("span", { class: "muted", text: "never" })),
      h("td", { class: "hide-narrow", "data-field": "lastSynced" }, when(s.lastSyncedAt)),
      h("td", {}, inactive ? badge("inactive", "warn") : badge("active", "ok")),
      h("td", { class: "num hide-narrow", text: reminders === null ? "—" : `${reminders}${s.reminders === false ? " (off)" : ""}` }),
      cell);
    return tr;
  }

  function draw() {
    const q = search.value.trim().toLowerCase();
    const shown = students
      .filter((s) => !q || [s.name, s.codeforcesHandle, s.email].some((v) => (v || "").toLowerCase().includes(q)))
      .filter((s) => !onlyInactive.checked || isInactive(s))
      .sort((a, b) => (value(a, sort.key) > value(b, sort.key) ? 1 : value(a, sort.key) < value(b, sort.key) ? -1 : 0) * sort.dir);
    for (const th of head.children) {
      if (th.dataset.key) th.setAttribute("aria-sort", th.dataset.key === sort.key ? (sort.dir > 0 ? "ascending" : "descending") : "none");
    }
    mount(body, shown.map(row));
    status.textContent = students.length ? `${shown.length} of ${students.length} students shown.` : "No students yet: add one.";
  }

  async function refreshRow(handle) {
    const fresh = await call(`/api/students/${encodeURIComponent(handle)}`);
    students = students.map((s) => (s.codeforcesHandle === handle ? fresh : s));
    const old = body.querySelector(`tr[data-handle="${CSS.escape(handle)}"]`);
    if (old) old.replaceWith(row(fresh));
  }

  async function load() {
    const all = [];
    let cursor = null;
    do { // every page (200 a page); the list is for operators, not for millions
      const page = await call(`/api/students?sort=name&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      all.push(...page.students);
      cursor = page.next_cursor;
    } while (cursor && all.length < 5000 && !signal.aborted);
    students = all;
    draw();
  }

  async function syncAll(event) {
    const button = event.currentTarget;
    button.disabled = true;
    const box = root.querySelector("#students-run");
    const progress = jobProgress("Sync of all students");
    mount(box, progress);
    const job = await runJob("/api/students/sync", { onProgress: progress.update, signal });
    button.disabled = false;
    if (signal.aborted) return;
    progress.done(job.state === "SUCCESS" ? "All students synced." : `Sync of all students failed: ${job.error}`);
    await load();
  }

  search.addEventListener("input", draw);
  onlyInactive.addEventListener("change", draw);
  await load();
}
