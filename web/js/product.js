// The catalogue on the stock pages: a SKU's title and picture (Amazon's, or the seller's own title), and a
// form for the seller's own title, weight and dimensions (PUT /products/{sku}; blank fields follow Amazon).
import { call } from "./api.js";
import { announce, failureNote, formatTime, h, showError, whileBusy } from "./dom.js";

/** sku -> product for the SKUs of a page of rows (GET /products?skus=...); an empty map if it fails. */
export async function productsOf(skus) {
  const unique = [...new Set(skus)].slice(0, 100);
  if (!unique.length) return new Map();
  try {
    const answer = await call("/products", { query: { skus: unique.join(",") } });
    return new Map(answer.items.map((p) => [p.sku, p]));
  } catch {
    return new Map();
  }
}

export function productCell(product) {
  if (!product) return h("span", { class: "muted" }, "–");
  return h(
    "span",
    { class: "product-cell" },
    product.imageUrl ? h("img", { class: "thumb thumb-small", src: product.imageUrl, alt: "", width: "24", height: "24" }) : null,
    product.title || h("span", { class: "muted" }, "no title yet"),
  );
}

const size = (d) => (d ? `${d.length} × ${d.width} × ${d.height} ${d.unit}` : "–");
const weight = (w) => (w ? `${w.value} ${w.unit}` : "–");

/** The SKU page's product section: what is shown, where it came from, and the seller's own values. */
export async function productSection(sku) {
  const section = h("section", { id: "product", "aria-labelledby": "product-heading" }, h("h2", { id: "product-heading" }, "Product"));
  let product;
  try {
    product = await call(`/products/${encodeURIComponent(sku)}`);
  } catch (error) {
    if (error.status === 404) product = { sku, sellerSet: [], amazon: {} };
    else {
      section.append(failureNote("The product", error));
      return section;
    }
  }
  draw(section, product);
  return section;
}

function draw(section, product) {
  const own = new Set(product.sellerSet || []);
  const whose = (field) => h("span", { class: "muted" }, own.has(field) ? " (yours)" : product.readAt ? " (Amazon's)" : "");
  const facts = [
    ["Title", [product.title || "–", whose("title")]],
    ["ASIN", product.asin || (product.listedOnAmazon === false ? "not listed on Amazon" : "–")],
    ["Weight", [weight(product.weight), whose("weight")]],
    ["Dimensions", [size(product.dimensions), whose("dimensions")]],
    ["Read from Amazon", product.readAt ? formatTime(product.readAt) : "not yet"],
  ];
  const field = (id, label, value, attributes = {}) => h("label", { for: id }, label, h("input", { id, name: id.replace("product-", ""), value: value ?? "", ...attributes }));
  const mine = (name) => (own.has(name) ? product[name] : null);
  const w = mine("weight");
  const d = mine("dimensions");
  const unitSelect = (id, units, chosen) => h("select", { id, name: id.replace("product-", "") }, units.map((u) => h("option", { value: u, selected: u === chosen || null }, u)));
  const problem = h("p", { id: "product-problem", class: "failure", role: "alert", hidden: true });
  const form = h(
    "form",
    { id: "product-form", class: "stacked", novalidate: true },
    h(
      "fieldset",
      {},
      h("legend", {}, "Your own values (leave blank to use Amazon's)"),
      field("product-title", "Title", mine("title"), { maxlength: "500" }),
      field("product-weight", "Weight", w?.value, { type: "number", min: "0", step: "any", inputmode: "decimal" }),
      h("label", { for: "product-weight-unit" }, "Weight unit", unitSelect("product-weight-unit", ["oz", "lb", "g", "kg"], w?.unit || "oz")),
      field("product-length", "Length", d?.length, { type: "number", min: "0", step: "any" }),
      field("product-width", "Width", d?.width, { type: "number", min: "0", step: "any" }),
      field("product-height", "Height", d?.height, { type: "number", min: "0", step: "any" }),
      h("label", { for: "product-dimension-unit" }, "Dimension unit", unitSelect("product-dimension-unit", ["in", "cm"], d?.unit || "in")),
    ),
    problem,
    h("div", { class: "buttons" }, h("button", { type: "submit" }, "Save")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = (id) => form.querySelector(`#${id}`).value.trim();
    const body = {};
    if (value("product-title")) body.title = value("product-title");
    if (value("product-weight")) body.weight = { value: Number(value("product-weight")), unit: value("product-weight-unit") };
    const sides = ["length", "width", "height"].map((s) => value(`product-${s}`));
    if (sides.some(Boolean)) {
      body.dimensions = { length: Number(sides[0]) || null, width: Number(sides[1]) || null, height: Number(sides[2]) || null, unit: value("product-dimension-unit") };
    }
    try {
      const saved = await whileBusy(form.querySelector(`button[type="submit"]`), null, () =>
        call(`/products/${encodeURIComponent(product.sku)}`, { method: "PUT", body }),
      );
      showError(null);
      section.replaceChildren(section.firstChild);
      draw(section, saved);
      announce("Product saved.");
    } catch (error) {
      problem.textContent = error.message;
      problem.hidden = false;
      showError(error);
    }
  });
  section.append(
    h(
      "div",
      { class: "product-summary" },
      product.imageUrl ? h("img", { class: "product-image", src: product.imageUrl, alt: product.title ? `Picture of ${product.title}` : "", width: "120", height: "120" }) : null,
      h("dl", { class: "facts" }, facts.map(([term, text]) => [h("dt", {}, term), h("dd", {}, text)])),
    ),
    form,
  );
}
