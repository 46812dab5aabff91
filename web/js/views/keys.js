// #/settings/keys: API keys for the seller's other systems (a 3PL, accounting, a script). Making one shows its
// secret once, to copy; the list shows each key's scopes and last use, never its secret; Revoke stops it
// (within 10 seconds: the API's authorizer keeps an answer that long).
import { call } from "../api.js";
import { announce, h, markInvalid, showError, table, timeCell, whileBusy } from "../dom.js";

export async function render(view) {
  const [scopes, keys] = await Promise.all([call("/api-keys/scopes"), call("/api-keys")]);
  const made = h("div", { id: "key-made", "aria-live": "polite" });
  const holder = h("div", { id: "keys-table" });
  const form = keyForm(scopes.items, async (key) => {
    made.replaceChildren(
      h(
        "div",
        { class: "key-secret", role: "status" },
        h("h2", {}, `Key “${key.name}” made`),
        h("p", {}, "Copy it now: it is shown this once and cannot be shown again. Send it as ", h("code", {}, "Authorization: Bearer <key>"), "."),
        h("p", {}, h("code", { id: "new-key", class: "secret" }, key.key), " ", copyButton(key.key)),
      ),
    );
    announce(`Key ${key.name} made; copy it now, it is shown once`);
    await redraw();
  });
  view.replaceChildren(
    h("p", { class: "breadcrumb" }, h("a", { href: "#/settings" }, "← Settings")),
    h("h1", {}, "API keys"),
    h("p", { class: "muted" }, "Keys let your other systems (a 3PL, accounting, a script) call this API. Each key may do only what its scopes allow; people sign in instead, with the role an admin gives them (admin, warehouse, viewer)."),
    made,
    form,
    h("section", { "aria-labelledby": "keys-title" }, h("h2", { id: "keys-title" }, "Keys"), holder),
  );

  const columns = [
    { label: "Name", cell: (k) => (k.current ? [k.name, h("span", { class: "muted" }, " (this dashboard)")] : k.name) },
    { label: "Key", cell: (k) => h("code", {}, `${k.prefix}…`) },
    { label: "May", cell: (k) => k.scopes.join(", ") },
    { label: "Made", cell: (k) => timeCell(k.createdAt) },
    { label: "Last used", cell: (k) => (k.lastUsedAt ? timeCell(k.lastUsedAt) : "never") },
    {
      label: "Status",
      cell: (k) =>
        k.revokedAt
          ? h("span", { class: "muted" }, "revoked ", timeCell(k.revokedAt))
          : h("button", { type: "button", class: "revoke", onclick: (event) => revoke(event.currentTarget, k) }, `Revoke ${k.name}`),
    },
  ];
  function draw(items) {
    holder.replaceChildren(
      items.length ? table("API keys, newest first", columns, items, { rowAttributes: (k) => ({ "data-key-id": k.keyId }) }) : h("p", { class: "empty" }, "No keys yet."),
    );
  }
  async function redraw() {
    draw((await call("/api-keys")).items);
  }
  async function revoke(button, key) {
    const warning = key.current ? " This dashboard signs in with this key: you will be signed out too." : "";
    if (!window.confirm(`Revoke “${key.name}”? Whatever uses it stops working within 10 seconds.${warning}`)) return;
    try {
      await whileBusy(button, "Revoking…", () => call(`/api-keys/${encodeURIComponent(key.keyId)}`, { method: "DELETE" }));
      announce(`Key ${key.name} revoked`);
      await redraw();
    } catch (error) {
      showError(error);
    }
  }
  draw(keys.items);
}

function keyForm(scopes, onMade) {
  const name = h("input", { id: "key-name", name: "name", "data-field": "name", required: true, maxlength: 100, "aria-describedby": "key-name-error" });
  const boxes = scopes.map((s) =>
    h(
      "label",
      { class: "scope" },
      h("input", { type: "checkbox", value: s.scope, "data-roles": s.roles.join(" ") }),
      " ",
      h("code", {}, s.scope),
      ` — ${s.description}`,
    ),
  );
  const preset = (role, text) =>
    h(
      "button",
      { type: "button", class: "preset", onclick: () => boxes.forEach((b) => { const box = b.querySelector("input"); box.checked = box.dataset.roles.split(" ").includes(role); }) },
      text,
    );
  const submit = h("button", { type: "submit", class: "primary", id: "key-create" }, "Make key");
  const form = h(
    "form",
    { id: "key-form", "aria-labelledby": "key-form-title", novalidate: true },
    h("h2", { id: "key-form-title" }, "New key"),
    h("p", { class: "field" }, h("label", { for: "key-name" }, "What it is for"), name, h("span", { class: "field-error failure", id: "key-name-error", hidden: true })),
    h(
      "fieldset",
      { class: "scopes", "data-field": "scopes" },
      h("legend", {}, "What it may do"),
      h("p", { class: "buttons" }, "Start from a role: ", preset("warehouse", "Warehouse"), " ", preset("viewer", "Read only")),
      boxes,
      h("span", { class: "field-error failure", hidden: true }),
    ),
    h("p", { class: "buttons" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = boxes.map((b) => b.querySelector("input")).filter((b) => b.checked).map((b) => b.value);
    const problems = [];
    if (!name.value.trim()) problems.push({ field: "name", message: "give the key a name" });
    if (!chosen.length) problems.push({ field: "scopes", message: "choose at least one thing it may do" });
    say(form, problems);
    if (problems.length) return;
    try {
      const key = await whileBusy(submit, "Making…", () => call("/api-keys", { method: "POST", body: { name: name.value.trim(), scopes: chosen } }));
      form.reset();
      await onMade(key);
    } catch (error) {
      say(form, error.details || []);
      showError(error);
    }
  });
  return form;
}

/** Each problem next to its field (`name` or `scopes`), the field marked invalid; none: all cleared. */
function say(form, problems) {
  markInvalid(form, problems);
  for (const span of form.querySelectorAll(".field-error")) span.hidden = true;
  for (const problem of problems) {
    const where = problem.field === "scopes" ? form.querySelector("fieldset.scopes .field-error") : form.querySelector("#key-name-error");
    if (!where) continue;
    where.textContent = problem.message;
    where.hidden = false;
  }
}

function copyButton(text) {
  return h(
    "button",
    {
      type: "button",
      id: "copy-key",
      onclick: async (event) => {
        try {
          await navigator.clipboard.writeText(text);
          event.currentTarget.textContent = "Copied";
          announce("Key copied");
        } catch {
          announce("Copy it by hand: select the key and copy");
        }
      },
    },
    "Copy",
  );
}
