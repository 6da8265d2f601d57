// Charts: the rating line and solved-per-bucket bars (uPlot, vendored), the submissions heatmap (SVG).
// Each chart's figure carries data-points and has a table of the same data for screen readers.
import { uPlot } from "../vendor/index.js";
import { h, s } from "./dom.js";

function colors() {
  const css = getComputedStyle(document.documentElement);
  return { fg: css.getPropertyValue("--muted").trim() || "#555", grid: css.getPropertyValue("--line").trim() || "#ddd",
    accent: css.getPropertyValue("--accent").trim() || "#1d5fd6" };
}

function axes(c, xLabel, yLabel) {
  const base = { stroke: c.fg, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid, width: 1 } };
  return [{ ...base, label: xLabel }, { ...base, label: yLabel, size: 55 }];
}

function sized(el, make) {
  const width = () => Math.max(280, el.clientWidth || 600);
  const plot = make(width());
  new ResizeObserver(() => plot.setSize({ width: width(), height: 240 })).observe(el);
  return plot;
}

function dataTable(caption, headers, rows) {
  return h("details", {}, h("summary", { text: "Show as a table" }),
    h("div", { class: "table-wrap" }, h("table", { class: "chart-data" }, h("caption", { class: "sr-only", text: caption }),
      h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((v) => h("td", { text: String(v) }))))))));
}

/** Rating after each rated contest: one point per contest. */
export function ratingChart(contestData) {
  const points = [...contestData].sort((a, b) => a.ratingUpdateTimeSeconds - b.ratingUpdateTimeSeconds);
  const canvas = h("div", { class: "chart", role: "img",
    "aria-label": points.length ? `Rating over ${points.length} contests, from ${points[0].newRating} to ${points.at(-1).newRating}` : "No rated contests" });
  const figure = h("figure", { class: "card", id: "rating-chart", "data-points": points.length },
    h("figcaption", { text: "Rating history" }), canvas,
    dataTable("Rating history", ["Date", "Contest", "Rank", "Rating"], points.map((p) =>
      [new Date(p.ratingUpdateTimeSeconds * 1000).toLocaleDateString(), p.contestName, p.rank, p.newRating])));
  if (!points.length) { canvas.append(h("p", { class: "muted", text: "No rated contests yet." })); return figure; }
  requestAnimationFrame(() => {
    const c = colors();
    sized(canvas, (width) => new uPlot({
      width, height: 240, legend: { show: false }, cursor: { drag: { x: false, y: false } },
      axes: axes(c, null, "rating"),
      series: [{}, { label: "Rating", stroke: c.accent, width: 2, points: { show: true, size: 5, fill: c.accent } }],
    }, [points.map((p) => p.ratingUpdateTimeSeconds), points.map((p) => p.newRating)], canvas));
  });
  return figure;
}

/** Solved problems per 100-point rating bucket: one bar per bucket that has any; `within` names
 * the period the buckets cover ("in the last 365 days"), when they do not cover every submission. */
export function bucketChart(buckets, within = "") {
  const entries = Object.entries(buckets).map(([k, v]) => [Number(k), v]).sort((a, b) => a[0] - b[0]);
  const canvas = h("div", { class: "chart", role: "img",
    "aria-label": entries.length ? `Solved problems in ${entries.length} rating buckets` : "No rated problems solved" });
  const figure = h("figure", { class: "card", id: "bucket-chart", "data-points": entries.length },
    h("figcaption", { text: within ? `Solved problems per rating (${within})` : "Solved problems per rating" }), canvas,
    dataTable("Solved problems per rating", ["Rating", "Solved"], entries));
  if (!entries.length) { canvas.append(h("p", { class: "muted", text: within ? `No rated problems solved ${within}.` : "No rated problems solved yet." })); return figure; }
  requestAnimationFrame(() => {
    const c = colors();
    sized(canvas, (width) => new uPlot({
      width, height: 240, legend: { show: false }, cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false, range: (u, min, max) => [min - 100, max + 100] }, y: { range: (u, min, max) => [0, Math.max(1, max) * 1.1] } },
      axes: axes(c, "problem rating", "solved"),
      series: [{}, { label: "Solved", stroke: c.accent, fill: c.accent, paths: uPlot.paths.bars({ size: [0.8, 40] }), points: { show: false } }],
    }, [entries.map((e) => e[0]), entries.map((e) => e[1])], canvas));
  });
  return figure;
}

/** Submissions per day over the 53 weeks ending `end` (a Date): a calendar heatmap. */
export function heatmap(perDay, end) {
  const day = 86400e3;
  const last = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), end.getUTCDate()));
  const first = new Date(last.getTime() - (52 * 7 + last.getUTCDay()) * day);
  const max = Math.max(1, ...Object.values(perDay).map((d) => d.total));
  const cells = [];
  let active = 0;
  for (let t = first.getTime(), i = 0; t <= last.getTime(); t += day, i++) {
    const key = new Date(t).toISOString().slice(0, 10);
    const d = perDay[key];
    if (d) active += 1;
    const level = d ? Math.min(4, 1 + Math.floor((d.total / max) * 3.999)) : 0;
    cells.push(s("rect", { x: Math.floor(i / 7) * 13 + 28, y: (i % 7) * 13 + 14, width: 11, height: 11, rx: 2,
      class: `heat-${level}`, "data-day": key }, s("title", {}, `${key}: ${d ? `${d.total} submissions, ${d.ok} accepted` : "none"}`)));
  }
  const labels = ["Mon", "Wed", "Fri"].map((t, i) => s("text", { x: 0, y: 14 + (2 * i + 1) * 13 + 9, "font-size": 9, fill: "currentColor" }, t));
  const months = [];
  for (let w = 0; w < 53; w++) {
    const date = new Date(first.getTime() + w * 7 * day);
    if (date.getUTCDate() <= 7) months.push(s("text", { x: w * 13 + 28, y: 9, "font-size": 9, fill: "currentColor" },
      date.toLocaleString(undefined, { month: "short", timeZone: "UTC" })));
  }
  const svg = s("svg", { class: "heatmap", viewBox: `0 0 ${28 + 53 * 13} ${14 + 7 * 13}`, role: "img",
    "aria-label": `Submissions per day, ${first.toISOString().slice(0, 10)} to ${last.toISOString().slice(0, 10)}: active on ${active} days` },
  ...labels, ...months, ...cells);
  return h("figure", { class: "card", id: "heatmap", "data-points": active },
    h("figcaption", { text: `Submissions per day (year to ${last.toISOString().slice(0, 10)})` }), svg,
    h("p", { class: "muted", text: `Active on ${active} days; darker is more submissions (up to ${max} a day).` }));
}
