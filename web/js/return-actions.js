// The seller's decisions on a return, as buttons: authorize, close with a reason, refund (or retry a refund
// Amazon refused). Each sends one request while its button is busy; `done(answer, text)` redraws the page.
import { call } from "./api.js";
import { h, money, showError, whileBusy } from "./dom.js";
import { refundStatus } from "./words.js";

export const CLOSE_REASONS = [
  "Declined: outside the return policy",
  "Never came back",
  "The buyer cancelled the return",
  "Refunded without return",
];

/** A fresh Idempotency-Key (a random UUID where the page is served securely, else time and chance). */
function newKey(prefix) {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

const path = (ret, action) => `/returns/${encodeURIComponent(ret.returnId)}/${action}`;

async function send(button, busyText, work, done) {
  try {
    await whileBusy(button, busyText, async () => {
      const [answer, text] = await work();
      showError(null);
      await done(answer, text);
    });
  } catch (error) {
    showError(error);
  }
}

export function authorizeButton(ret, done) {
  const button = h("button", { type: "button", class: "authorize", "data-return-id": ret.returnId }, "Authorize");
  button.addEventListener("click", () =>
    send(button, "Authorizing…", async () => [await call(path(ret, "authorize"), { method: "POST" }), `Return ${ret.returnId} authorized.`], done),
  );
  return button;
}

/** "Close…" opens a reason (a list, or the seller's own words) and a button that closes the return with it. */
export function closeControl(ret, done) {
  const id = `close-${ret.returnId}`;
  const open = h("button", { type: "button", class: "close-open", "aria-expanded": "false", "aria-controls": id }, "Close…");
  const reason = h("select", { id: `${id}-reason`, name: "reason" }, CLOSE_REASONS.map((text) => h("option", { value: text }, text)), h("option", { value: "" }, "Other (say why)"));
  const other = h("input", { id: `${id}-other`, name: "other", maxlength: "200", autocomplete: "off", placeholder: "Why it is closed" });
  const otherLabel = h("label", { for: other.id, hidden: true }, "Reason", other);
  const confirm = h("button", { type: "submit", class: "close-confirm" }, "Close the return");
  const problem = h("p", { class: "failure", role: "alert", hidden: true });
  const form = h("form", { id, class: "close-form", hidden: true, novalidate: true }, h("label", { for: reason.id }, "Why", reason), otherLabel, problem, confirm);
  reason.addEventListener("change", () => {
    otherLabel.hidden = reason.value !== "";
  });
  open.addEventListener("click", () => {
    form.hidden = !form.hidden;
    open.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) reason.focus();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const why = reason.value || other.value.trim();
    if (!why) {
      problem.textContent = "Say why the return is closed.";
      problem.hidden = false;
      other.focus();
      return;
    }
    problem.hidden = true;
    send(confirm, "Closing…", async () => [await call(path(ret, "close"), { method: "POST", body: { reason: why } }), `Return ${ret.returnId} closed: ${why}.`], done);
  });
  return h("span", { class: "close-control" }, open, form);
}

/** Where the refund stands, with Amazon's reason when it refused it; the button to refund (again).
 *  `amount()`: the restocking fee (null: none, false: not valid); `units()`: the SKUs and units to refund
 *  (null: everything received, false: not valid). */
export function refundCell(ret, done, { amount, units } = {}) {
  const refund = ret.refund;
  const parts = [];
  if (refund) {
    parts.push(h("span", { class: `badge badge-${refund.status === "refused" ? "refused" : refund.status === "confirmed" ? "confirmed" : "pending"}`, "data-refund": refund.status }, refundStatus(refund.status)));
    if (refund.amount) parts.push(" ", money(refund.amount));
    if (refund.status === "refused" && refund.refusal) {
      parts.push(h("span", { class: "refusal warning" }, ` Amazon's reason: ${refund.refusal.message || refund.refusal.code}${refund.refusal.code && refund.refusal.message ? ` (${refund.refusal.code})` : ""}`));
    }
  }
  if (!refund || refund.status === "refused") {
    const label = refund ? "Try the refund again" : "Refund";
    const button = h("button", { type: "button", class: refund ? "refund refund-retry" : "refund primary", "data-return-id": ret.returnId }, label);
    button.addEventListener("click", () => {
      const fee = amount?.();
      if (fee === false) return; // the form said what is wrong
      const lines = units?.();
      if (lines === false) return;
      const part = lines ? ` for ${lines.map((l) => `${l.quantity} × ${l.sku}`).join(", ")}` : fee ? "" : " in full";
      const words = `${part}${fee ? ` less a restocking fee of ${money(fee)}` : ""}`;
      if (!window.confirm(`Refund the buyer of order ${ret.orderId}${words} through Amazon?`)) return;
      send(
        button,
        "Sending…",
        async () => {
          const answer = await call(path(ret, "refund"), {
            method: "POST",
            body: { ...(lines ? { items: lines } : {}), ...(fee ? { restockingFee: fee } : {}) },
            // one key per click: a refused refund is retried by a new request; the API refuses a second refund
            headers: { "Idempotency-Key": newKey(`refund-${ret.returnId}`) },
          });
          return [answer, `${refundStatus(answer.refund?.status || "pending")} (return ${ret.returnId}).`];
        },
        done,
      );
    });
    parts.push(parts.length ? " " : null, button);
  }
  return h("span", { class: "refund-cell" }, ...parts);
}
