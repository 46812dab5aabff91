// #/settings: the shipping setup (warehouse, hours, ship-from address, carriers and pickups, package
// defaults). The page holds the whole setup and saves it whole (PUT /settings/shipping takes every field, so
// nothing falls back to a default unseen); each field is checked here first, and whatever the API refuses is
// shown next to the field it names.
import { call } from "../api.js";
import { announce, h, showError, whileBusy } from "../dom.js";

const DAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
const DAY_NAMES = { MON: "Mon", TUE: "Tue", WED: "Wed", THU: "Thu", FRI: "Fri", SAT: "Sat", SUN: "Sun" };
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const ADDRESS = [
  ["name", "Name on the label", { required: true, maxlength: 30 }],
  ["addressLine1", "Address line 1", { required: true, maxlength: 180 }],
  ["addressLine2", "Address line 2 (optional)", { maxlength: 60 }],
  ["city", "City", { required: true, maxlength: 30 }],
  ["stateOrProvinceCode", "State or province (optional)", { maxlength: 30 }],
  ["postalCode", "Postal code", { required: true, maxlength: 30 }],
  ["countryCode", "Country code (2 letters)", { required: true, pattern: "[A-Za-z]{2}", maxlength: 2 }],
  ["phone", "Phone", { required: true, maxlength: 30, type: "tel" }],
  ["email", "Email", { required: true, maxlength: 256, type: "email" }],
];

let counter = 0;

/** A labelled input; `field` is the API's name for it (errors from the API are shown next to it). */
function field(label, fieldName, attributes = {}, hint = null) {
  const id = attributes.id || `setting-${++counter}`;
  const input = h("input", { id, name: fieldName, "data-field": fieldName, type: "text", ...attributes });
  const error = h("span", { class: "field-error failure", id: `${id}-error`, hidden: true });
  input.setAttribute("aria-describedby", `${id}-error${hint ? ` ${id}-hint` : ""}`);
  return h("p", { class: "field" }, h("label", { for: id }, label), input, hint ? h("span", { class: "hint", id: `${id}-hint` }, hint) : null, error);
}

