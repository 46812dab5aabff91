// #/messages/templates: the seller's reply templates (one text per language, with the order's facts as
// {{variables}}) and the opt-in automatic answer to "where is my order" for shipped orders.
import { call } from "../api.js";
import { announce, h, markInvalid, showError, table, whileBusy } from "../dom.js";
import { messageIntent } from "../words.js";

const INTENTS = ["where-is-my-order", "return", "cancel", "damaged", "address-change", "other"];
const VARIABLES = ["orderId", "items", "trackingNumber", "carrier", "expectedDelivery", "returnInstructions"];

function autoAnswer(setup, redraw) {
  const box = h("input", { type: "checkbox", id: "auto-answer", name: "autoAnswerWhereIsMyOrder" });
  box.checked = Boolean(setup.autoAnswerWhereIsMyOrder);
  box.addEventListener("change", async () => {
    try {
      await whileBusy(box, null, () => call("/messages/setup", { method: "PUT", body: { autoAnswerWhereIsMyOrder: box.checked } }));
      showError(null);
      await redraw(box.checked ? "Shipped orders' “where is my order” is now answered at once." : "Automatic answers are off.");
    } catch (error) {
      box.checked = !box.checked;
      showError(error);
    }
  });
  return h(
    "section",
    { id: "auto-answer-section", "aria-labelledby": "auto-answer-title" },
    h("h2", { id: "auto-answer-title" }, "Automatic answers"),
    h("p", {}, h("label", { for: box.id }, box, " Answer “where is my order” at once when the order has shipped (the reply gives the carrier and tracking number)")),
  );
}

function editor(templates, redraw) {
  const id = h("input", { id: "template-id", name: "templateId", required: true, maxlength: "64", pattern: "[A-Za-z0-9_-]+", autocomplete: "off" });
  const name = h("input", { id: "template-name", name: "name", required: true, maxlength: "100", autocomplete: "off" });
  const intent = h("select", { id: "template-intent", name: "intent" }, h("option", { value: "" }, "Any"), INTENTS.map((code) => h("option", { value: code }, messageIntent(code))));
  const language = h("input", { id: "template-language", name: "language", value: "en", maxlength: "5", size: "5", autocomplete: "off" });
  const text = h("textarea", { id: "template-text", name: "bodies", rows: "5", maxlength: "4000", required: true });
  const save = h("button", { type: "submit", class: "primary", id: "template-save" }, "Save template");
  const form = h(
    "form",
    { id: "template-form", novalidate: true },
    h("label", { for: id.id }, "Template id (letters, digits, - and _)", id),
    h("label", { for: name.id }, "Name", name),
    h("label", { for: intent.id }, "Answers", intent),
    h("label", { for: language.id }, "Language (en, de, fr…)", language),
    h("label", { for: text.id }, "Text", text),
    h("p", { class: "muted" }, `Variables: ${VARIABLES.map((v) => `{{${v}}}`).join(", ")}`),
    save,
  );
  const load = (template, lang = "en") => {
    id.value = template.templateId;
    name.value = template.name;
    intent.value = template.intent || "";
    language.value = template.bodies[lang] !== undefined ? lang : Object.keys(template.bodies)[0];
    text.value = template.bodies[language.value] || "";
    name.focus();
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const existing = templates.find((t) => t.templateId === id.value.trim());
    const body = { name: name.value.trim(), bodies: { ...(existing?.bodies || {}), [language.value.trim()]: text.value } };
    if (intent.value) body.intent = intent.value;
    try {
      await whileBusy(save, "Saving…", () => call(`/messages/templates/${encodeURIComponent(id.value.trim())}`, { method: "PUT", body }));
      showError(null);
      await redraw(`Template ${id.value.trim()} saved.`);
    } catch (error) {
      markInvalid(form, error.details);
      showError(error);
    }
  });
  return { form, load };
}

export async function render(view) {
  const [setup, page] = await Promise.all([call("/messages/setup"), call("/messages/templates")]);
  const templates = page.items || [];
  const done = h("p", { id: "templates-done", class: "ok", role: "status", hidden: true });
  const redraw = async (text) => {
    await render(view);
    const note = view.querySelector("#templates-done");
    note.textContent = text;
    note.hidden = false;
    announce(text);
  };
  const { form, load } = editor(templates, redraw);
  const columns = [
    { label: "Name", cell: (t) => t.name },
    { label: "Answers", cell: (t) => (t.intent ? messageIntent(t.intent) : "Any") },
    { label: "Languages", cell: (t) => Object.keys(t.bodies).join(", ") },
    {
      label: "Action",
      cell: (t) => {
        const edit = h("button", { type: "button", class: "template-edit" }, "Edit");
        edit.addEventListener("click", () => load(t));
        const remove = h("button", { type: "button", class: "template-delete" }, "Delete");
        remove.addEventListener("click", async () => {
          try {
            await whileBusy(remove, "Deleting…", () => call(`/messages/templates/${encodeURIComponent(t.templateId)}`, { method: "DELETE" }));
            await redraw(`Template ${t.templateId} deleted.`);
          } catch (error) {
            showError(error);
          }
        });
        return h("span", { class: "actions" }, edit, " ", remove);
      },
    },
  ];
  view.replaceChildren(
    h("h1", {}, "Reply templates"),
    h("p", {}, h("a", { href: "#/messages" }, "Back to the messages")),
    done,
    autoAnswer(setup, redraw),
    h(
      "section",
      { id: "templates-list", "aria-labelledby": "templates-list-title" },
      h("h2", { id: "templates-list-title" }, `Templates (${templates.length})`),
      templates.length ? table("Reply templates", columns, templates, { rowAttributes: (t) => ({ "data-template-id": t.templateId }) }) : h("p", { class: "empty" }, "No template yet: the built-in answers are suggested."),
    ),
    h("section", { id: "template-editor", "aria-labelledby": "template-editor-title" }, h("h2", { id: "template-editor-title" }, "Add or change a template"), form),
  );
}
