// #/suppliers: the suppliers (oldest first) and a form to add one; #/suppliers/<supplierId>: one supplier with
// its terms per SKU (the lead time typed per leg, what was observed on received purchase orders, and which one
// the reorder rules use, in words) and a form to set a SKU's terms.
import { call } from "../api.js";
import { announce, h, markInvalid, money, pagedRows, showError, table, whileBusy } from "../dom.js";

const PAGE = 50;

function field(id, label, attributes = {}) {
  const input = h("input", { id, name: attributes.name || id, autocomplete: "off", ...attributes });
  return [h("label", { for: id }, label), input];
}

export async function render(view, supplierId) {
  if (supplierId) return renderOne(view, supplierId);
  const holder = h("div", { id: "suppliers-table" });
  const more = h("button", { type: "button", id: "suppliers-more", hidden: true }, "Show more");
  const columns = [
    { label: "Supplier", cell: (s) => h("a", { href: `#/suppliers/${encodeURIComponent(s.supplierId)}` }, s.name) },
    { label: "E-mail", cell: (s) => s.email || "–" },
    { label: "Currency", cell: (s) => s.currencyCode },
  ];
  const list = pagedRows({
    more,
    fetchPage: (nextToken) => call("/suppliers", { query: { limit: PAGE, nextToken } }),
    draw(shown) {
      holder.replaceChildren(shown.length ? table("Suppliers", columns, shown, { rowAttributes: (s) => ({ "data-supplier-id": s.supplierId }) }) : h("p", { class: "empty" }, "No suppliers yet."));
      announce(`${shown.length} supplier${shown.length === 1 ? "" : "s"} shown.`);
    },
  });
  const [nameLabel, name] = field("supplier-name", "Name ", { required: true, maxlength: "200" });
  const [emailLabel, email] = field("supplier-email", " E-mail ", { name: "email", type: "email", maxlength: "254" });
  const [currencyLabel, currency] = field("supplier-currency", " Currency ", { name: "currencyCode", value: "USD", maxlength: "3", size: "4", pattern: "[A-Z]{3}" });
  const add = h("button", { type: "submit", id: "supplier-add" }, "Add the supplier");
  const key = `supplier-${globalThis.crypto?.randomUUID ? crypto.randomUUID() : Date.now()}`;
  const form = h("form", { id: "supplier-new", "aria-labelledby": "supplier-new-title" }, h("h2", { id: "supplier-new-title" }, "Add a supplier"), nameLabel, name, emailLabel, email, currencyLabel, currency, " ", add);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(null);
    markInvalid(form);
    const body = { name: name.value.trim(), currencyCode: currency.value.trim().toUpperCase(), ...(email.value.trim() ? { email: email.value.trim() } : {}) };
    try {
      const made = await whileBusy(add, "Adding…", () => call("/suppliers", { method: "POST", headers: { "Idempotency-Key": key }, body }));
      location.hash = `#/suppliers/${encodeURIComponent(made.supplierId)}`;
    } catch (error) {
      markInvalid(form, error.details);
      showError(error);
    }
  });
  view.replaceChildren(
    h("p", { class: "breadcrumb" }, h("a", { href: "#/purchase-orders" }, "← Purchase orders")),
    h("h1", {}, "Suppliers"),
    h("p", { class: "muted" }, "Who you buy from. Open a supplier to set its terms for each SKU it makes: lead time, minimum order, case pack and cost."),
    form,
    holder,
    more,
  );
  await list.load();
}

function leadTimeText(terms) {
  const legs = terms.leadTime || {};
  return `${legs.productionDays ?? 0} + ${legs.transitDays ?? 0} + ${legs.receivingDays ?? 0} days`;
}