function select(label, fieldName, options, value) {
  const id = `setting-${++counter}`;
  const box = h("select", { id, name: fieldName, "data-field": fieldName, "aria-describedby": `${id}-error` }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
  return h("p", { class: "field" }, h("label", { for: id }, label), box, h("span", { class: "field-error failure", id: `${id}-error`, hidden: true }));
}

function days(legend, fieldName, chosen) {
  return h(
    "fieldset",
    { class: "days", "data-field": fieldName },
    h("legend", {}, legend),
    DAYS.map((d) => h("label", { class: "inline" }, h("input", { type: "checkbox", value: d, checked: chosen.includes(d), "aria-label": `${legend}: ${DAY_NAMES[d]}` }), ` ${DAY_NAMES[d]}`)),
    h("span", { class: "field-error failure", hidden: true }),
  );
}

const hhmm = (value) => (value || "").slice(0, 5);
const dateList = (text) =>
  text
    .split(/[\s,]+/)
    .map((d) => d.trim())
    .filter(Boolean);

export async function render(view) {
  const [setup, known] = await Promise.all([call("/settings/shipping"), call("/carriers").catch(() => ({ items: [] }))]);
  const carrierCodes = known.items.length ? known.items.map((c) => c.code) : [...new Set(setup.carriers.map((c) => c.code))];
  draw(view, setup, carrierCodes);
}

function draw(view, setup, carrierCodes) {
  const w = setup.warehouse;
  const a = w.address || {};
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const problem = h("div", { id: "settings-problem", class: "failure", hidden: true, tabindex: "-1" });
  const saved = h("p", { id: "settings-saved", class: "success", hidden: true });
  const carriersBody = h("tbody", {});
  const defaultCarrier = h("select", { id: "default-carrier", "data-field": "defaultCarrier" });

  function refreshDefault(chosen) {
    const codes = [...carriersBody.querySelectorAll("select.carrier-code")].map((s) => s.value);
    const keep = chosen ?? defaultCarrier.value;
    defaultCarrier.replaceChildren(...[...new Set(codes)].map((c) => h("option", { value: c, selected: c === keep }, c)));
  }

  function carrierRow(c) {
    const index = carriersBody.children.length;
    const at = (name) => `carriers[${index}].${name}`;
    const code = h("select", { class: "carrier-code", "data-field": at("code"), "aria-label": "Carrier" }, carrierCodes.map((k) => h("option", { value: k, selected: k === c.code }, k)));
    code.addEventListener("change", () => refreshDefault());
    const cell = (label, node) => h("td", { "data-label": label }, node, h("span", { class: "field-error failure", hidden: true }));
    const row = h(
      "tr",
      { class: "carrier-row" },
      cell("Carrier", code),
      cell("Pickup days", days("Pickup days", at("pickupDays"), c.pickupDays)),
      cell("Cutoff", h("input", { type: "time", class: "carrier-cutoff", required: true, value: hhmm(c.cutoff), "data-field": at("cutoff"), "aria-label": "Pickup cutoff" })),
      cell("Handling days", h("input", { type: "number", min: 0, max: 30, step: 1, required: true, value: c.handlingDays, "data-field": at("handlingDays"), "aria-label": "Handling days", class: "narrow" })),
      cell("Transit days", h("input", { type: "number", min: 0, max: 30, step: 1, required: true, value: c.transitDays, "data-field": at("transitDays"), "aria-label": "Transit days", class: "narrow" })),
      cell("No pickup on", h("input", { type: "text", value: (c.holidays || []).join(", "), "data-field": at("holidays"), "aria-label": "Days without pickup (YYYY-MM-DD, comma separated)", placeholder: "2026-12-25, …" })),
      h("td", { "data-label": "" }, h("button", { type: "button", class: "remove-carrier", onclick: () => { row.remove(); renumber(); refreshDefault(); } }, "Remove")),
    );
    carriersBody.append(row);
  }

  function renumber() {
    [...carriersBody.children].forEach((row, index) => {
      for (const node of row.querySelectorAll("[data-field]")) node.dataset.field = node.dataset.field.replace(/^carriers\[\d+\]/, `carriers[${index}]`);
    });
  }

  for (const c of setup.carriers) carrierRow(c);
  refreshDefault(setup.defaultCarrier);
  const addCarrier = h("button", { type: "button", id: "add-carrier" }, "Add a carrier");
  addCarrier.addEventListener("click", () => {
    const used = new Set([...carriersBody.querySelectorAll("select.carrier-code")].map((s) => s.value));
    carrierRow({ code: carrierCodes.find((k) => !used.has(k)) || carrierCodes[0], pickupDays: DAYS.slice(0, 5), cutoff: "16:00", holidays: [], handlingDays: 1, transitDays: 3 });
    refreshDefault();
    carriersBody.lastElementChild.querySelector("select").focus();
  });

  const p = setup.package;
  const form = h(
    "form",
    { id: "settings-form", novalidate: true },
    h(
      "fieldset",
      { class: "group" },
      h("legend", {}, "Store"),
      field("Seller name (on packing slips)", "sellerName", { required: true, value: setup.sellerName, id: "seller-name" }),
      field("Flag an order at risk when less than this share of its working time is left (%)", "atRiskShare", { type: "number", min: 1, max: 99, step: 1, required: true, value: Math.round(setup.atRiskShare * 100) }),
    ),
    h(
      "fieldset",
      { class: "group" },
      h("legend", {}, "Warehouse and hours"),
      field("Warehouse name", "warehouse.name", { required: true, value: w.name }),
      field("Time zone", "warehouse.timeZone", { required: true, value: w.timeZone, list: "time-zones", id: "warehouse-zone" }, "An IANA zone, e.g. America/New_York"),
      h("datalist", { id: "time-zones" }, zones.map((z) => h("option", { value: z }))),
      field("Country (public holidays)", "warehouse.country", { required: true, value: w.country, pattern: "[A-Za-z]{2}", maxlength: 2 }),
      field("State or region (optional, for its holidays)", "warehouse.subdivision", { value: w.subdivision || "" }),
      days("Working days", "warehouse.workingDays", w.workingDays),
      field("Opens", "warehouse.opens", { type: "time", required: true, value: hhmm(w.opens), id: "warehouse-opens" }),
      field("Closes", "warehouse.closes", { type: "time", required: true, value: hhmm(w.closes), id: "warehouse-closes" }),
      field("Closed on (YYYY-MM-DD, comma separated)", "warehouse.closedDays", { value: (w.closedDays || []).join(", ") }),
    ),
    h(
      "fieldset",
      { class: "group", id: "address" },
      h("legend", {}, "Ship-from address (needed to buy labels through Amazon)"),
      ADDRESS.map(([name, label, attrs]) => field(label, `warehouse.address.${name}`, { ...attrs, value: a[name] || "", "data-required": attrs.required ? "yes" : null, required: false })),
    ),
    h(
      "fieldset",
      { class: "group" },
      h("legend", {}, "Carriers and pickups"),
      h("div", { class: "table-wrap" }, h("table", { id: "carriers" }, h("caption", { class: "visually-hidden" }, "Carriers that pick up"), h("thead", {}, h("tr", {}, ["Carrier", "Pickup days", "Cutoff", "Handling days", "Transit days", "No pickup on", ""].map((t) => h("th", { scope: "col" }, t)))), carriersBody)),
      h("p", {}, addCarrier),
      h("p", { class: "field" }, h("label", { for: "default-carrier" }, "Default carrier"), defaultCarrier, h("span", { class: "field-error failure", hidden: true })),
    ),
    h(
      "fieldset",
      { class: "group" },
      h("legend", {}, "Package defaults (for labels bought through Amazon)"),
      field("Length", "package.length", { type: "number", min: 0.1, step: "any", required: true, value: p.length }),
      field("Width", "package.width", { type: "number", min: 0.1, step: "any", required: true, value: p.width }),
      field("Height", "package.height", { type: "number", min: 0.1, step: "any", required: true, value: p.height }),
      select("Dimensions in", "package.dimensionUnit", [["inches", "inches"], ["centimeters", "centimeters"]], p.dimensionUnit),
      field("Weight", "package.weight", { type: "number", min: 0.1, step: "any", required: true, value: p.weight }),
      select("Weight in", "package.weightUnit", [["oz", "ounces"], ["g", "grams"]], p.weightUnit),
    ),
    problem,
    h("p", { class: "buttons" }, h("button", { type: "submit", class: "primary", id: "save-settings" }, "Save settings")),
    saved,
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    saved.hidden = true;
    clearProblems(form, problem);
    const [body, problems] = read(form, carriersBody, defaultCarrier);
    if (problems.length) return showProblems(form, problem, problems);
    try {
      await whileBusy(form.querySelector("#save-settings"), "Saving…", async () => {
        const answer = await call("/settings/shipping", { method: "PUT", body });
        showError(null);
        draw(view, answer, carrierCodes);
        const done = view.querySelector("#settings-saved");
        done.textContent = "Settings saved.";
        done.hidden = false;
        announce("Settings saved.");
      });
    } catch (error) {
      const details = (error.details || []).filter((d) => d.field);
      showProblems(form, problem, details.length ? details : [{ field: "", message: error.message }]);
      showError(error);
    }
  });

  view.replaceChildren(
    h("h1", {}, "Settings"),
    h("p", { class: "muted" }, "Your warehouse, its hours and address, the carriers that pick up and your usual box. Deadlines, the queue and end-of-day forms follow these. Every field is saved together."),
    h("p", {}, h("a", { href: "#/settings/keys", id: "api-keys-link" }, "API keys"), " for your other systems (a 3PL, accounting, a script)."),
    form,
  );
}

