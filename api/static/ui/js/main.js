// The UI's entry: login, the hash router (#/page/arg) and the navigation.
import { auth, hasRoute, login, logout } from "./api.js";
import { announce, h, mount } from "./dom.js";

const pages = {
  overview: () => import("./pages/overview.js"),
  contests: () => import("./pages/contests.js"),
  students: () => import("./pages/students.js"),
  student: () => import("./pages/student.js"),
  raida: () => import("./pages/raida.js"),
  jobs: () => import("./pages/jobs.js"),
  schedules: () => import("./pages/schedules.js"),
  webhooks: () => import("./pages/webhooks.js"),
};
const titles = { overview: "Overview", contests: "Contests", students: "Students", student: "Student",
  raida: "RAIDA", jobs: "Jobs", schedules: "Schedules", webhooks: "Webhooks" };

const main = document.getElementById("main");
let current = null; // the shown page's AbortController: stops its polling when the page changes

function route() {
  const parts = (location.hash || "#/overview").slice(2).split("/").map(decodeURIComponent);
  let [name, ...args] = parts;
  if (name === "students" && args.length) name = "student";
  return { name: pages[name] ? name : "overview", args };
}

function whoami() {
  try {
    const payload = JSON.parse(atob(auth.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return payload.sub;
  } catch { return ""; }
}

function showLogin(message = "") {
  if (current) current.abort();
  document.getElementById("nav").hidden = true;
  document.getElementById("who").hidden = true;
  document.title = "Log in · syncq";
  const error = h("p", { class: "error", role: "alert", id: "login-error", text: message });
  const submit = h("button", { type: "submit", text: "Log in" });
  const form = h("form", { class: "card login", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title", text: "Log in to syncq" }),
    h("div", { class: "field" }, h("label", { for: "username", text: "Username" }),
      h("input", { id: "username", name: "username", autocomplete: "username", required: true })),
    h("div", { class: "field" }, h("label", { for: "password", text: "Password" }),
      h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true })),
    error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.textContent = "";
    try {
      await login(form.username.value, form.password.value);
      show();
    } catch (exc) {
      error.textContent = exc.status === 401 ? "Wrong username or password." : exc.message;
      form.password.select();
    } finally {
      submit.disabled = false;
    }
  });
  mount(main, form);
  form.username.focus();
}

async function showNav() {
  document.getElementById("nav").hidden = false;
  document.getElementById("who").hidden = false;
  document.getElementById("who-name").textContent = whoami();
  for (const item of document.querySelectorAll("[data-optional]")) {
    item.hidden = !(await hasRoute(item.dataset.optional));
  }
}

// After a navigation, focus moves to the new page's content (screen readers read it from there);
// on the first load it stays at the top, where the skip link is the first stop.
let navigated = false;

async function show() {
  if (!auth.token) return showLogin();
  showNav();
  const { name, args } = route();
  for (const link of document.querySelectorAll("#nav a")) {
    const target = link.getAttribute("href").slice(2);
    if (target === name || (name === "student" && target === "students")) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (current) current.abort();
  current = new AbortController();
  const signal = current.signal;
  document.title = `${titles[name]} · syncq`;
  const root = h("div", { class: "page", "data-page": name });
  mount(main, root);
  try {
    const module = await pages[name]();
    await module.render(root, { args, signal });
  } catch (exc) {
    if (signal.aborted) return;
    mount(root, h("p", { class: "error", role: "alert", text: `This page could not be shown: ${exc.message}` }));
  }
  if (!signal.aborted && navigated) main.focus({ preventScroll: true });
}

window.addEventListener("hashchange", () => { navigated = true; show(); });
window.addEventListener("syncq:logout", (event) => showLogin(event.detail));
document.getElementById("logout").addEventListener("click", async () => {
  await logout();
  announce("Logged out.");
  showLogin();
});
show();