async function renderOne(view, supplierId) {
  const supplier = await call(`/suppliers/${encodeURIComponent(supplierId)}`);
  const columns = [
    { label: "SKU", cell: (t) => h("a", { href: `#/inventory/${encodeURIComponent(t.sku)}` }, t.sku) },
    { label: "Their code", cell: (t) => t.supplierSku || "–" },
    { label: "Production + transit + receiving", cell: leadTimeText },
    { label: "Lead time used", cell: (t) => h("span", { title: t.effective.explanation }, `${t.effective.leadTimeDays} days (${t.effective.source})`) },
    { label: "Why", cell: (t) => t.effective.explanation, className: "secondary" },
    { label: "Minimum order", cell: (t) => String(t.minimumOrderQuantity) },
    { label: "Case pack", cell: (t) => String(t.casePack) },
    { label: "Unit cost", cell: (t) => money(t.unitCost) },
    { label: "Preferred", cell: (t) => (t.preferred ? "yes" : "–") },
  ];
  const [skuLabel, sku] = field("terms-sku", "SKU ", { required: true, maxlength: "200" });
  const [productionLabel, production] = field("terms-production", " Production days ", { name: "productionDays", type: "number", min: "0", step: "0.5", value: "0" });
  const [transitLabel, transit] = field("terms-transit", " Transit days ", { name: "transitDays", type: "number", min: "0", step: "0.5", value: "0" });
  const [receivingLabel, receiving] = field("terms-receiving", " Receiving days ", { name: "receivingDays", type: "number", min: "0", step: "0.5", value: "0" });
  const [moqLabel, moq] = field("terms-moq", " Minimum order ", { name: "minimumOrderQuantity", type: "number", min: "1", step: "1", value: "1" });
  const [packLabel, pack] = field("terms-case-pack", " Case pack ", { name: "casePack", type: "number", min: "1", step: "1", value: "1" });
  const [costLabel, cost] = field("terms-cost", ` Unit cost (${supplier.currencyCode}) `, { name: "amount", inputmode: "decimal", pattern: "[0-9]+([.][0-9]+)?" });
  const [codeLabel, code] = field("terms-code", " Their code ", { name: "supplierSku", maxlength: "100" });
  const save = h("button", { type: "submit", id: "terms-save" }, "Save the terms");
  const form = h(
    "form",
    { id: "terms-form", "aria-labelledby": "terms-title" },
    h("h2", { id: "terms-title" }, "Terms for a SKU"),
    h("p", { class: "muted" }, "Once 3 purchase-order lines of a SKU were received from this supplier, the lead times observed replace the typed one."),
    ...[skuLabel, sku, codeLabel, code, productionLabel, production, transitLabel, transit, receivingLabel, receiving, moqLabel, moq, packLabel, pack, costLabel, cost],
    " ",
    save,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(null);
    markInvalid(form);
    const body = {
      leadTime: { productionDays: Number(production.value), transitDays: Number(transit.value), receivingDays: Number(receiving.value) },
      minimumOrderQuantity: Number(moq.value),
      casePack: Number(pack.value),
      ...(cost.value.trim() ? { unitCost: { amount: cost.value.trim(), currencyCode: supplier.currencyCode } } : {}),
      ...(code.value.trim() ? { supplierSku: code.value.trim() } : {}),
    };
    try {
      await whileBusy(save, "Saving…", () => call(`/suppliers/${encodeURIComponent(supplierId)}/skus/${encodeURIComponent(sku.value.trim())}`, { method: "PUT", body }));
      await renderOne(view, supplierId);
      announce(`Terms for ${body.supplierSku || sku.value.trim()} saved.`);
    } catch (error) {
      markInvalid(form, error.details);
      showError(error);
    }
  });
  view.replaceChildren(
    h("p", { class: "breadcrumb" }, h("a", { href: "#/suppliers" }, "← Suppliers")),
    h("h1", {}, supplier.name),
    h("dl", { class: "facts" }, h("dt", {}, "E-mail"), h("dd", {}, supplier.email || "–"), h("dt", {}, "Currency"), h("dd", {}, supplier.currencyCode), h("dt", {}, "Address"), h("dd", {}, (supplier.address || []).join(", ") || "–")),
    h(
      "section",
      { "aria-labelledby": "supplier-skus-title" },
      h("h2", { id: "supplier-skus-title" }, "SKUs it makes"),
      (supplier.skus || []).length ? table("Its terms per SKU", columns, supplier.skus, { rowAttributes: (t) => ({ "data-sku": t.sku }) }) : h("p", { class: "empty" }, "No terms yet: set them below."),
    ),
    form,
  );
}
