// Chart.js (vendored, MIT, web/vendor/) loaded on the first page that draws a chart.
import { h } from "./dom.js";

let loading = null;

export function loadChartJs() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "vendor/chart.umd.min.js";
      script.onload = () => resolve(window.Chart);
      script.onerror = () => {
        loading = null;
        reject(new Error("The chart library (vendor/chart.umd.min.js) could not be loaded; the figures are in the tables below."));
      };
      document.head.append(script);
    });
  }
  return loading;
}

/**
 * A chart with a text alternative: the canvas is an image with a summary, and the same figures sit in a
 * table under a disclosure. Returns {element, draw(): Promise<Chart|null>}.
 */
export function chartFigure({ id, title, summary, type, labels, series, valueLabel, stepped = false }) {
  const canvas = h("canvas", { id, role: "img", "aria-label": `${title}: ${summary}` });
  const figures = h(
    "details",
    {},
    h("summary", {}, `${title}: the figures`),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Day"), h("th", { scope: "col" }, valueLabel))),
        h("tbody", {}, labels.map((label, index) => h("tr", {}, h("td", { "data-label": "Day" }, label), h("td", { "data-label": valueLabel }, String(series[index]))))),
      ),
    ),
  );
  const element = h("figure", { class: "chart" }, h("figcaption", {}, title, h("span", { class: "muted" }, ` — ${summary}`)), h("div", { class: "chart-box" }, canvas), figures);
  async function draw() {
    const Chart = await loadChartJs();
    return new Chart(canvas, {
      type,
      data: { labels, datasets: [{ label: valueLabel, data: series, stepped, borderColor: "#146eb4", backgroundColor: type === "bar" ? "#ff9900" : "rgba(20,110,180,0.15)", fill: type === "line", pointRadius: 0, borderWidth: 2 }] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        scales: { x: { ticks: { maxTicksLimit: 8, autoSkip: true } }, y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }
  return { element, draw };
}
