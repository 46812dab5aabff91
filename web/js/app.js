// The dashboard's shell: sign-in, hash routes, and errors shown in words (never a blank page).
import { call, NOT_SIGNED_IN } from "./api.js";
import { deployedSignIn, session, signIn, signOut, start } from "./auth.js";
import { announce, h, setWarehouseZone, showError, warehouseZone } from "./dom.js";
import { markCurrentGroup, setUpNav } from "./nav.js";
import * as health from "./views/health.js";
import * as inventory from "./views/inventory.js";
import * as apiKeys from "./views/keys.js";
import * as messages from "./views/messages.js";
import * as batches from "./views/batches.js";
import * as buyer from "./views/buyer.js";
import * as order from "./views/order.js";
import * as orders from "./views/orders.js";
import * as purchaseOrders from "./views/purchase-orders.js";
import * as planning from "./views/planning.js";
import * as queue from "./views/queue.js";
import * as receive from "./views/receive.js";
import * as reports from "./views/reports.js";
import * as returnPage from "./views/return.js";
import * as returns from "./views/returns.js";
import * as rules from "./views/rules.js";
import * as settings from "./views/settings.js";
import * as sku from "./views/sku.js";
import * as webhooks from "./views/webhooks.js";
import * as suppliers from "./views/suppliers.js";
import * as templates from "./views/templates.js";
import * as thread from "./views/thread.js";

const ROUTES = [
  [/^\/queue$/, queue, "queue"],
  [/^\/orders$/, orders, "orders"],
  [/^\/orders\/(.+)$/, order, "orders"],
  [/^\/inventory$/, inventory, "inventory"],
  [/^\/inventory\/(.+)$/, sku, "inventory"],
  [/^\/returns$/, returns, "returns"],
  [/^\/returns\/receive$/, receive, "returns"],
  [/^\/returns\/(.+)$/, returnPage, "returns"],
  [/^\/planning$/, planning, "planning"],
  [/^\/planning\/(.+)$/, planning, "planning"],
  [/^\/messages$/, messages, "messages"],
  [/^\/messages\/templates$/, templates, "templates"],
  [/^\/messages\/buyers\/(.+)$/, buyer, "messages"],
  [/^\/messages\/(.+)$/, thread, "messages"],
  [/^\/health$/, health, "health"],
  [/^\/reports$/, reports, "reports"],
  [/^\/batches$/, batches, "batches"],
  [/^\/batches\/(.+)$/, batches, "batches"],
  [/^\/purchase-orders$/, purchaseOrders, "purchase-orders"],
  [/^\/purchase-orders\/(.+)$/, purchaseOrders, "purchase-orders"],
  [/^\/suppliers$/, suppliers, "suppliers"],
  [/^\/suppliers\/(.+)$/, suppliers, "suppliers"],
  [/^\/rules$/, rules, "rules"],
  [/^\/settings$/, settings, "settings"],
  [/^\/webhooks$/, webhooks, "webhooks"],
  [/^\/webhooks\/(.+)$/, webhooks, "webhooks"],
  [/^\/settings\/keys$/, apiKeys, "keys"],
];

const main = () => document.getElementById("view");
let cleanup = null;
let rendering = 0;

function currentPath() {
  const hash = location.hash.slice(1) || "/queue";
  const path = hash.split("?")[0];
  return path === "/" || path === "" ? "/queue" : path;
}

