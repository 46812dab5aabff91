// The dashboard: talks to the API with the signed-in seller's token. Locally, the URL's fragment
// (#api=...&token=...) signs in; it is kept for this tab only and removed from the address bar.
"use strict";

const session = (() => {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("token")) {
    sessionStorage.setItem("oms.api", fragment.get("api") || "");
    sessionStorage.setItem("oms.token", fragment.get("token"));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return { api: sessionStorage.getItem("oms.api") || "", token: sessionStorage.getItem("oms.token") || "" };
})();

async function call(path) {
  let response;
  try {
    response = await fetch(session.api + path, { headers: { Authorization: `Bearer ${session.token}` } });
  } catch (error) {
    throw new Error(`The API at ${session.api || "(not configured)"} cannot be reached. Is the stack running?`);
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = body.error ? body.error.message : `the API answered ${response.status}`;
    throw new Error(response.status === 401 ? "Your sign-in has expired or is missing: open the dashboard link again." : message);
  }
  return body;
}

function cell(label, text) {
  const td = document.createElement("td");
  td.dataset.label = label;
  td.textContent = text;
  return td;
}

function showError(error) {
  const box = document.getElementById("error");
  box.textContent = error ? error.message : "";
  box.hidden = !error;
}

let nextToken = null;

async function loadOrders(append) {
  const form = new FormData(document.getElementById("filters"));
  const query = new URLSearchParams({ limit: "50" });
  for (const [key, value] of form) if (value) query.set(key, value);
  if (append && nextToken) query.set("nextToken", nextToken);
  try {
    const page = await call(`/orders?${query}`);
    showError(null);
    const rows = document.getElementById("orders");
    if (!append) rows.replaceChildren();
    for (const order of page.items) {
      const tr = document.createElement("tr");
      const units = order.items.reduce((sum, item) => sum + item.quantity, 0);
      tr.append(cell("Order", order.orderId), cell("Status", order.status), cell("Channel", order.fulfillmentChannel),
        cell("Purchased", order.purchaseDate), cell("Ship by", order.latestShipDate || "–"), cell("Units", String(units)));
      rows.append(tr);
    }
    nextToken = page.nextToken;
    document.getElementById("more").hidden = !nextToken;
    document.getElementById("empty").hidden = rows.children.length > 0;
  } catch (error) {
    showError(error);
  }
}

async function checkHealth() {
  const status = document.getElementById("api-status");
  try {
    const response = await fetch(`${session.api}/health`);
    status.textContent = response.ok ? "API up" : `API answered ${response.status}`;
    status.className = response.ok ? "ok" : "error";
  } catch {
    status.textContent = "API unreachable";
    status.className = "error";
  }
}

document.getElementById("filters").addEventListener("submit", (event) => { event.preventDefault(); loadOrders(false); });
document.getElementById("more").addEventListener("click", () => loadOrders(true));
checkHealth();
loadOrders(false);
