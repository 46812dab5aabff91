// #/returns: every open return on one page, in the order the seller works them: requests to decide (soonest
// decision due first), parcels on their way back, returns to refund (overdue first, then least time left),
// and FBA returns (Amazon's warehouse took them back; unsellable units to remove).
import { pages } from "../api.js";
import { announce, failureNote, h, table, when } from "../dom.js";
import { authorizeButton, closeControl, refundCell } from "../return-actions.js";
import { decisionDue, itemsText, OPEN_STATUSES, returnBadges, returnState, SECTIONS, sectionOf, sections, timeLeft } from "../returns-common.js";
import { returnSource, returnStatus } from "../words.js";

const PAGE = 100;
const PAGES = 5; // per status: 500 open returns of one state is more than a seller works in a day

function due(iso) {
  if (!iso) return "–";
  const left = timeLeft(iso);
  // the time in the warehouse's zone, then what is left in words ("5 hours left", "overdue by 2 hours")
  return h("span", {}, when(iso), " ", h("span", { class: left.startsWith("overdue") ? "warning due-left" : "muted due-left" }, left));
}

/** Late rows marked red and at-risk ones amber, as on the ship-today queue (an overdue date without the
 *  guard's flag yet is late too: the guard runs every 15 minutes). */
function rowClass(ret) {
  const flags = ret.flags || [];
  const due = sectionOf(ret) === "decide" ? decisionDue(ret) : sectionOf(ret) === "refund" ? ret.refundDueBy : null;
  if (flags.includes("refundLate") || flags.includes("decisionLate") || (due && new Date(due).getTime() < Date.now())) return "row-late";
  if (flags.includes("refundAtRisk") || flags.includes("decisionAtRisk")) return "row-risk";
  return null;
}

function columns(key, redraw) {
  const first = [
    {
      label: "Return",
      cell: (r) => h("span", {}, h("a", { href: `#/returns/${encodeURIComponent(r.returnId)}`, class: "return-id" }, r.returnId), h("span", { class: "muted" }, ` ${returnSource(r.source)}`)),
    },
    { label: "Order", cell: (r) => h("a", { href: `#/orders/${encodeURIComponent(r.orderId)}` }, r.orderId) },
    { label: "Items", cell: (r) => itemsText(r) },
  ];
  const status = { label: "Status", cell: (r) => h("span", { class: "badges" }, returnState(r), " ", returnBadges(r)) };
  if (key === "decide") {
    return [...first, { label: "Decide by", cell: (r) => due(decisionDue(r)) }, status, { label: "Action", cell: (r) => h("span", { class: "actions" }, authorizeButton(r, redraw), " ", closeControl(r, redraw)) }];
  }
  if (key === "arriving") {
    const tracking = { label: "Return tracking", cell: (r) => (r.trackingId ? h("span", { class: "tracking" }, `${r.carrier ? `${r.carrier} ` : ""}${r.trackingId}`) : "–"), className: "secondary" };
    const receive = (r) => h("span", { class: "actions" }, h("a", { href: `#/returns/${encodeURIComponent(r.returnId)}`, class: "button-link receive-link" }, "Receive"), " ", closeControl(r, redraw));
    return [...first, { label: "Requested", cell: (r) => when(r.requestedAt) }, tracking, status, { label: "Action", cell: receive }];
  }
  if (key === "refund") {
    return [...first, { label: "Refund by", cell: (r) => due(r.refundDueBy) }, status, { label: "Refund", cell: (r) => refundCell(r, redraw) }];
  }
  return [...first, { label: "Returned", cell: (r) => when(r.requestedAt) }, status];
}

export async function render(view) {
  const done = h("p", { id: "returns-done", class: "ok", role: "status", hidden: true });
  const redraw = async (_answer, text) => {
    await render(view);
    const note = view.querySelector("#returns-done");
    note.textContent = text;
    note.hidden = false;
    announce(text);
  };
  const reads = await Promise.all(OPEN_STATUSES.map((status) => pages("/returns", { status, limit: PAGE }, PAGES).then((page) => ({ status, page }), (error) => ({ status, error }))));
  const failed = reads.filter((r) => r.error);
  const lists = sections(reads.flatMap((r) => (r.page ? r.page.items : [])));
  const parts = [
    h("h1", {}, "Returns"),
    h("p", { class: "toolbar" }, h("a", { href: "#/returns/receive", class: "button-link", id: "open-receiving" }, "Receive a parcel (scan)")),
    done,
  ];
  if (failed.length) parts.push(failureNote(`Returns ${failed.map((r) => `"${returnStatus(r.status).toLowerCase()}"`).join(", ")}`, failed[0].error));
  for (const section of SECTIONS) {
    const rows = lists[section.key];
    if (section.key === "fba" && !rows.length) continue; // only a seller with FBA returns sees the list
    const title = `${section.title} (${rows.length})`;
    parts.push(
      h(
        "section",
        { id: `returns-${section.key}`, "aria-labelledby": `returns-${section.key}-title`, class: "returns-section" },
        h("h2", { id: `returns-${section.key}-title` }, title),
        section.key === "decide" && rows.length
          ? h("p", { class: "muted", id: "returns-decide-hint" }, "Amazon has no API for answering a return request: authorize or close it in Seller Central (Orders › Manage Returns), then record it here to stop the 24-hour clock. Amazon's next returns report brings the prepaid label's tracking number.")
          : null,
        rows.length ? table(section.title, columns(section.key, redraw), rows, { rowAttributes: (r) => ({ "data-return-id": r.returnId, class: rowClass(r) }) }) : h("p", { class: "empty" }, section.empty),
      ),
    );
  }
  view.replaceChildren(...parts);
  const more = reads.filter((r) => r.page?.nextToken).map((r) => returnStatus(r.status).toLowerCase());
  if (more.length) view.querySelector("#returns-done").after(h("p", { class: "warning" }, `Only the first ${PAGE * PAGES} returns of each state are listed (${more.join(", ")} have more).`));
  announce(`${SECTIONS.map((s) => `${lists[s.key].length} ${s.title.toLowerCase()}`).join(", ")}.`);
}