async function route() {
  const ticket = ++rendering;
  if (cleanup) {
    try {
      cleanup();
    } catch {
      /* a view that cannot tidy up must not stop the next one */
    }
    cleanup = null;
  }
  showError(null);
  const view = main();
  const path = currentPath();
  updateSession();
  if (path === "/signed-out" && !session().token) return renderSignedOut(view, `You have signed out. ${NOT_SIGNED_IN}`);
  if (!session().token) return renderSignedOut(view, NOT_SIGNED_IN);
  const match = ROUTES.map(([pattern, module, nav]) => [path.match(pattern), module, nav]).find(([m]) => m);
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (match && link.dataset.nav === match[2]) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  markCurrentGroup();
  if (!match) {
    view.replaceChildren(h("h1", { tabindex: "-1" }, "Page not found"), h("p", {}, "There is no page at this address. ", h("a", { href: "#/queue" }, "Go to the ship-today queue.")));
    view.dataset.rendered = location.hash;
    return;
  }
  const [found, module] = match;
  const params = found.slice(1).map((part) => decodeURIComponent(part));
  view.setAttribute("aria-busy", "true");
  view.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  try {
    const result = await module.render(view, ...params);
    if (ticket !== rendering) {
      if (typeof result === "function") result();
      return;
    }
    cleanup = typeof result === "function" ? result : null;
  } catch (error) {
    if (ticket !== rendering) return;
    // said once, on the page itself (no banner repeating it)
    view.replaceChildren(
      h("h1", { tabindex: "-1" }, "This page could not be shown"),
      h("p", { class: "failure" }, error.message || String(error)),
      h("p", {}, h("button", { type: "button", onclick: () => route() }, "Try again")),
    );
  } finally {
    if (ticket === rendering) {
      view.removeAttribute("aria-busy");
      view.dataset.rendered = location.hash; // what the browser tests wait for
      const heading = view.querySelector("h1");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        document.title = `${heading.textContent} · Seller OMS`;
        if (moveFocus) heading.focus({ preventScroll: false });
      }
      moveFocus = true;
    }
  }
}

let moveFocus = false; // not on first load: the skip link comes first for keyboard users

function renderSignedOut(view, message) {
  for (const link of document.querySelectorAll("[data-nav]")) link.removeAttribute("aria-current");
  markCurrentGroup();
  const parts = [h("h1", { tabindex: "-1" }, "Sign in to the seller dashboard"), h("p", { class: "signin-help" }, message)];
  if (deployedSignIn()) parts.push(h("p", {}, h("button", { type: "button", class: "primary", onclick: () => signIn() }, "Sign in")));
  else parts.push(h("p", { class: "muted" }, "The link looks like http://127.0.0.1:PORT/#api=http://127.0.0.1:3000&token=… and signs this tab in."));
  view.replaceChildren(...parts);
  view.removeAttribute("aria-busy");
  view.dataset.rendered = location.hash;
  announce("Not signed in");
}

function updateSession() {
  const { api, token } = session();
  document.getElementById("sign-out").hidden = !token;
  document.getElementById("sign-in").hidden = Boolean(token) || !deployedSignIn();
  document.getElementById("who").textContent = token ? `API ${api.replace(/^https?:\/\//, "")}` : "";
  const zone = document.getElementById("zone");
  if (zone) {
    zone.textContent = token ? `Warehouse time: ${warehouseZone()}` : "";
    zone.title = "Every time is shown in the warehouse's zone; point at a time to see it in UTC.";
  }
}

/** The warehouse's zone, once: every time on every page is shown in it. */
async function loadWarehouseZone() {
  if (!session().token) return;
  const setup = await call("/settings/shipping").catch(() => null); // unreachable: the browser's zone
  setWarehouseZone(setup?.warehouse?.timeZone);
}

window.addEventListener("error", (event) => showError(new Error(`Something went wrong on this page: ${event.message}`)));
window.addEventListener("unhandledrejection", (event) => showError(event.reason instanceof Error ? event.reason : new Error(String(event.reason))));

async function boot() {
  setUpNav();
  document.getElementById("sign-out").addEventListener("click", () => signOut());
  document.getElementById("sign-in").addEventListener("click", () => signIn());
  try {
    await start();
  } catch (error) {
    showError(error);
  }
  await loadWarehouseZone();
  window.addEventListener("hashchange", () => route());
  const alert = document.getElementById("alert").hidden ? null : document.getElementById("alert").cloneNode(true);
  await route();
  if (alert) {
    // a sign-in failure from start() stays visible after the first route cleared the region
    document.getElementById("alert").replaceWith(alert);
  }
}

boot();
