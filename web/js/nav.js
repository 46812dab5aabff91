// The main navigation: a few top entries, some of them groups that open a short list (the disclosure
// pattern: a button with aria-expanded showing the list it controls). One group is open at a time; Escape,
// a click elsewhere, focus leaving the group or a page change closes it. On a phone the whole navigation
// sits behind the "Menu" button. The page shown is marked aria-current="page" (app.js), and its group's
// button carries data-current, so the group reads as the place you are even while it is closed.

import { h } from "./dom.js";

// The navigation, drawn from this one list (index.html has only the empty <ul class="nav-top">): a top entry
// is a page [label, route, data-nav] or a group {group, id, pages: [[label, route, data-nav], ...]}.
export const NAV = [
  {
    group: "Orders",
    id: "nav-orders",
    pages: [
      ["Ship today", "#/queue", "queue"],
      ["All orders", "#/orders", "orders"],
      ["Pick batches", "#/batches", "batches"],
    ],
  },
  {
    group: "Stock",
    id: "nav-stock",
    pages: [
      ["Stock levels", "#/inventory", "inventory"],
      ["Purchase orders", "#/purchase-orders", "purchase-orders"],
      ["Suppliers", "#/suppliers", "suppliers"],
    ],
  },
  ["Planning", "#/planning", "planning"],
  ["Returns", "#/returns", "returns"],
  ["Messages", "#/messages", "messages"],
  {
    group: "Reports",
    id: "nav-reports",
    pages: [
      ["Order reports", "#/reports", "reports"],
      ["Account health", "#/health", "health"],
    ],
  },
  {
    group: "Settings",
    id: "nav-settings",
    pages: [
      ["Shipping setup", "#/settings", "settings"],
      ["Order rules", "#/rules", "rules"],
      ["Reply templates", "#/messages/templates", "templates"],
      ["Webhooks", "#/webhooks", "webhooks"],
      ["API keys", "#/settings/keys", "keys"],
    ],
  },
];

const pageLink = ([label, href, nav]) => h("li", {}, h("a", { href, "data-nav": nav }, label));

/** The navigation's entries from NAV, each group a button and the list it shows (closed at first). */
export function drawNav(list = document.querySelector("#main-nav .nav-top")) {
  if (!list) return;
  list.replaceChildren(
    ...NAV.map((entry) =>
      Array.isArray(entry)
        ? pageLink(entry)
        : h(
            "li",
            { class: "nav-group" },
            h("button", { type: "button", "aria-expanded": "false", "aria-controls": entry.id }, entry.group),
            h("ul", { id: entry.id, hidden: true }, entry.pages.map(pageLink)),
          ),
    ),
  );
}

const header = () => document.querySelector(".site-header");
const groupButtons = () => [...document.querySelectorAll("#main-nav .nav-group > button[aria-controls]")];

function setOpen(button, open) {
  button.setAttribute("aria-expanded", String(open));
  const list = document.getElementById(button.getAttribute("aria-controls"));
  if (list) list.hidden = !open;
}

function closeGroups(except = null) {
  for (const button of groupButtons()) if (button !== except) setOpen(button, false);
}

function setMenuOpen(open) {
  const toggle = header()?.querySelector(".nav-toggle");
  if (!toggle) return;
  toggle.setAttribute("aria-expanded", String(open));
  document.getElementById("main-nav")?.classList.toggle("open", open);
}

/** After a page change: everything closed, the current page's group marked, the phone's Menu names it. */
export function markCurrentGroup() {
  closeGroups();
  setMenuOpen(false);
  let current = null;
  for (const button of groupButtons()) {
    const list = document.getElementById(button.getAttribute("aria-controls"));
    const here = list?.querySelector('a[aria-current="page"]');
    if (here) button.dataset.current = "true";
    else delete button.dataset.current;
    if (here) current = here.textContent;
  }
  const top = document.querySelector('#main-nav .nav-top > li > a[aria-current="page"]');
  const toggle = header()?.querySelector(".nav-toggle");
  if (toggle) toggle.textContent = current || top ? `Menu · ${current || top.textContent}` : "Menu";
}

export function setUpNav() {
  const nav = document.getElementById("main-nav");
  if (!nav) return;
  drawNav(nav.querySelector(".nav-top"));
  for (const button of groupButtons()) {
    button.addEventListener("click", () => {
      const open = button.getAttribute("aria-expanded") !== "true";
      closeGroups(button);
      setOpen(button, open); // focus stays on the button; Tab goes on into the list
    });
  }
  header()?.querySelector(".nav-toggle")?.addEventListener("click", (event) => {
    setMenuOpen(event.currentTarget.getAttribute("aria-expanded") !== "true");
  });
  nav.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const group = event.target.closest(".nav-group");
    const button = group?.querySelector(":scope > button");
    if (button && button.getAttribute("aria-expanded") === "true") {
      setOpen(button, false);
      button.focus();
      event.stopPropagation();
      return;
    }
    const toggle = header()?.querySelector(".nav-toggle");
    if (toggle && toggle.getAttribute("aria-expanded") === "true") {
      setMenuOpen(false); // the phone's menu: Escape closes it, focus back on its button
      toggle.focus();
    }
  });
  nav.addEventListener("focusout", (event) => {
    const group = event.target.closest(".nav-group");
    if (group && !group.contains(event.relatedTarget) && event.relatedTarget) setOpen(group.querySelector(":scope > button"), false);
  });
  document.addEventListener("click", (event) => {
    if (!event.target.closest(".nav-group")) closeGroups();
  });
  // a link chosen closes its group at once, also when it is the page already shown (no hashchange)
  nav.addEventListener("click", (event) => {
    if (event.target.closest("a")) {
      closeGroups();
      setMenuOpen(false);
    }
  });
}