/** The whole setup from the form, and what is wrong with it ([{field, message}]). */
function read(form, carriersBody, defaultCarrier) {
  const problems = [];
  const value = (name) => form.querySelector(`[data-field="${name}"]`);
  for (const input of form.querySelectorAll("input[data-field], select[data-field]")) {
    if (!input.checkValidity()) problems.push({ field: input.dataset.field, message: input.validationMessage });
  }
  const chosenDays = (set) => [...set.querySelectorAll("input:checked")].map((box) => box.value);
  const dates = (name) => {
    const list = dateList(value(name).value);
    const bad = list.filter((d) => !DATE.test(d) || Number.isNaN(Date.parse(d)));
    if (bad.length) problems.push({ field: name, message: `${bad.join(", ")}: write dates as YYYY-MM-DD` });
    return list;
  };
  const text = (name) => value(name).value.trim();
  const number = (name) => Number(value(name).value);

  const workingDays = chosenDays(value("warehouse.workingDays"));
  if (!workingDays.length) problems.push({ field: "warehouse.workingDays", message: "tick at least one working day" });
  const opens = text("warehouse.opens");
  const closes = text("warehouse.closes");
  if (opens && closes && closes <= opens) problems.push({ field: "warehouse.closes", message: "must be after opening time" });

  const addressValues = Object.fromEntries(ADDRESS.map(([name]) => [name, text(`warehouse.address.${name}`)]));
  let address = null;
  if (Object.values(addressValues).some(Boolean)) {
    for (const [name, label, attrs] of ADDRESS) {
      if (attrs.required && !addressValues[name]) problems.push({ field: `warehouse.address.${name}`, message: `${label} is needed for a ship-from address` });
    }
    address = { ...addressValues, countryCode: addressValues.countryCode.toUpperCase(), addressLine2: addressValues.addressLine2 || null, stateOrProvinceCode: addressValues.stateOrProvinceCode || null };
  }

  const carriers = [...carriersBody.children].map((row, index) => {
    const at = (name) => `carriers[${index}].${name}`;
    const pickupDays = chosenDays(row.querySelector(`[data-field="${at("pickupDays")}"]`));
    if (!pickupDays.length) problems.push({ field: at("pickupDays"), message: "tick at least one pickup day" });
    return {
      code: value(at("code")).value,
      pickupDays,
      cutoff: value(at("cutoff")).value,
      holidays: dates(at("holidays")),
      handlingDays: number(at("handlingDays")),
      transitDays: number(at("transitDays")),
    };
  });
  const codes = carriers.map((c) => c.code);
  if (!carriers.length) problems.push({ field: "defaultCarrier", message: "add at least one carrier" });
  codes.forEach((code, index) => {
    if (codes.indexOf(code) !== index) problems.push({ field: `carriers[${index}].code`, message: `${code} is listed twice` });
  });

  const body = {
    sellerName: text("sellerName"),
    warehouse: {
      name: text("warehouse.name"),
      timeZone: text("warehouse.timeZone"),
      country: text("warehouse.country").toUpperCase(),
      subdivision: text("warehouse.subdivision") || null,
      workingDays,
      opens,
      closes,
      closedDays: dates("warehouse.closedDays"),
      address,
    },
    carriers,
    defaultCarrier: defaultCarrier.value,
    atRiskShare: number("atRiskShare") / 100,
    package: {
      length: number("package.length"),
      width: number("package.width"),
      height: number("package.height"),
      dimensionUnit: value("package.dimensionUnit").value,
      weight: number("package.weight"),
      weightUnit: value("package.weightUnit").value,
    },
  };
  return [body, problems];
}

