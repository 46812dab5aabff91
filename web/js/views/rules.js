// #/rules: the seller's order rules, in the order they run; write one (conditions and actions), try it on the
// last 30 days of orders before saving, switch it off, change or delete it. The API checks every rule when
// it is saved and names the field it cannot evaluate; this page shows that next to the field.
import { call } from "../api.js";
import { announce, formatTime, h, markInvalid, showError, table, whileBusy } from "../dom.js";

const ACTIONS = {
  addTag: { label: "Tag the order", fields: [["tag", "Tag", "text"]] },
  holdUntil: { label: "Hold it (hours)", fields: [["hours", "Hours", "number"]] },
  chooseShipping: {
    label: "Choose the shipping",
    fields: [
      ["carrier", "Carrier", "text"],
      ["service", "Service", "text"],
      ["packagePreset", "Package preset", "text"],
    ],
  },
  assignLocation: { label: "Ship from a location", fields: [["location", "Location", "text"]] },
  addToPickGroup: { label: "Add to a pick group", fields: [["pickGroup", "Pick group", "text"]] },
  sendWebhook: { label: "Send a RuleMatched webhook", fields: [] },
  notify: { label: "Notify me (alert)", fields: [["message", "Message", "text"]] },
};
const LIST_OPERATORS = new Set(["in", "notIn", "anyOf", "allOf", "noneOf"]);

