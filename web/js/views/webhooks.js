// #/webhooks: the seller's webhook subscriptions and a form to add one (its signing secret shown once);
// #/webhooks/<subscriptionId>: one subscription's deliveries, newest first, each with its attempts and a
// "Deliver again" button; enable or disable it, rotate its secret, delete it.
import { call } from "../api.js";
import { announce, formatTime, h, markInvalid, pagedRows, showError, table, whileBusy } from "../dom.js";

const PAGE = 20;
const STATUS_WORDS = { delivered: "Delivered", pending: "Waiting to retry", failed: "Failed" };

const time = (iso) => (iso ? h("time", { datetime: iso }, formatTime(iso)) : "–");

function stateText(s) {
  if (s.enabled) return s.failingSince ? `On, failing since ${formatTime(s.failingSince)}` : "On";
  return s.disabled ? `Off: ${s.disabled.reason}` : "Off";
}

export async function render(view, subscriptionId) {
  if (subscriptionId) return renderOne(view, subscriptionId);
  const holder = h("div", { id: "webhooks-table" });
  // the events a subscription may name, each with when it is sent (docs/events.md); the API refuses others
  const eventTypes = await call("/webhooks/event-types");
  const secretNote = h("div", { id: "webhook-secret", role: "status" });
  view.replaceChildren(
    h("h1", {}, "Webhooks"),
    h("p", { class: "muted" }, "Your other systems hear about orders, stock and returns the moment they change: each event is POSTed to the URLs below, signed (Standard Webhooks). A delivery not answered within 5 seconds is retried for a day and a half."),
    secretNote,
    holder,
    createForm(eventTypes.items, async (created) => {
      secretNote.replaceChildren(
        h("p", { class: "ok" }, `Subscribed ${created.url}. Its signing secret, shown this once: copy it into the receiving system now.`),
        h("p", {}, h("code", { id: "webhook-secret-value" }, created.secret)),
      );
      await list();
    }),
  );
  const columns = [
    { label: "URL", cell: (s) => h("a", { href: `#/webhooks/${encodeURIComponent(s.subscriptionId)}` }, s.url) },
    { label: "Events", cell: (s) => s.events.join(", ") },
    { label: "Description", cell: (s) => s.description || "–" },
    { label: "State", cell: stateText },
    { label: "Added", cell: (s) => time(s.createdAt) },
  ];
  async function list() {
    const answer = await call("/webhooks/subscriptions");
    holder.replaceChildren(
      answer.items.length
        ? table("Webhook subscriptions", columns, answer.items, { rowAttributes: (s) => ({ "data-subscription-id": s.subscriptionId }) })
        : h("p", { class: "empty" }, "No webhook subscriptions yet."),
    );
    announce(`${answer.items.length} webhook subscription${answer.items.length === 1 ? "" : "s"}.`);
  }
  await list();
}

function createForm(eventTypes, done) {
  const url = h("input", { type: "url", name: "url", id: "webhook-url", required: true, placeholder: "https://…" });
  const description = h("input", { type: "text", name: "description", id: "webhook-description", maxlength: "500" });
  const boxes = eventTypes.map((t) =>
    h(
      "label",
      { class: "event-choice" },
      h("input", { type: "checkbox", name: "events", value: t.type }),
      ` ${t.type} `,
      h("span", { class: "muted" }, t.description),
    ),
  );
  const submit = h("button", { type: "submit", class: "primary" }, "Subscribe");
  const form = h(
    "form",
    { id: "webhook-form", "aria-labelledby": "webhook-form-title" },
    h("h2", { id: "webhook-form-title" }, "Add a subscription"),
    h("p", {}, h("label", { for: "webhook-url" }, "URL (https)"), " ", url),
    h("p", {}, h("label", { for: "webhook-description" }, "Description"), " ", description),
    h("fieldset", { class: "event-choices" }, h("legend", {}, "Events"), ...boxes),
    h("p", {}, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(null);
    markInvalid(form);
    const events = [...form.querySelectorAll("input[name=events]:checked")].map((box) => box.value);
    try {
      const created = await whileBusy(submit, "Subscribing…", () =>
        call("/webhooks/subscriptions", { method: "POST", body: { url: url.value.trim(), events, description: description.value } }),
      );
      form.reset();
      await done(created);
    } catch (error) {
      markInvalid(form, error.details);
      showError(error);
    }
  });
  return form;
}

