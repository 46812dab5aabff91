// #/reports: the order report builder: a view, a date range and the columns; preview or download as CSV.
// The API builds the report (filtering server-side); a big one comes back as a job to wait for.
import { documentUrl } from "../links.js";
import { call } from "../api.js";
import { announce, dayBounds, dayIn, failureNote, h, showError, table, whileBusy } from "../dom.js";

const VIEWS = [
  ["all", "All orders"],
  ["new", "New orders"],
  ["unshipped", "Unshipped orders"],
  ["archived", "Archived orders"],
];
const STORED = "oms.reportColumns";
const PREVIEW_ROWS = 25;
const JOB_POLL_MS = 2000;
const JOB_TIMEOUT_MS = 5 * 60 * 1000;

function catalogueOf(answer) {
  const list = answer.items || answer.columns || [];
  return list.map((c) => (typeof c === "string" ? { name: c, description: "" } : { name: c.name, description: c.description || c.label || "", default: c.default }));
}

export async function render(view) {
  const catalogue = catalogueOf(await call("/reports/orders/columns"));
  let chosen = [];
  try {
    chosen = JSON.parse(localStorage.getItem(STORED) || "[]").filter((name) => catalogue.some((c) => c.name === name));
  } catch {
    chosen = [];
  }
  if (!chosen.length) {
    const defaults = catalogue.filter((c) => c.default === true);
    chosen = (defaults.length ? defaults : catalogue.slice(0, 6)).map((c) => c.name);
  }

  const boxes = catalogue.map((column, index) =>
    h(
      "label",
      { class: "choice", for: `col-${index}` },
      h("input", { type: "checkbox", id: `col-${index}`, name: "column", value: column.name, checked: chosen.includes(column.name), "aria-describedby": column.description ? `col-${index}-hint` : null }),
      h("span", { class: "choice-name" }, column.name),
      column.description ? h("span", { class: "hint", id: `col-${index}-hint` }, column.description) : null,
    ),
  );
  const selectAll = h("button", { type: "button", id: "columns-all" }, "All columns");
  const selectNone = h("button", { type: "button", id: "columns-none" }, "No columns");
  const viewSelect = h("select", { id: "report-view", name: "view" }, VIEWS.map(([value, text]) => h("option", { value }, text)));
  const from = h("input", { type: "date", id: "report-from", name: "from" });
  const to = h("input", { type: "date", id: "report-to", name: "to" });
  const problem = h("p", { class: "failure", id: "report-problem", role: "alert", hidden: true });
  const preview = h("button", { type: "submit", id: "report-preview" }, "Preview");
  const download = h("button", { type: "button", id: "report-download", class: "primary" }, "Download CSV");
  const result = h("section", { "aria-labelledby": "report-result-title", id: "report-result" }, h("h2", { id: "report-result-title" }, "Preview"), h("p", { class: "muted" }, "Choose the columns, then Preview or Download CSV."));
  const form = h(
    "form",
    { id: "report-form", class: "report-form", novalidate: true },
    h("div", { class: "filters" }, h("label", { for: "report-view" }, "Orders", viewSelect), h("label", { for: "report-from" }, "Purchased from", from), h("label", { for: "report-to" }, "Purchased to", to)),
    h("fieldset", { class: "columns" }, h("legend", {}, "Columns"), h("div", { class: "buttons" }, selectAll, selectNone), h("div", { class: "choices" }, boxes)),
    problem,
    h("div", { class: "buttons" }, preview, download),
  );
  view.replaceChildren(
    h("h1", {}, "Reports"),
    h("p", { class: "muted" }, "Build an order report with the columns you need. The CSV has the columns in the order listed here."),
    form,
    result,
    await shippingSpendSection(),
    await endOfDaySection(),
  );

  const checked = () => [...form.querySelectorAll('input[name="column"]:checked')].map((input) => input.value);
  form.addEventListener("change", () => localStorage.setItem(STORED, JSON.stringify(checked())));
  selectAll.addEventListener("click", () => setAll(true));
  selectNone.addEventListener("click", () => setAll(false));
  function setAll(value) {
    for (const input of form.querySelectorAll('input[name="column"]')) input.checked = value;
    localStorage.setItem(STORED, JSON.stringify(checked()));
  }

  function query(format) {
    const columns = checked();
    if (!columns.length) throw new Error("Choose at least one column.");
    const params = { view: viewSelect.value, columns: columns.join(","), format };
    if (from.value) params.from = dayBounds(from.value).from; // whole warehouse days
    if (to.value) params.to = dayBounds(to.value).to;
    return params;
  }

  async function guarded(button, busy, work) {
    problem.hidden = true;
    showError(null);
    try {
      await whileBusy(button, busy, work);
    } catch (error) {
      problem.textContent = error.message; // said once, by the buttons
      problem.hidden = false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(preview, "Loading…", async () => {
      const params = { ...query("json"), limit: PREVIEW_ROWS };
      const answer = await call("/reports/orders", { query: params });
      if (answer.accepted) {
        result.replaceChildren(h("h2", { id: "report-result-title" }, "Preview"), h("p", {}, "This report is big: the API is building it. Use Download CSV to get it when it is ready."));
        return;
      }
      showPreview(result, params.columns.split(","), answer.items || [], Boolean(answer.nextToken));
    });
  });

  download.addEventListener("click", () =>
    guarded(download, "Preparing…", async () => {
      const params = query("csv");
      const answer = await call("/reports/orders", { query: params, format: "text" });
      const name = `orders-${params.view}-${dayIn(new Date())}.csv`;
      if (answer.accepted) {
        announce("The report is being built; it downloads when ready.");
        const url = await waitForJob(answer);
        saveLink(url, name);
        announce(`Report ready: ${name}.`);
        return;
      }
      const blob = new Blob([answer.text], { type: "text/csv" });
      const href = URL.createObjectURL(blob);
      saveLink(href, name);
      setTimeout(() => URL.revokeObjectURL(href), 60_000);
      const rows = Math.max(0, answer.text.trim().split(/\r?\n/).length - 1);
      const text = `Downloaded ${name}: ${rows} row${rows === 1 ? "" : "s"}, columns ${params.columns.split(",").join(", ")}.`;
      result.replaceChildren(h("h2", { id: "report-result-title" }, "Download"), h("p", { class: "ok", id: "report-downloaded" }, text));
      announce(text);
    }),
  );
}

