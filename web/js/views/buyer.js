// #/messages/buyers/<buyerId>: one buyer across their orders (Amazon keeps one alias per buyer): their
// message threads, the orders they wrote about and those orders' returns.
import { call } from "../api.js";
import { h, table, when } from "../dom.js";
import { messageIntent, orderStatus, returnStatus, threadStatus } from "../words.js";

export async function render(view, buyerId) {
  const buyer = await call(`/messages/buyers/${encodeURIComponent(buyerId)}`);
  const threadColumns = [
    { label: "Order", cell: (t) => h("a", { href: `#/messages/${encodeURIComponent(t.threadId)}` }, t.orderId) },
    { label: "About", cell: (t) => messageIntent(t.intent) },
    { label: "Last message", cell: (t) => when(t.lastMessageAt) },
    { label: "Status", cell: (t) => threadStatus(t.status) },
  ];
  const orderColumns = [
    { label: "Order", cell: (o) => h("a", { href: `#/orders/${encodeURIComponent(o.orderId)}` }, o.orderId) },
    { label: "Bought", cell: (o) => when(o.purchaseDate) },
    { label: "Items", cell: (o) => o.items.map((i) => `${i.quantity} × ${i.title || i.sku}`).join(", ") },
    { label: "Status", cell: (o) => orderStatus(o.status) },
    {
      label: "Returns",
      cell: (o) => (o.returns.length ? h("span", {}, o.returns.map((r) => h("a", { href: `#/returns/${encodeURIComponent(r.returnId)}`, class: "return-id" }, `${r.returnId} (${returnStatus(r.status)}) `))) : "–"),
    },
  ];
  view.replaceChildren(
    h("h1", {}, "One buyer's orders and messages"),
    h("p", { class: "muted" }, buyer.buyerAlias || ""),
    h("section", { id: "buyer-threads", "aria-labelledby": "buyer-threads-title" }, h("h2", { id: "buyer-threads-title" }, `Messages (${buyer.threads.length})`), table("Messages", threadColumns, buyer.threads)),
    h("section", { id: "buyer-orders", "aria-labelledby": "buyer-orders-title" }, h("h2", { id: "buyer-orders-title" }, `Orders (${buyer.orders.length})`), table("Orders", orderColumns, buyer.orders, { rowAttributes: (o) => ({ "data-order-id": o.orderId }) })),
  );
}
