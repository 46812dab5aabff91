// #/messages/<threadId>: one buyer's messages about an order, the order beside them, the suggested reply
// ready to edit and send (Amazon's content rules are checked first: a broken rule is named, nothing sent),
// and "no response needed" for a message that asks nothing.
import { call } from "../api.js";
import { announce, h, showError, when, whileBusy } from "../dom.js";
import { timeLeft } from "../returns-common.js";
import { contentRule, messageIntent, orderStatus, threadStatus } from "../words.js";

function message(m, settle) {
  const out = m.direction === "out";
  const heading = !out
    ? h("p", { class: "muted" }, "The buyer wrote ", when(m.receivedAt))
    : m.status === "sending"
      ? h("p", { class: "warning reply-in-doubt" }, "Your reply may have been sent (sending was interrupted at ", when(m.receivedAt), ")")
      : m.status === "not-sent"
        ? h("p", { class: "muted" }, "Not sent: your reply of ", when(m.receivedAt))
        : h("p", { class: "muted" }, "You replied ", when(m.sentAt || m.receivedAt));
  return h(
    "li",
    { class: out ? `message message-out${m.status === "not-sent" ? " message-not-sent" : ""}` : "message message-in", "data-message-id": m.messageId },
    heading,
    h("p", { class: "message-text" }, m.text || "(no text)"),
    m.attachments?.length ? h("p", { class: "muted" }, `${m.attachments.length} attachment(s): ${m.attachments.map((a) => a.filename).join(", ")}`) : null,
    out && m.status === "sending" ? settle(m) : null,
  );
}

/** A short stable hash of a text (FNV-1a), to tell one reply's retries from another reply. */
function hash(text) {
  let value = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) value = Math.imul(value ^ text.charCodeAt(i), 16777619) >>> 0;
  return value.toString(16);
}

export async function render(view, threadId) {
  const replyKey = globalThis.crypto?.randomUUID ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
  const path = `/messages/${encodeURIComponent(threadId)}`;
  const thread = await call(path);
  const order = await call(`/orders/${encodeURIComponent(thread.orderId)}`).catch(() => null);
  const done = h("p", { id: "thread-done", class: "ok", role: "status", hidden: true });
  const after = async (text) => {
    await render(view, threadId);
    const note = view.querySelector("#thread-done");
    note.textContent = text;
    note.hidden = false;
    announce(text);
  };
  const waiting = thread.status === "awaiting";
  const body = h("textarea", { id: "reply-body", name: "body", rows: "6", maxlength: "4000" }, thread.suggestedReply?.body || "");
  const problem = h("p", { id: "reply-problem", class: "failure", role: "alert", hidden: true });
  const send = h("button", { type: "submit", class: "primary", id: "reply-send" }, "Send reply");
  const form = h(
    "form",
    { id: "reply-form", novalidate: true },
    h("label", { for: body.id }, thread.suggestedReply ? "Reply (suggested; edit it as you like)" : "Reply"),
    body,
    problem,
    send,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.hidden = true;
    try {
      // one key per text: a retry of the same reply (a lost answer, a double tap) sends one mail
      const key = `${replyKey}-${body.value.length}-${hash(body.value)}`;
      await whileBusy(send, "Sending…", () => call(`${path}/replies`, { method: "POST", body: { body: body.value }, headers: { "Idempotency-Key": key } }));
      showError(null);
      await after("Reply sent; the 24-hour clock stopped.");
    } catch (error) {
      const rule = error.details?.[0]?.message;
      problem.textContent = error.status === 422 && rule ? `Not sent: ${contentRule(rule)}. ${error.message}` : error.message || String(error);
      problem.hidden = false;
      body.setAttribute("aria-invalid", "true");
    }
  });
  const noResponse = h("button", { type: "button", id: "no-response-needed" }, "No response needed");
  noResponse.addEventListener("click", async () => {
    try {
      await whileBusy(noResponse, "Closing…", () => call(`${path}/no-response-needed`, { method: "POST" }));
      showError(null);
      await after("Closed without an answer; it does not count against your response time.");
    } catch (error) {
      showError(error);
    }
  });
  // a reply whose sending was interrupted: the seller looks in Seller Central and says what happened
  const settle = (m) => {
    const box = h(
      "div",
      { class: "settle-reply", role: "group", "aria-label": "What happened to this reply" },
      h("p", {}, "Look for it in Seller Central under Buyer Messages, Sent. If it is there, the buyer has it and the clock stopped when you sent it; if not, the clock is still running: write again."),
    );
    for (const [sent, label, words] of [
      [true, "It was sent", "Marked as sent; the 24-hour clock stopped when you sent it."],
      [false, "It was not sent", "Marked as not sent; the clock is still running, so write again."],
    ]) {
      const button = h("button", { type: "button", class: sent ? "settle-sent" : "settle-not-sent" }, label);
      button.addEventListener("click", async () => {
        try {
          await whileBusy(button, "Saving…", () => call(`${path}/replies/${encodeURIComponent(m.messageId)}/outcome`, { method: "POST", body: { sent } }));
          showError(null);
          await after(words);
        } catch (error) {
          showError(error);
        }
      });
      box.append(button, " ");
    }
    return box;
  };
  const left = waiting && thread.dueAt ? timeLeft(thread.dueAt) : "";
  view.replaceChildren(
    h("h1", {}, `Messages about order ${thread.orderId}`),
    done,
    h(
      "p",
      { class: "thread-facts" },
      `${threadStatus(thread.status)} · ${messageIntent(thread.intent)}`,
      waiting && thread.dueAt ? h("span", {}, " · answer by ", when(thread.dueAt), " ", h("span", { class: left.startsWith("overdue") ? "warning" : "muted" }, left)) : null,
      thread.buyerAlias ? h("span", { class: "muted" }, ` · ${thread.buyerAlias}`) : null,
      thread.buyerId ? h("span", {}, " · ", h("a", { href: `#/messages/buyers/${encodeURIComponent(thread.buyerId)}`, id: "buyer-link" }, "this buyer's orders and messages")) : null,
    ),
    order
      ? h("p", {}, h("a", { href: `#/orders/${encodeURIComponent(order.orderId)}` }, `Order ${order.orderId}`), ` · ${orderStatus(order.status)} · `, (order.items || []).map((i) => `${i.quantity} × ${i.title || i.sku}`).join(", "), (order.shipments || []).length ? ` · shipped with ${order.shipments.at(-1).carrierName || order.shipments.at(-1).carrier}, ${order.shipments.at(-1).trackingNumber}` : "")
      : h("p", { class: "muted" }, "The order could not be loaded."),
    h("ol", { class: "messages" }, (thread.messages || []).map((m) => message(m, settle))),
    form,
    waiting ? h("p", {}, noResponse) : "", // replaceChildren would print a null
  );
}
