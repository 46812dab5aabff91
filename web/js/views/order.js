// #/orders/<orderId>: the order, its deadlines, shipments and timeline, and the actions that ship it.
import { documentUrl } from "../links.js";
import { call } from "../api.js";
import {
  announce,
  failureNote,
  formatTime,
  h,
  markInvalid,
  money,
  showError,
  table,
  timeCell,
  when,
  whileBusy,
} from "../dom.js";
import { orderReturns } from "../order-returns.js";
import { cutoffText, flagBadges, mustShipAt, OPEN_STATUSES, statusText } from "../orders-common.js";
import { channel, confirmationStatus, orderStatus, serviceLevel, timelineText } from "../words.js";

const FALLBACK_CARRIERS = ["UPS", "USPS", "FedEx", "DHL", "Amazon Shipping", "OnTrac"];

export async function render(view, orderId) {
  const path = `/orders/${encodeURIComponent(orderId)}`;
  const [order, timeline, carriers] = await Promise.all([
    call(path),
    call(`${path}/timeline`).catch((error) => ({ error })),
    call("/carriers").catch((error) => ({ error })),
  ]);
  await draw(view, order, timeline, carriers);
}

function draw(view, order, timeline, carriers) {
  const zone = order.mustShipBy?.timeZone;
  const facts = [
    ["Status", statusText(order, { business: true })],
    ["Shipped by", channel(order.fulfillmentChannel)],
    ["Purchased", timeCell(order.purchaseDate)],
    ["Must ship by", timeCell(mustShipAt(order), zone)],
    ["Amazon's latest ship date", timeCell(order.latestShipDate)],
    ["Pickup cutoff", cutoffText(order)],
    ["Deliver by", timeCell(order.latestDeliveryDate)],
    ["Ship service", order.shipServiceLevel ? h("span", { title: order.shipServiceLevel }, serviceLevel(order.shipServiceLevel)) : "–"],
    ["Order total", money(order.orderTotal)],
    ["Pick batch", order.batch ? h("a", { href: `#/batches/${encodeURIComponent(order.batch.batchId)}`, id: "order-batch" }, order.batch.batchId) : "Not in a batch"],
  ];
  const itemColumns = [
    { label: "Image", cell: (i) => thumbnail(i) },
    { label: "SKU", cell: (i) => h("a", { href: `#/inventory/${encodeURIComponent(i.sku)}` }, i.sku) },
    { label: "Title", cell: (i) => i.title || "–" },
    { label: "Ordered", cell: (i) => String(i.quantity) },
    { label: "Shipped", cell: (i) => String(i.quantityShipped || 0) },
    {
      label: "Short",
      // units of the line no stock on hand serves now (backordered): cleared when stock arrives
      cell: (i) => (i.quantityShort ? h("span", { class: "short-units", "data-order-item-id": i.orderItemId }, `${i.quantityShort} short`) : "0"),
      className: "number",
    },
    { label: "Unit price", cell: (i) => money(i.unitPrice) },
  ];
  view.replaceChildren(
    h("p", { class: "breadcrumb" }, h("a", { href: "#/queue" }, "← Ship-today queue")),
    h("h1", {}, `Order ${order.orderId}`),
    h("p", { class: "badges" }, flagBadges(order, { withDueToday: OPEN_STATUSES.includes(order.status), none: null })),
    h("dl", { class: "facts" }, facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
    h("section", { "aria-labelledby": "items-title" }, h("h2", { id: "items-title" }, "Items"), table("Items of the order", itemColumns, order.items || [])),
    actions(view, order, carriers),
    shipments(order, (shipmentId, button) => confirmNow(view, order, shipmentId, button, carriers)),
    buyerUpdates(view, order, carriers),
    timelineSection(timeline),
  );
  // the order's returns last, read after the order is on the page (redrawn with it after every change)
  const slot = h("div", { id: "order-returns-slot" });
  view.append(slot);
  return orderReturns(order).then((section) => slot.replaceChildren(section));
}

// A package Amazon has not accepted yet: try its confirmation now (the schedule retries it anyway).
async function confirmNow(view, order, shipmentId, button, carriers) {
  try {
    await whileBusy(button, "Confirming…", async () => {
      const path = `/orders/${encodeURIComponent(order.orderId)}/shipments/${encodeURIComponent(shipmentId)}/confirm`;
      const answer = await call(path, { method: "POST" });
      showError(null);
      const timeline = await call(`/orders/${encodeURIComponent(order.orderId)}/timeline`).catch((error) => ({ error }));
      draw(view, answer.order, timeline, carriers);
      const status = answer.shipment?.confirmation?.status || "unknown";
      announce(`Package ${shipmentId}: Amazon confirmation ${confirmationStatus(status)}.`);
    });
  } catch (error) {
    showError(error);
  }
}

function thumbnail(item) {
  if (!item.imageUrl) return h("span", { class: "thumb thumb-empty", "aria-hidden": "true" });
  return h("img", { class: "thumb", src: item.imageUrl, alt: item.title ? `Picture of ${item.title}` : `Picture of ${item.sku}`, width: "40", height: "40", loading: "lazy" });
}

// Buy Shipping's services for the package (the catalogue's weight and size, or the default box), the
// cheapest that keeps the delivery promise chosen first; the seller picks one and buys its label.
function rateShopping(order, buyService) {
  const result = h("div", { id: "rates-result", "aria-live": "polite" });
  const load = h("button", { type: "button", id: "compare-rates" }, "Compare rates");
  load.addEventListener("click", () =>
    whileBusy(load, "Asking Amazon…", async () => {
      try {
        const rates = await call(`/orders/${encodeURIComponent(order.orderId)}/rates`);
        showError(null);
        result.replaceChildren(...rateTable(rates, buyService));
      } catch (error) {
        result.replaceChildren(failureNote("The rates", error)); // said once, where the rates would be
      }
    }),
  );
  return h("section", { id: "rates", "aria-labelledby": "rates-title" }, h("h3", { id: "rates-title" }, "Compare shipping rates"), h("p", {}, load), result);
}

function rateTable(rates, buyService) {
  const items = rates.items || [];
  if (!items.length) return [h("p", { class: "empty" }, "Amazon offers no service for this package.")];
  const pkg = rates.package || {};
  const sourceWords = { catalogue: "from the catalogue", given: "as given", default: "the shipping setup's default box" };
  const deliveryText = (r) => [r.deliveryWindow?.earliest, r.deliveryWindow?.latest].filter(Boolean).map((t) => formatTime(t)).join(" – ") || "–";
  const columns = [
    {
      label: "Choose",
      cell: (r) => h("input", { type: "radio", name: "rate", value: r.shippingServiceId, id: `rate-${r.shippingServiceId}`, checked: r.cheapestOnTime || null, "aria-label": `${r.carrier} ${r.service}` }),
    },
    { label: "Carrier", cell: (r) => r.carrier },
    { label: "Service", cell: (r) => r.service },
    { label: "Price", cell: (r) => h("span", { class: "rate-price" }, money(r.price)) },
    { label: "Delivery", cell: (r) => deliveryText(r) },
    {
      label: "Promise",
      cell: (r) => h("span", {}, r.meetsPromise ? "on time" : h("span", { class: "warning" }, "late"), r.cheapestOnTime ? [" ", h("span", { class: "badge badge-today" }, "cheapest on time")] : null),
    },
  ];
  const buy = h("button", { type: "button", id: "buy-chosen", class: "primary" }, "Buy the chosen label");
  const list = table("Shipping services Amazon offers", columns, items, { rowAttributes: (r) => ({ "data-service-id": r.shippingServiceId }) });
  buy.addEventListener("click", () => {
    const chosen = list.querySelector("input[name=rate]:checked");
    if (!chosen) {
      announce("Choose a service first.");
      return;
    }
    const rate = items.find((r) => r.shippingServiceId === chosen.value);
    if (!window.confirm(`Buy ${rate.carrier} ${rate.service} for ${money(rate.price)}?`)) return;
    buyService(chosen.value, buy);
  });
  const weight = pkg.weight ? `${pkg.weight} ${pkg.weightUnit}, ${pkg.length} × ${pkg.width} × ${pkg.height} ${pkg.dimensionUnit}` : "";
  return [h("p", { class: "muted" }, `Package: ${weight} (${sourceWords[pkg.source] || pkg.source}).`), list, h("p", {}, buy)];
}

function shipments(order, retry) {
  const list = order.shipments || [];
  const columns = [
    { label: "Carrier", cell: (s) => s.carrier || "–" },
    { label: "Tracking number", cell: (s) => h("span", { class: "tracking" }, s.trackingNumber || "–") },
    { label: "Service", cell: (s) => s.service || "–" },
    { label: "Shipped", cell: (s) => when(s.shipDate) },
    { label: "Items", cell: (s) => (s.items || []).map((i) => `${i.quantity} × ${i.sku || i.orderItemId}`).join(", ") || "all" },
    { label: "How", cell: (s) => (s.source === "buyShipping" ? "label bought" : "recorded") },
    { label: "Label cost", cell: (s) => money(s.rate) },
    { label: "Amazon confirmation", cell: (s) => confirmation(s.confirmation, s.shipmentId, retry) },
    { label: "Label", cell: (s) => (documentUrl(s.labelUrl) ? h("a", { href: documentUrl(s.labelUrl), target: "_blank", rel: "noopener" }, "Label (PDF)") : "–") },
  ];
  return h(
    "section",
    { "aria-labelledby": "shipments-title", id: "shipments" },
    h("h2", { id: "shipments-title" }, "Shipments"),
    list.length ? table("Shipments of the order", columns, list, { rowAttributes: (s) => ({ "data-shipment-id": s.shipmentId }) }) : h("p", { class: "empty" }, "Nothing shipped yet."),
  );
}

function confirmation(state, shipmentId, retry) {
  if (!state) return "–";
  const parts = [h("span", { class: `badge badge-${state.status}` }, confirmationStatus(state.status))];
  if (state.confirmedAt) parts.push(" ", when(state.confirmedAt));
  if (state.attempts) parts.push(h("span", { class: "muted" }, ` (${state.attempts} attempt${state.attempts === 1 ? "" : "s"})`));
  if (state.lastError) parts.push(h("span", { class: "warning" }, ` ${state.lastError}`));
  if (state.status !== "confirmed" && retry) {
    const button = h("button", { type: "button", class: "confirm-now", "data-shipment-id": shipmentId }, "Confirm now");
    button.addEventListener("click", () => retry(shipmentId, button));
    parts.push(" ", button);
  }
  return h("span", {}, ...parts);
}

function timelineSection(timeline) {
  const section = h("section", { "aria-labelledby": "timeline-title", id: "timeline" }, h("h2", { id: "timeline-title" }, "Timeline"));
  if (timeline.error) {
    section.append(failureNote("The timeline", timeline.error));
    return section;
  }
  const items = timeline.items || [];
  if (!items.length) {
    section.append(h("p", { class: "empty" }, "Nothing has happened to this order yet."));
    return section;
  }
  const kinds = { status: "Status", stock: "Stock", shipment: "Shipment", confirmation: "Amazon", flag: "Deadline", message: "Message", rule: "Rule", delivery: "Carrier" };
  section.append(
    h(
      "ol",
      { class: "timeline" },
      items.map((event) =>
        h(
          "li",
          { "data-kind": event.kind },
          when(event.at),
          h("span", { class: `badge badge-kind-${event.kind}` }, kinds[event.kind] || event.kind),
          h("span", { class: "timeline-text" }, timelineText(event)),
        ),
      ),
    ),
  );
  return section;
}

function actions(view, order, carriers) {
  const section = h("section", { "aria-labelledby": "ship-title", id: "ship" }, h("h2", { id: "ship-title" }, "Ship"));
  if (order.fulfillmentChannel !== "MFN") {
    section.append(h("p", { class: "muted" }, "Amazon ships this order (FBA): nothing to do here."));
    return section;
  }
  if (!OPEN_STATUSES.includes(order.status)) {
    section.append(h("p", { class: "muted" }, `Nothing to ship: the order is ${orderStatus(order.status).toLowerCase()}.`));
    return section;
  }
  const open = (order.items || []).filter((item) => item.quantity - (item.quantityShipped || 0) > 0);
  const known = carriers.error ? FALLBACK_CARRIERS.map((code) => ({ code, name: code })) : carriers.items || [];
  const carrier = h(
    "select",
    { id: "ship-carrier", name: "carrier", required: true },
    h("option", { value: "" }, "Choose a carrier"),
    known.map((c) =>
      h("option", { value: c.code, "data-example": c.example || "" }, `${c.name && c.name !== c.code ? `${c.name} (${c.code})` : c.code}${c.setUp === false ? " — no pickups set up" : ""}`),
    ),
  );
  const hint = h("span", { id: "ship-tracking-hint", class: "hint" }, "The carrier's tracking number, as printed on the label.");
  const tracking = h("input", { id: "ship-tracking", name: "trackingNumber", required: true, autocomplete: "off", spellcheck: "false", "aria-describedby": "ship-tracking-hint" });
  const carrierName = h("input", { id: "ship-carrier-name", name: "carrierName", autocomplete: "off", placeholder: "e.g. Royal Mail" });
  const carrierNameLabel = h("label", { for: "ship-carrier-name", hidden: true }, "Carrier's name", carrierName);
  carrier.addEventListener("change", () => {
    const example = carrier.selectedOptions[0]?.dataset.example;
    hint.textContent = example ? `For example ${example}.` : "The carrier's tracking number, as printed on the label.";
    carrierNameLabel.hidden = carrier.value !== "Other";
  });
  const quantities = open.map((item) =>
    h(
      "label",
      { for: `ship-qty-${item.orderItemId}` },
      `Units of ${item.sku}`,
      h("input", {
        id: `ship-qty-${item.orderItemId}`,
        type: "number",
        inputmode: "numeric",
        min: "0",
        max: String(item.quantity - (item.quantityShipped || 0)),
        value: String(item.quantity - (item.quantityShipped || 0)),
        "data-order-item-id": item.orderItemId,
      }),
    ),
  );
  const problem = h("p", { id: "ship-problem", class: "failure", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Record shipment");
  // a tracking number already on another order is refused unless one box really holds both orders
  const shared = h("input", { type: "checkbox", id: "ship-multi-order", name: "multiOrderPackage" });
  const sharedLabel = h("label", { class: "inline", for: "ship-multi-order" }, shared, " This package also holds other orders (same tracking number)");
  const form = h(
    "form",
    { id: "ship-form", class: "stacked", "aria-describedby": "ship-problem", novalidate: true },
    h("fieldset", {}, h("legend", {}, "Record a shipment you sent"), h("label", { for: "ship-carrier" }, "Carrier", carrier), carrierNameLabel, h("label", { for: "ship-tracking" }, "Tracking number", tracking, hint), sharedLabel),
    open.length > 1 || open.some((i) => i.quantity - (i.quantityShipped || 0) > 1)
      ? h("fieldset", { class: "quantities" }, h("legend", {}, "Units in this parcel (less than all makes a split shipment)"), quantities)
      : null,
    problem,
    h("div", { class: "buttons" }, submit),
  );

  async function send(body, button, busyText) {
    problem.hidden = true;
    markInvalid(form);
    try {
      await whileBusy(button, busyText, () => record(body));
    } catch (error) {
      problem.textContent = error.message; // said here, by the form, with its fields marked; not in the banner too
      problem.hidden = false;
      markInvalid(form, error.details || []);
    }
  }

  /** Records the parcel, then shows the order as it now stands. */
  async function record(body) {
    const answer = await call(`/orders/${encodeURIComponent(order.orderId)}/shipments`, { method: "POST", body });
    showError(null);
    const shipment = answer.shipment || {};
    const fresh = answer.order || (await call(`/orders/${encodeURIComponent(order.orderId)}`));
    const timeline = await call(`/orders/${encodeURIComponent(order.orderId)}/timeline`).catch((error) => ({ error }));
    draw(view, fresh, timeline, carriers);
    const text = `Shipment recorded: ${shipment.carrier || ""} ${shipment.trackingNumber || ""}`.trim() + ".";
    view.querySelector("#shipments-title")?.after(h("p", { class: "ok", id: "ship-done" }, text));
    announce(text);
    view.querySelector("#shipments-title")?.setAttribute("tabindex", "-1");
    view.querySelector("#shipments-title")?.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!carrier.value || !tracking.value.trim()) {
      problem.textContent = !carrier.value ? "Choose the carrier." : "Enter the tracking number.";
      problem.hidden = false;
      (!carrier.value ? carrier : tracking).focus();
      return;
    }
    const body = { carrier: carrier.value, trackingNumber: tracking.value.trim() };
    if (carrier.value === "Other") body.carrierName = carrierName.value.trim();
    if (shared.checked) body.multiOrderPackage = true;
    const inputs = [...form.querySelectorAll("input[data-order-item-id]")];
    const split = inputs.some((input) => Number(input.value) !== Number(input.max));
    if (split) {
      body.items = inputs.filter((input) => Number(input.value) > 0).map((input) => ({ orderItemId: input.dataset.orderItemId, quantity: Number(input.value) }));
    }
    send(body, submit, "Recording…");
  });

  const buy = h("button", { type: "button", id: "buy-label" }, "Buy a label with Amazon");
  buy.addEventListener("click", () => {
    if (window.confirm(`Buy a shipping label for order ${order.orderId}? Amazon charges for it.`)) send({ buyLabel: true }, buy, "Buying…");
  });
  section.append(form, h("p", {}, "Or let Amazon's Buy Shipping choose a service and print the label: ", buy));
  section.append(rateShopping(order, (serviceId, button) => send({ buyLabel: true, shippingServiceId: serviceId }, button, "Buying…")));
  if (carriers.error && !carriers.error.missingRoute) section.append(failureNote("The carrier list", carriers.error));
  return section;
}

// "Tell the buyer": the updates Amazon lets the seller send this order's buyer now (each kind once), read
// after the page is drawn; sending one redraws the order with its timeline.
const UPDATE_KINDS = {
  confirmDeliveryDetails: "Confirm delivery details (arrange the delivery, a contact for it)",
  confirmOrderDetails: "Confirm order details (a question before shipping)",
  unexpectedProblem: "An unexpected problem (e.g. a delay)",
};

function buyerUpdates(view, order, carriers) {
  const section = h("section", { "aria-labelledby": "updates-title", id: "buyer-updates" }, h("h2", { id: "updates-title" }, "Tell the buyer"), h("p", { class: "loading" }, "Asking Amazon what it allows…"));
  const path = `/orders/${encodeURIComponent(order.orderId)}/buyer-updates`;
  call(path)
    .then((options) => {
      const sent = (options.sent || []).map((u) => h("li", {}, `${UPDATE_KINDS[u.kind] || u.kind}: sent `, when(u.sentAt, order.mustShipBy?.timeZone)));
      const open = (options.allowed || []).filter((kind) => !(options.sent || []).some((u) => u.kind === kind));
      const parts = [h("h2", { id: "updates-title" }, "Tell the buyer")];
      if (sent.length) parts.push(h("ul", { id: "updates-sent" }, sent));
      if (!open.length) {
        parts.push(h("p", { class: "muted" }, options.allowed?.length ? "Every update Amazon allows for this order was sent." : "Amazon allows no message to this order's buyer now."));
        section.replaceChildren(...parts);
        return;
      }
      const kind = h("select", { id: "update-kind", name: "kind" }, open.map((k) => h("option", { value: k }, UPDATE_KINDS[k] || k)));
      const text = h("textarea", { id: "update-text", name: "text", rows: "3", maxlength: "2000", required: true });
      const send = h("button", { type: "submit" }, "Send through Amazon");
      const form = h("form", { id: "update-form", class: "stacked", novalidate: true }, h("label", { for: "update-kind" }, "What", kind), h("label", { for: "update-text" }, "Message (in the buyer's language; no links or e-mail addresses)", text), send);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        showError(null);
        try {
          await whileBusy(send, "Sending…", () => call(path, { method: "POST", body: { kind: kind.value, text: text.value } }));
          announce("Sent to the buyer through Amazon.");
          const [fresh, timeline] = await Promise.all([call(`/orders/${encodeURIComponent(order.orderId)}`), call(`/orders/${encodeURIComponent(order.orderId)}/timeline`).catch((error) => ({ error }))]);
          await draw(view, fresh, timeline, carriers);
        } catch (error) {
          showError(error);
        }
      });
      parts.push(form);
      section.replaceChildren(...parts);
    })
    .catch((error) => section.replaceChildren(h("h2", { id: "updates-title" }, "Tell the buyer"), failureNote("What Amazon allows", error)));
  return section;
}