function clearProblems(form, problem) {
  problem.hidden = true;
  problem.replaceChildren();
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  for (const note of form.querySelectorAll(".field-error")) {
    note.hidden = true;
    note.textContent = "";
  }
}

/** Each problem next to its field (or its nearest named part) and listed above the save button. */
function showProblems(form, problem, problems) {
  let first = null;
  for (const { field: name, message } of problems) {
    const target = name ? findField(form, name) : null;
    if (!target) continue;
    target.setAttribute("aria-invalid", "true");
    const note = target.closest("td, p.field, fieldset.days")?.querySelector(".field-error");
    if (note) {
      note.textContent = note.textContent ? `${note.textContent}; ${message}` : message;
      note.hidden = false;
    }
    first = first || target;
  }
  problem.replaceChildren(
    h("p", {}, `The settings were not saved: ${problems.length} problem${problems.length === 1 ? "" : "s"}.`),
    h("ul", {}, problems.map((p) => h("li", {}, p.field ? `${p.field}: ${p.message}` : p.message))),
  );
  problem.hidden = false;
  announce(`The settings were not saved: ${problems.map((p) => `${p.field} ${p.message}`).join("; ")}`);
  (first?.matches("fieldset") ? first.querySelector("input") : first)?.focus();
  if (!first) problem.focus();
}

function findField(form, name) {
  // "carriers[1].holidays[0]" -> the closest field the form has: carriers[1].holidays
  for (let candidate = name; candidate; candidate = candidate.replace(/(\[\d+\]|\.[^.[\]]+)$/, "")) {
    const found = form.querySelector(`[data-field="${CSS.escape(candidate)}"]`);
    if (found) return found;
    if (!/(\[\d+\]|\.[^.[\]]+)$/.test(candidate)) break;
  }
  return null;
}