function saveLink(href, name) {
  const link = h("a", { href, download: name, hidden: true }, name);
  document.body.append(link);
  link.click();
  link.remove();
}

async function waitForJob(accepted) {
  const jobId = accepted.jobId || accepted.job?.jobId;
  if (!jobId) throw new Error("The API accepted the report but named no job to wait for.");
  const deadline = Date.now() + JOB_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const job = await call(`/reports/jobs/${encodeURIComponent(jobId)}`);
    if (job.url && /^(done|ready|completed|succeeded)$/i.test(job.status || "done")) {
      const url = documentUrl(job.url);
      if (!url) throw new Error("The report is ready, but its link does not point at this stack's documents.");
      return url;
    }
    if (/^(failed|error|cancel)/i.test(job.status || "")) throw new Error(`The report could not be built: ${job.error?.message || job.message || job.status}.`);
    await new Promise((resolve) => setTimeout(resolve, JOB_POLL_MS));
  }
  throw new Error("The report is taking longer than 5 minutes; try a shorter date range.");
}

function showPreview(result, columns, rows, more) {
  const head = h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c))));
  const body = h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((c) => h("td", { "data-label": c }, cellText(row[c]))))));
  result.replaceChildren(
    h("h2", { id: "report-result-title" }, "Preview"),
    h("p", { class: "muted" }, rows.length ? `The first ${rows.length} row${rows.length === 1 ? "" : "s"}${more ? " (the CSV has them all)" : ""}.` : "No orders match."),
    rows.length ? h("div", { class: "table-wrap" }, h("table", {}, h("caption", { class: "visually-hidden" }, "Report preview"), head, body)) : "", // not null: replaceChildren writes it as "null"
  );
  announce(`Preview: ${rows.length} rows.`);
}

function cellText(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return value.amount !== undefined ? `${value.amount} ${value.currencyCode || ""}`.trim() : JSON.stringify(value);
  return String(value);
}

