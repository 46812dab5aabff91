// #/messages: the buyers' messages inbox, in the order Amazon's 24-hour clock asks: waiting threads with the
// least time left first (late ones on top), then the answered and closed ones, newest first.
import { pages } from "../api.js";
import { announce, failureNote, h, table, when } from "../dom.js";
import { timeLeft } from "../returns-common.js";
import { messageIntent, threadStatus } from "../words.js";

const PAGE = 100;
const PAGES = 3; // 300 waiting threads is more than a seller answers in a day

function due(thread) {
  if (!thread.dueAt) return "–";
  const left = timeLeft(thread.dueAt);
  return h("span", {}, when(thread.dueAt), " ", h("span", { class: left.startsWith("overdue") ? "warning due-left" : "muted due-left" }, left));
}

/** Late rows red, at-risk ones amber (a passed due time without the guard's flag yet is late too). */
function rowClass(thread) {
  const flags = thread.flags || [];
  if (flags.includes("late") || (thread.dueAt && new Date(thread.dueAt).getTime() < Date.now())) return "row-late";
  if (flags.includes("atRisk")) return "row-risk";
  return null;
}

const COLUMNS = [
  { label: "Order", cell: (t) => h("a", { href: `#/messages/${encodeURIComponent(t.threadId)}`, class: "thread-link" }, t.orderId) },
  { label: "About", cell: (t) => messageIntent(t.intent) },
  { label: "Buyer wrote", cell: (t) => when(t.lastMessageAt) },
  { label: "Answer by", cell: due },
  { label: "Status", cell: (t) => (t.replyInDoubt ? h("span", { class: "warning" }, `${threadStatus(t.status)} · a reply may have been sent`) : threadStatus(t.status)) },
];

export async function render(view) {
  const [waiting, others] = await Promise.all(
    [{ status: "awaiting" }, {}].map((query) => pages("/messages", { ...query, limit: PAGE }, PAGES).catch((error) => ({ error }))),
  );
  const parts = [h("h1", {}, "Buyer messages")];
  parts.push(h("p", { class: "muted" }, "Amazon counts every buyer message not answered within 24 hours, nights and weekends included."));
  parts.push(h("p", { class: "toolbar" }, h("a", { href: "#/messages/templates", class: "button-link", id: "open-templates" }, "Reply templates and automatic answers")));
  for (const [title, read, key, filter] of [
    ["Waiting for an answer", waiting, "waiting", () => true],
    ["Answered or closed", others, "closed", (t) => t.status !== "awaiting"],
  ]) {
    if (read.error) {
      parts.push(failureNote(title, read.error));
      continue;
    }
    const rows = read.items.filter(filter);
    parts.push(
      h(
        "section",
        { id: `messages-${key}`, "aria-labelledby": `messages-${key}-title` },
        h("h2", { id: `messages-${key}-title` }, `${title} (${rows.length})`),
        rows.length ? table(title, COLUMNS, rows, { rowAttributes: (t) => ({ "data-thread-id": t.threadId, class: rowClass(t) }) }) : h("p", { class: "empty" }, key === "waiting" ? "No buyer is waiting for an answer." : "Nothing answered yet."),
      ),
    );
  }
  view.replaceChildren(...parts);
  if (!waiting.error) announce(`${waiting.items.length} buyer message threads waiting for an answer.`);
}
