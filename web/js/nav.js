// The main navigation: a few top entries, some of them groups that open a short list (the disclosure
// pattern: a button with aria-expanded showing the list it controls). One group is open at a time; Escape,
// a click elsewhere, focus leaving the group or a page change closes it. On a phone the whole navigation
// sits behind the "Menu" button. The page shown is marked aria-current="page" (app.js), and its group's
// button carries data-current, so the group reads as the place you are even while it is closed.

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