// Shipping spend: what labels bought through Amazon cost over the last 30 warehouse days, per carrier. A package
// counts on the day it leaves with its carrier, so the range runs a week ahead too: a label bought on a Saturday
// night (picked up on Monday, or Tuesday after a holiday) shows the moment it is bought.
const PICKUP_DAYS_AHEAD = 7;
async function shippingSpendSection() {
  const now = Date.now();
  const from = dayIn(new Date(now - 29 * 86400_000));
  const to = dayIn(new Date(now + PICKUP_DAYS_AHEAD * 86400_000));
  const section = h("section", { "aria-labelledby": "spend-title", id: "shipping-spend" }, h("h2", { id: "spend-title" }, "Shipping spend, last 30 days and packages awaiting pickup"));
  try {
    const spend = await call("/reports/shipping-spend", { query: { from, to } });
    const total = (spend.total || []).map((m) => `${m.amount} ${m.currencyCode}`).join(", ") || "nothing bought";
    section.append(
      h("p", { class: "figure", id: "spend-total" }, total),
      h("p", { class: "muted" }, `${spend.packages} package${spend.packages === 1 ? "" : "s"}, ${spend.packagesWithLabelCost} with a label bought through Amazon.`),
      spend.byCarrier.length
        ? table("Shipping spend per carrier", [
            { label: "Carrier", cell: (c) => c.carrier },
            { label: "Packages", cell: (c) => String(c.packages), className: "number" },
            { label: "Labels", cell: (c) => c.total.map((m) => `${m.amount} ${m.currencyCode}`).join(", ") || "–" },
          ], spend.byCarrier)
        : "", // append would print a null
    );
  } catch (error) {
    section.append(failureNote("The shipping spend", error));
  }
  return section;
}

// End-of-day forms: every package handed to a carrier on a warehouse day, as CSV or PDF (for the driver).
async function endOfDaySection() {
  const carriers = ((await call("/carriers")).items || []).filter((c) => c.setUp);
  const day = h("input", { type: "date", id: "eod-date", name: "date", value: dayIn(new Date()) }); // the warehouse's today
  const carrier = h("select", { id: "eod-carrier", name: "carrier" }, carriers.map((c) => h("option", { value: c.code }, c.name)));
  const csv = h("button", { type: "button", id: "eod-csv" }, "Download CSV");
  const pdf = h("button", { type: "button", id: "eod-pdf" }, "Open PDF");
  const outcome = h("p", { id: "eod-outcome", role: "status" });
  const query = () => ({ date: day.value, carrier: carrier.value });
  csv.addEventListener("click", async () => {
    try {
      const answer = await call("/reports/end-of-day", { query: { ...query(), format: "csv" }, format: "text" });
      const href = URL.createObjectURL(new Blob([answer.text], { type: "text/csv" }));
      saveLink(href, `end-of-day-${day.value}-${carrier.value}.csv`);
      setTimeout(() => URL.revokeObjectURL(href), 60_000);
      const packages = Math.max(0, answer.text.trim().split(/\r?\n/).length - 1);
      outcome.textContent = `${packages} package${packages === 1 ? "" : "s"} for ${carrier.value} on ${day.value}.`;
    } catch (error) {
      outcome.textContent = error.message; // said once, under the buttons
    }
  });
  pdf.addEventListener("click", async () => {
    try {
      const form = await call("/reports/end-of-day", { query: { ...query(), format: "pdf" } });
      const cost = (form.totalLabelCost || []).map((m) => `${m.amount} ${m.currencyCode}`).join(", ");
      outcome.textContent = `${form.packageCount} package${form.packageCount === 1 ? "" : "s"} for ${form.carrierName} on ${form.date}${cost ? `; labels bought ${cost}` : ""}.`;
      const pdf = documentUrl(form.pdfUrl);
      if (pdf) window.open(pdf, "_blank", "noopener");
      else outcome.textContent += " The form's link does not point at this stack's documents.";
    } catch (error) {
      outcome.textContent = error.message;
    }
  });
  return h(
    "section",
    { "aria-labelledby": "eod-title", id: "end-of-day" },
    h("h2", { id: "eod-title" }, "End-of-day forms"),
    h("p", { class: "muted" }, "Every package handed to a carrier on a day, with tracking numbers and weights, for the driver to sign."),
    h("div", { class: "filters" }, h("label", { for: "eod-date" }, "Day", day), h("label", { for: "eod-carrier" }, "Carrier", carrier)),
    h("div", { class: "buttons" }, csv, pdf),
    outcome,
  );
}
