// Small helpers to build the page: elements, tables, times, the status and alert regions.

/** h("a", {href: "#/queue", class: "x"}, "text", child...) builds an element; null children are skipped. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/**
 * A table with real headers: columns = [{label, cell: row => Node|string, className?}].
 * Each cell carries its column label, so at phone width the rows become labelled cards.
 */
export function table(caption, columns, rows, { rowAttributes } = {}) {
  const head = h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label))));
  const body = h("tbody", {});
  for (const row of rows) body.append(tableRow(columns, row, rowAttributes));
  return h("div", { class: "table-wrap" }, h("table", {}, h("caption", { class: "visually-hidden" }, caption), head, body));
}

export function tableRow(columns, row, rowAttributes) {
  const tr = h("tr", rowAttributes ? rowAttributes(row) : {});
  for (const column of columns) {
    const value = column.cell(row);
    tr.append(h("td", { "data-label": column.label, class: column.className }, value ?? "–"));
  }
  return tr;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "26 Nov 2026, 14:00" in the browser's zone, or in `timeZone` when given. */
export function formatTime(iso, timeZone) {
  if (!iso) return "–";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  if (!timeZone) return dateTime.format(when);
  try {
    return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short", timeZone }).format(when);
  } catch {
    return dateTime.format(when);
  }
}

/** "in 3 hours", "2 days ago". */
export function fromNow(iso, now = Date.now()) {
  if (!iso) return "";
  const seconds = (new Date(iso).getTime() - now) / 1000;
  const steps = [
    [60, "second"],
    [3600, "minute"],
    [86400, "hour"],
    [Infinity, "day"],
  ];
  let unit = 1;
  for (const [limit, name] of steps) {
    if (Math.abs(seconds) < limit) return relative.format(Math.round(seconds / unit), name);
    unit = limit;
  }
  return "";
}

/** A <time> element showing the local time and how far away it is. */
export function timeCell(iso, timeZone) {
  if (!iso) return "–";
  return h("time", { datetime: iso, title: iso }, formatTime(iso, timeZone), h("span", { class: "muted" }, ` (${fromNow(iso)})`));
}

export function percent(fraction, digits = 1) {
  if (fraction === null || fraction === undefined) return "–";
  return `${(Number(fraction) * 100).toFixed(digits)}%`;
}

export function money(value) {
  if (!value) return "–";
  return `${value.amount} ${value.currencyCode}`;
}

/** Polite announcements ("12 orders shown"): the header's live region. */
export function announce(text) {
  const region = document.getElementById("status");
  region.textContent = text;
}

/** The alert region: the API's error in words, or nothing. */
export function showError(error) {
  const region = document.getElementById("alert");
  region.replaceChildren();
  if (!error) {
    region.hidden = true;
    return;
  }
  region.hidden = false;
  region.append(h("p", { class: "alert-title" }, error.message || String(error)));
  const details = (error.details || []).filter((d) => d && (d.message || d.field));
  if (details.length) {
    region.append(h("ul", {}, details.map((d) => h("li", {}, d.field ? `${d.field}: ${d.message ?? ""}` : d.message))));
  }
}

/** A section's own note that it could not load, so no part of a page is ever silently blank. */
export function failureNote(what, error) {
  return h("p", { class: "failure" }, `${what} could not be loaded: ${error.message || error}`);
}

/** The end of today (23:59:59.999) in an IANA time zone, as a Date; the browser's zone if none. */
export function endOfToday(timeZone, now = new Date()) {
  if (!timeZone) {
    const end = new Date(now);
    end.setHours(23, 59, 59, 999);
    return end;
  }
  try {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      })
        .formatToParts(now)
        .map((p) => [p.type, p.value]),
    );
    // the zone's offset now: its wall clock read as UTC, minus the real instant
    const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
    const offset = wall - Math.floor(now.getTime() / 1000) * 1000;
    return new Date(Date.UTC(parts.year, parts.month - 1, parts.day, 23, 59, 59, 999) - offset);
  } catch {
    return endOfToday(undefined, now);
  }
}

/** The query part of the route ("#/queue?pageSize=2" -> URLSearchParams). */
export function routeQuery() {
  const hash = location.hash;
  const at = hash.indexOf("?");
  return new URLSearchParams(at >= 0 ? hash.slice(at + 1) : "");
}