async function renderOne(view, subscriptionId) {
  const path = `/webhooks/subscriptions/${encodeURIComponent(subscriptionId)}`;
  let subscription = await call(path);
  const facts = h("dl", { class: "facts", id: "webhook-facts" });
  const note = h("div", { id: "webhook-note", role: "status" });
  const toggle = h("button", { type: "button", id: "webhook-toggle" }, "");
  const rotate = h("button", { type: "button", id: "webhook-rotate" }, "New signing secret");
  const remove = h("button", { type: "button", id: "webhook-delete" }, "Delete");
  const holder = h("div", { id: "deliveries-table" });
  const more = h("button", { type: "button", id: "deliveries-more", hidden: true }, "Show more");

  function drawFacts() {
    facts.replaceChildren(
      h("dt", {}, "URL"), h("dd", {}, subscription.url),
      h("dt", {}, "Events"), h("dd", {}, subscription.events.join(", ")),
      h("dt", {}, "State"), h("dd", { id: "webhook-state" }, stateText(subscription)),
      h("dt", {}, "Added"), h("dd", {}, time(subscription.createdAt)),
    );
    toggle.textContent = subscription.enabled ? "Turn off" : "Turn on";
  }
  async function act(button, busy, work) {
    showError(null);
    try {
      await whileBusy(button, busy, work);
    } catch (error) {
      showError(error);
    }
  }
  toggle.addEventListener("click", () =>
    act(toggle, "Saving…", async () => {
      subscription = await call(path, { method: "PATCH", body: { enabled: !subscription.enabled } });
      drawFacts();
      announce(subscription.enabled ? "Turned on" : "Turned off");
    }),
  );
  rotate.addEventListener("click", () =>
    act(rotate, "Rotating…", async () => {
      const rotated = await call(`${path}/secret/rotate`, { method: "POST" });
      note.replaceChildren(
        h("p", { class: "ok" }, "The new signing secret, shown this once. The old one also signs deliveries for 24 hours, while you switch."),
        h("p", {}, h("code", { id: "webhook-secret-value" }, rotated.secret)),
      );
    }),
  );
  remove.addEventListener("click", () =>
    act(remove, "Deleting…", async () => {
      if (!window.confirm(`Stop sending events to ${subscription.url}?`)) return;
      await call(path, { method: "DELETE" });
      location.hash = "#/webhooks";
    }),
  );

  const columns = [
    { label: "Event", cell: (d) => d.eventType },
    { label: "Happened", cell: (d) => time(d.createdAt) },
    { label: "Status", cell: (d) => (d.status === "pending" && d.nextAttemptAt ? `${STATUS_WORDS.pending} (${formatTime(d.nextAttemptAt)})` : STATUS_WORDS[d.status] || d.status) },
    {
      label: "Attempts",
      cell: (d) => h("ol", { class: "attempts" }, d.attempts.map((a) => h("li", {}, `${formatTime(a.at)}: ${a.statusCode ?? "no answer"} in ${a.latencyMs} ms${a.error ? ` (${a.error})` : ""}`))),
    },
    {
      label: "",
      cell: (d) => {
        const again = h("button", { type: "button", class: "redeliver" }, "Deliver again");
        again.addEventListener("click", () =>
          act(again, "Queuing…", async () => {
            await call(`${path}/deliveries/${encodeURIComponent(d.deliveryId)}/retry`, { method: "POST" });
            announce("Queued: it is sent within seconds");
            setTimeout(() => deliveries.restart().catch(showError), 3000);
          }),
        );
        return again;
      },
    },
  ];
  const deliveries = pagedRows({
    more,
    fetchPage: (nextToken) => call(`${path}/deliveries`, { query: { limit: PAGE, nextToken } }),
    draw(shown) {
      holder.replaceChildren(
        shown.length
          ? table("Deliveries, newest first", columns, shown, { rowAttributes: (d) => ({ "data-delivery-id": d.deliveryId }) })
          : h("p", { class: "empty" }, "Nothing delivered yet (deliveries are kept 30 days)."),
      );
    },
  });

  drawFacts();
  view.replaceChildren(
    h("p", { class: "breadcrumb" }, h("a", { href: "#/webhooks" }, "← Webhooks")),
    h("h1", {}, `Webhook to ${new URL(subscription.url).host}`),
    facts,
    note,
    h("p", { class: "buttons" }, toggle, rotate, remove),
    h("section", { "aria-labelledby": "deliveries-title" }, h("h2", { id: "deliveries-title" }, "Deliveries"), holder, more),
  );
  await deliveries.load();
}