export async function render(view) {
  const [vocabulary, rules] = await Promise.all([call("/rules/fields"), call("/rules")]);
  const fields = Object.fromEntries(vocabulary.fields.map((f) => [f.name, f]));
  const list = h("div", { id: "rules-list" });
  const results = h("section", { id: "rule-test", "aria-live": "polite" });
  const editor = h("section", { "aria-labelledby": "rule-form-title" });
  view.replaceChildren(
    h("h1", {}, "Order rules"),
    h(
      "p",
      { class: "muted" },
      "Rules run when an order arrives and when its status changes, lowest position first; a later rule's choice wins. Each action a rule takes is written on the order's timeline.",
    ),
    list,
    editor,
    results,
  );

  async function reload() {
    const fresh = await call("/rules");
    drawList(fresh.items || []);
  }

  function drawList(items) {
    const columns = [
      { label: "Position", cell: (r) => String(r.position) },
      { label: "Rule", cell: (r) => h("span", {}, h("strong", {}, r.name), h("br"), h("span", { class: "muted" }, r.summary)) },
      { label: "Runs", cell: (r) => (r.runOn || []).map((t) => (t === "arrival" ? "on arrival" : "on status change")).join(", ") },
      { label: "On", cell: (r) => (r.enabled ? "yes" : "no") },
      { label: "Changed", cell: (r) => h("time", { datetime: r.updatedAt }, formatTime(r.updatedAt)) },
      {
        label: "",
        cell: (r) =>
          h(
            "span",
            { class: "buttons" },
            button("Try", `Try rule ${r.name} on the last 30 days`, (b) => whileBusy(b, "Trying…", async () => showResults(await call(`/rules/${encodeURIComponent(r.ruleId)}/test`, { method: "POST" })))),
            button("Edit", `Edit rule ${r.name}`, () => drawEditor(r)),
            button(r.enabled ? "Switch off" : "Switch on", `${r.enabled ? "Switch off" : "Switch on"} rule ${r.name}`, (b) =>
              whileBusy(b, "Saving…", async () => {
                await call(`/rules/${encodeURIComponent(r.ruleId)}`, { method: "PUT", body: { ...draftOf(r), enabled: !r.enabled } });
                announce(`Rule ${r.name} switched ${r.enabled ? "off" : "on"}.`);
                await reload();
              }),
            ),
            button("Delete", `Delete rule ${r.name}`, (b) =>
              whileBusy(b, "Deleting…", async () => {
                if (!window.confirm(`Delete the rule "${r.name}"? Orders it already changed keep what it set.`)) return;
                await call(`/rules/${encodeURIComponent(r.ruleId)}`, { method: "DELETE" });
                announce(`Rule ${r.name} deleted.`);
                await reload();
              }),
            ),
          ),
      },
    ];
    list.replaceChildren(
      items.length
        ? table("Order rules, in the order they run", columns, items, { rowAttributes: (r) => ({ "data-rule-id": r.ruleId }) })
        : h("p", { class: "empty" }, "No rules yet. Write one below: for example, heavy orders to UPS Ground."),
    );
  }

  function button(text, label, onClick) {
    const b = h("button", { type: "button", "aria-label": label }, text);
    b.addEventListener("click", async () => {
      showError(null);
      try {
        await onClick(b);
      } catch (error) {
        showError(error);
      }
    });
    return b;
  }

  function showResults(run) {
    const rows = run.matched || [];
    results.replaceChildren(
      h("h2", {}, run.ruleId ? "What the rule would have done" : "What this draft would have done"),
      h(
        "p",
        { id: "rule-test-summary" },
        `${run.ordersMatched} of ${run.ordersChecked} orders since ${formatTime(run.since)} match${run.truncated ? " (only the newest were checked)" : ""}. Nothing was changed.`,
        run.destinationUnknown ? " Destination tests only see orders whose address is kept (those being shipped)." : "",
      ),
      rows.length
        ? table("Orders the rule matches, newest first", [
            { label: "Order", cell: (o) => h("a", { href: `#/orders/${encodeURIComponent(o.orderId)}` }, o.orderId) },
            { label: "Purchased", cell: (o) => h("time", { datetime: o.purchaseDate }, formatTime(o.purchaseDate)) },
            { label: "It would have", cell: (o) => o.actions.map((text) => text.replace(/^rule '.*?' /, "")).join("; ") },
          ], rows)
        : h("p", { class: "empty" }, "No order of that period matches."),
    );
    announce(`${run.ordersMatched} of ${run.ordersChecked} orders match.`);
  }

  function drawEditor(rule = null) {
    const form = h("form", { id: "rule-form", novalidate: true });
    const conditions = h("fieldset", { id: "rule-conditions" }, h("legend", {}, "When"));
    const actions = h("fieldset", { id: "rule-actions" }, h("legend", {}, "Then"));
    const conditionRows = h("div", {});
    const actionRows = h("div", {});
    conditions.append(
      h("p", {}, h("label", { for: "rule-match" }, "Match ", h("select", { id: "rule-match", name: "match" }, h("option", { value: "all", selected: rule?.match !== "any" }, "every condition"), h("option", { value: "any", selected: rule?.match === "any" }, "any condition")))),
      conditionRows,
      button("Add a condition", "Add a condition", () => conditionRows.append(conditionRow())),
      h("p", { class: "muted" }, "No condition: the rule applies to every order."),
    );
    actions.append(actionRows, button("Add an action", "Add an action", () => actionRows.append(actionRow())));
    for (const c of rule?.conditions || []) conditionRows.append(conditionRow(c));
    for (const a of rule?.actions || [{ type: "addTag" }]) actionRows.append(actionRow(a));

    const save = h("button", { type: "submit", id: "rule-save" }, rule ? "Save changes" : "Save rule");
    const tryIt = button("Try on the last 30 days", "Try this rule on the last 30 days", (b) => whileBusy(b, "Trying…", async () => showResults(await call("/rules/test", { method: "POST", body: collect() }))));
    form.append(
      h("p", {}, h("label", { for: "rule-name" }, "Name ", h("input", { id: "rule-name", name: "name", required: true, maxlength: "100", value: rule?.name || "", placeholder: "Heavy to UPS" }))),
      h("p", {}, h("label", { for: "rule-position" }, "Position ", h("input", { id: "rule-position", name: "position", type: "number", min: "0", value: rule ? String(rule.position) : "" })), h("span", { class: "muted" }, " lowest runs first; empty: last")),
      conditions,
      actions,
      h("p", {}, h("label", { class: "inline", for: "rule-stop" }, h("input", { type: "checkbox", id: "rule-stop", name: "stopProcessing", checked: Boolean(rule?.stopProcessing) }), " When it matches, stop: later rules are not checked")),
      h("p", { class: "buttons" }, save, tryIt, rule ? button("Cancel", "Cancel editing", () => drawEditor()) : null),
    );

    function collect() {
      const body = {
        name: form.elements.name.value.trim(),
        match: form.elements.match.value,
        stopProcessing: form.elements.stopProcessing.checked,
        conditions: [...conditionRows.children].map(readCondition),
        actions: [...actionRows.children].map(readAction),
      };
      if (form.elements.position.value !== "") body.position = Number(form.elements.position.value);
      if (rule) body.enabled = rule.enabled;
      return body;
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(null);
      markInvalid(form);
      try {
        await whileBusy(save, "Saving…", async () => {
          const saved = rule
            ? await call(`/rules/${encodeURIComponent(rule.ruleId)}`, { method: "PUT", body: collect() })
            : await call("/rules", { method: "POST", body: collect() });
          announce(`Rule ${saved.name} saved.`);
          drawEditor();
          await reload();
        });
      } catch (error) {
        markInvalid(form, error.details || []);
        showError(error);
      }
    });
    editor.replaceChildren(h("h2", { id: "rule-form-title" }, rule ? `Change the rule "${rule.name}"` : "Write a rule"), form);
  }

  function conditionRow(condition = {}) {
    const row = h("div", { class: "rule-row condition" });
    const field = h("select", { "aria-label": "Field", name: "field" }, vocabulary.fields.map((f) => h("option", { value: f.name, selected: f.name === condition.field, title: f.meaning }, `${f.name} (${f.meaning})`)));
    const op = h("select", { "aria-label": "Test", name: "op" });
    const value = h("input", { "aria-label": "Value", name: "value" });
    const hint = h("span", { class: "muted" });
    function operators() {
      const spec = fields[field.value];
      op.replaceChildren(...Object.entries(spec.operators).map(([name, takes]) => h("option", { value: name, selected: name === condition.op, "data-takes": takes }, name)));
      hint.textContent = ` ${spec.operators[op.value]}`;
    }
    field.addEventListener("change", () => operators());
    op.addEventListener("change", () => (hint.textContent = ` ${fields[field.value].operators[op.value]}`));
    operators();
    if (condition.value !== undefined) value.value = Array.isArray(condition.value) ? condition.value.join(", ") : String(condition.value);
    row.append(field, op, value, hint, button("Remove", "Remove this condition", () => row.remove()));
    return row;
  }

  function readCondition(row) {
    const field = row.querySelector("[name=field]").value;
    const op = row.querySelector("[name=op]").value;
    const text = row.querySelector("[name=value]").value.trim();
    const kind = fields[field].kind;
    let value = text;
    if (LIST_OPERATORS.has(op)) value = text.split(",").map((part) => part.trim()).filter(Boolean);
    else if (kind === "number" || op === "withinHours") value = text === "" || Number.isNaN(Number(text)) ? text : Number(text);
    else if (kind === "yes/no") value = text.toLowerCase() === "true" || text.toLowerCase() === "yes" ? true : text.toLowerCase() === "false" || text.toLowerCase() === "no" ? false : text;
    return { field, op, value };
  }

  function actionRow(action = {}) {
    const row = h("div", { class: "rule-row action" });
    const type = h("select", { "aria-label": "Action", name: "type" }, Object.entries(ACTIONS).map(([name, spec]) => h("option", { value: name, selected: name === action.type }, spec.label)));
    const inputs = h("span", {});
    function drawInputs() {
      inputs.replaceChildren(
        ...ACTIONS[type.value].fields.map(([name, label, kind]) =>
          h("label", {}, ` ${label} `, h("input", { name, type: kind === "number" ? "number" : "text", step: kind === "number" ? "any" : null, value: action[name] ?? "" })),
        ),
      );
    }
    type.addEventListener("change", () => {
      action = {};
      drawInputs();
    });
    drawInputs();
    row.append(type, inputs, button("Remove", "Remove this action", () => row.remove()));
    return row;
  }

  function readAction(row) {
    const type = row.querySelector("[name=type]").value;
    const body = { type };
    for (const [name, , kind] of ACTIONS[type].fields) {
      const text = row.querySelector(`[name=${name}]`).value.trim();
      if (text !== "") body[name] = kind === "number" ? Number(text) : text;
    }
    return body;
  }

  function draftOf(r) {
    const { name, position, match, conditions, actions, runOn, stopProcessing } = r;
    return { name, position, match, conditions, actions, runOn, stopProcessing, enabled: r.enabled };
  }

  drawList(rules.items || []);
  drawEditor();
}
