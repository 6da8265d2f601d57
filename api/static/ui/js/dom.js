// Small DOM helpers: elements are built with h() and text nodes only (never innerHTML), so data
// from the API cannot become markup.

/** h("a", {href, class, onclick}, child...) builds an element; null/false children are skipped. */
export function h(tag, attrs = {}, ...children) {
  const el = tag === "svg" || attrs.svg ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false || key === "svg") continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else if (key === "class") el.setAttribute("class", value);
    else if (key in el && typeof value !== "string" && !(el instanceof SVGElement)) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** An SVG element (namespaced). */
export function s(tag, attrs = {}, ...children) {
  return h(tag, { ...attrs, svg: true }, ...children);
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's children. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A <time> in the viewer's time zone, with UTC on hover (title) and in the datetime attribute. */
export function when(iso, empty = "never") {
  if (!iso) return h("span", { class: "muted", text: empty });
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h("span", { text: String(iso) });
  const utc = date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  return h("time", { datetime: date.toISOString(), title: utc, text: dateFmt.format(date) });
}

/** "3 min ago" style text for an ISO time. */
export function ago(iso) {
  if (!iso) return "never";
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  const units = [[86400 * 365, "year"], [86400 * 30, "month"], [86400, "day"], [3600, "hour"], [60, "minute"]];
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  for (const [size, unit] of units) if (Math.abs(seconds) >= size) return rtf.format(-Math.round(seconds / size), unit);
  return rtf.format(-Math.round(seconds), "second");
}

/** "1 h 05 min" for seconds. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 60) return `${Math.round(seconds * 10) / 10} s`;
  const m = Math.round(seconds / 60);
  if (m < 60) return `${m} min`;
  const d = Math.floor(m / 1440), hh = Math.floor((m % 1440) / 60), mm = m % 60;
  return [d ? `${d} d` : "", hh ? `${hh} h` : "", mm ? `${String(mm).padStart(2, "0")} min` : ""].filter(Boolean).join(" ");
}

/** A status badge: kind is ok | warn | bad | info | muted. */
export function badge(text, kind = "muted", label = null) {
  return h("span", { class: `badge badge-${kind}`, "aria-label": label || null, text });
}

/** Announce a message to screen readers and show it in the page's status line. */
export function announce(message, kind = "info") {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.className = `toast toast-${kind}`;
  region.textContent = message;
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => { region.textContent = ""; region.className = "toast"; }, 6000);
}

/** A <dialog> with a form. `onSubmit(values)` runs on submit; it returns nothing when done (the
 *  dialog closes) or throws (its message is shown and the dialog stays). Resolves true once saved. */
export function dialogForm(title, fields, onSubmit, submitText = "Save") {
  return new Promise((resolve) => {
    let saved = false;
    const inputs = fields.map((f) => {
      const id = `dlg-${f.name}`;
      const input = h("input", { id, name: f.name, type: f.type || "text", value: f.value ?? "",
        required: f.required || null, autocomplete: "off", maxlength: f.maxlength || null,
        readonly: f.readonly || null });
      return h("div", { class: "field" }, h("label", { for: id, text: f.label }), input,
        f.hint ? h("small", { class: "muted", text: f.hint }) : null);
    });
    const error = h("p", { class: "error", role: "alert" });
    const submit = h("button", { type: "submit", text: submitText });
    const form = h("form", {}, h("h2", { text: title }), ...inputs, error,
      h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", text: "Cancel", onclick: () => dialog.close() }),
        submit));
    const dialog = h("dialog", { "aria-label": title }, form);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      error.textContent = "";
      try {
        await onSubmit(Object.fromEntries(new FormData(form).entries()));
        saved = true;
        dialog.close();
      } catch (exc) {
        error.textContent = exc.message;
      } finally {
        submit.disabled = false;
      }
    });
    dialog.addEventListener("close", () => { dialog.remove(); resolve(saved); });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A yes/no question in a <dialog>; resolves true or false. */
export function confirmDialog(question, yes = "Delete") {
  return new Promise((resolve) => {
    const dialog = h("dialog", { role: "alertdialog", "aria-label": question },
      h("form", { method: "dialog" }, h("p", { text: question }),
        h("div", { class: "actions" },
          h("button", { value: "no", class: "secondary", text: "Cancel" }),
          h("button", { value: "yes", class: "danger", text: yes }))));
    dialog.addEventListener("close", () => { resolve(dialog.returnValue === "yes"); dialog.remove(); });
    document.body.append(dialog);
    dialog.showModal();
  });
}
