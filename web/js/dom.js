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
 * A table with real headers: columns = [{label, cell: row => Node|string, className?}] (className
 * "secondary": a column left out between phone and desktop widths, where the page says it elsewhere).
 * Each cell carries its column label, so at phone width the rows become labelled cards.
 */
export function table(caption, columns, rows, { rowAttributes } = {}) {
  const head = h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.className }, c.label))));
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

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;
let warehouse = null; // the warehouse's IANA zone, read once at start (GET /settings/shipping)

/** Every time on the dashboard is the warehouse's; until it is known (or if it is not valid), the browser's. */
export function setWarehouseZone(timeZone) {
  warehouse = validZone(timeZone) ? timeZone : null;
}

export function warehouseZone() {
  return warehouse || BROWSER_ZONE;
}

function validZone(timeZone) {
  if (!timeZone) return false;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone });
    return true;
  } catch {
    return false;
  }
}

const formats = new Map();
function formatter(timeZone) {
  if (!formats.has(timeZone)) {
    formats.set(
      timeZone,
      new Intl.DateTimeFormat(undefined, {
        year: "numeric",
        month: "short",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
        timeZoneName: "short",
        timeZone,
      }),
    );
  }
  return formats.get(timeZone);
}

/** "Nov 26, 2026, 02:00 PM EST": in the warehouse's zone (or `timeZone`), the zone named. */
export function formatTime(iso, timeZone) {
  if (!iso) return "–";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  return formatter(validZone(timeZone) ? timeZone : warehouseZone()).format(when);
}

/** "2026-11-26 19:00 UTC": what the hover shows. */
export function utcText(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return String(iso);
  return `${when.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** A <time> in the warehouse's zone with the zone named; UTC on hover. */
export function when(iso, timeZone) {
  if (!iso) return "–";
  return h("time", { datetime: iso, title: utcText(iso) }, formatTime(iso, timeZone));
}

/** The warehouse's calendar day of an instant, as YYYY-MM-DD. */
export function dayIn(date, timeZone = warehouseZone()) {
  return date.toLocaleDateString("en-CA", { timeZone: validZone(timeZone) ? timeZone : warehouseZone() });
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

/** A <time> in the warehouse's zone (UTC on hover) and how far away it is. */
export function timeCell(iso, timeZone) {
  if (!iso) return "–";
  return h("time", { datetime: iso, title: utcText(iso) }, formatTime(iso, timeZone), h("span", { class: "muted" }, ` (${fromNow(iso)})`));
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
  const title = error.message || String(error);
  region.append(h("p", { class: "alert-title" }, title));
  const details = detailsNotIn(title, error.details);
  if (details.length) region.append(h("ul", {}, details.map((text) => h("li", {}, text))));
}

/** The field problems a message does not already say ("quantity must be 1 or more" is said once). */
export function detailsNotIn(message, details) {
  const plain = (text) => String(text || "").toLowerCase().replace(/[:.]/g, "").replace(/\s+/g, " ");
  const said = plain(message);
  return (details || [])
    .filter((d) => d && (d.message || d.field))
    .map((d) => (d.field ? `${d.field} ${d.message ?? ""}`.trim() : d.message))
    .filter((text) => !said.includes(plain(text)));
}

/** A section's own note that it could not load, so no part of a page is ever silently blank. */
export function failureNote(what, error) {
  return h("p", { class: "failure" }, `${what} could not be loaded: ${error.message || error}`);
}

/** The end of today (23:59:59.999) in an IANA time zone, as a Date; the warehouse's zone if none. */
export function endOfToday(timeZone = warehouseZone(), now = new Date()) {
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

/** A warehouse day ("2026-11-26") as the UTC instants it starts and ends: {from, to}, ISO with Z, to the second. */
export function dayBounds(day, timeZone = warehouseZone()) {
  const [year, month, date] = String(day).split("-").map(Number);
  const instant = (hours) => {
    const guess = Date.UTC(year, month - 1, date, hours);
    return guess - offsetAt(timeZone, new Date(guess));
  };
  const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
  return { from: iso(instant(0)), to: iso(instant(24) - 1000) };
}

/** How far the zone's wall clock is ahead of UTC at an instant, in ms. */
function offsetAt(timeZone, instant) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(instant)
      .map((p) => [p.type, Number(p.value)]),
  );
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return wall - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The query part of the route ("#/queue?pageSize=2" -> URLSearchParams). */
export function routeQuery() {
  const hash = location.hash;
  const at = hash.indexOf("?");
  return new URLSearchParams(at >= 0 ? hash.slice(at + 1) : "");
}

/**
 * Runs `work()` with `button` disabled (and labelled `busyText`, if given) so a second click cannot send the
 * request again; the button comes back as it was, whatever happens. Answers (or throws) what `work` does.
 */
/** The form's fields an error answer names (its details' `field`, by their last part) marked invalid; none
 *  marked before. `details` empty clears the marks. */
export function markInvalid(form, details = []) {
  for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  for (const detail of details) {
    const field = detail.field && form.querySelector(`[name="${String(detail.field).split(".").pop()}"]`);
    if (field) field.setAttribute("aria-invalid", "true");
  }
}

export async function whileBusy(button, busyText, work) {
  const label = button.textContent;
  button.disabled = true;
  if (busyText) button.textContent = busyText;
  try {
    return await work();
  } finally {
    button.disabled = false;
    if (busyText) button.textContent = label;
  }
}

/**
 * Rows the API pages with nextToken, shown a page at a time. `fetchPage(nextToken)` answers {items,
 * nextToken}; `draw(rows, hasMore)` shows every row read so far; the `more` button asks for the next page
 * (busy while it loads, hidden when there is none; its errors go to the alert region, then `onMore()`).
 * Answers {load, restart}: load() reads the next page (the first, at start); restart() reads the first
 * again and shows it in place of the rows (a failed read keeps what is shown). Both throw the API's error.
 */
export function pagedRows({ more, fetchPage, draw, onMore }) {
  const rows = [];
  let nextToken = null;
  async function load(fromStart = false) {
    const page = await fetchPage(fromStart ? null : nextToken);
    if (fromStart) rows.length = 0;
    rows.push(...(page.items || []));
    nextToken = page.nextToken || null;
    more.hidden = !nextToken;
    draw(rows, Boolean(nextToken));
  }
  more.addEventListener("click", async () => {
    showError(null);
    try {
      await whileBusy(more, null, () => load());
      onMore?.();
    } catch (error) {
      showError(error);
    }
  });
  return { load: () => load(), restart: () => load(true) };
}
