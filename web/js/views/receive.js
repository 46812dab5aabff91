// #/returns/receive?scan=: the receiving screen. One field takes a scanned RMA id, order id or return tracking
// number (a scanner types it and presses Enter), finds the return, and takes its units and grades; then the
// field is ready for the next parcel.
import { call, pages } from "../api.js";
import { announce, failureNote, h, routeQuery, whileBusy } from "../dom.js";
import { receivedNote, receiveForm } from "../receiving.js";
import { ARRIVING, findByScan, itemsText, sections } from "../returns-common.js";
import { returnSource, returnStatus } from "../words.js";

const EXPECTED = 50;

export async function render(view) {
  const scan = h("input", { id: "scan", name: "scan", type: "search", autocomplete: "off", spellcheck: "false", autocapitalize: "characters", enterkeyhint: "search", required: true, "aria-describedby": "scan-hint" });
  const find = h("button", { type: "submit", id: "scan-find" }, "Find the return");
  const result = h("div", { id: "scan-result", "aria-live": "polite" });
  const form = h(
    "form",
    { id: "scan-form", class: "scan-form", role: "search" },
    h("label", { for: "scan" }, "Scan or type the RMA id, order id or return tracking number"),
    h("div", { class: "scan-row" }, scan, find),
    h("p", { id: "scan-hint", class: "hint" }, "A barcode scanner types the number and presses Enter."),
  );
  const expected = h("section", { id: "expected", "aria-labelledby": "expected-title" }, h("h2", { id: "expected-title" }, "Parcels expected"));
  view.replaceChildren(h("p", { class: "breadcrumb" }, h("a", { href: "#/returns" }, "← Returns")), h("h1", {}, "Receive a returned parcel"), form, result, expected);

  let looking = null; // a scanner's second Enter while the first lookup runs is the same lookup
  async function lookUp(text) {
    const wanted = text.trim();
    if (!wanted) {
      result.replaceChildren(h("p", { class: "failure" }, "Scan or type a number first."));
      scan.focus();
      return;
    }
    try {
      const found = await findByScan(wanted);
      if (!found.length) {
        result.replaceChildren(h("p", { class: "failure", id: "scan-none" }, `No return matches ${wanted}. Check the number, or record the return from its order (Returns on the order's page).`));
        announce(`No return matches ${wanted}.`);
        scan.select();
        return;
      }
      if (found.length === 1) {
        await show(found[0].returnId);
        return;
      }
      result.replaceChildren(
        h("p", {}, `${found.length} returns match ${wanted}: choose the parcel's.`),
        h(
          "ul",
          { class: "scan-choices" },
          found.map((ret) => {
            const choose = h("button", { type: "button", class: "choose-return", "data-return-id": ret.returnId }, `Receive ${ret.returnId}`);
            choose.addEventListener("click", () => whileBusy(choose, null, () => show(ret.returnId)));
            return h("li", {}, choose, " ", returnStatus(ret.status), " · ", itemsText(ret));
          }),
        ),
      );
      announce(`${found.length} returns match.`);
    } catch (error) {
      result.replaceChildren(failureNote("The return", error));
    }
  }

  async function show(returnId) {
    const ret = await call(`/returns/${encodeURIComponent(returnId)}`); // with its receipts: what is still to come
    const heading = h("h2", { id: "receive-title", tabindex: "-1" }, `Return ${ret.returnId}`);
    result.replaceChildren(
      heading,
      h(
        "p",
        { class: "return-summary" },
        h("a", { href: `#/returns/${encodeURIComponent(ret.returnId)}` }, "Open the return"),
        ` · order `,
        h("a", { href: `#/orders/${encodeURIComponent(ret.orderId)}` }, ret.orderId),
        ` · ${returnSource(ret.source)} · ${returnStatus(ret.status)}`,
        ret.amazonRmaId ? ` · RMA ${ret.amazonRmaId}` : null,
      ),
      h("p", {}, itemsText(ret)),
      receiveForm(ret, (after, receipt, again) => {
        result.replaceChildren(receivedNote(after, receipt, again), h("p", {}, h("a", { href: `#/returns/${encodeURIComponent(after.returnId)}` }, `Open return ${after.returnId}`)));
        scan.value = "";
        scan.focus(); // ready for the next parcel
        listExpected();
      }),
    );
    announce(`Return ${ret.returnId}: ${returnStatus(ret.status).toLowerCase()}.`);
    const first = result.querySelector("#receive-form input");
    (first || heading).focus();
  }

  // a parcel whose label cannot be read: the returns on their way back, oldest first, to choose from
  async function listExpected() {
    try {
      const reads = await Promise.all(ARRIVING.map((status) => pages("/returns", { status, limit: EXPECTED }, 1)));
      const arriving = sections(reads.flatMap((page) => page.items)).arriving.slice(0, EXPECTED);
      expected.replaceChildren(expected.firstChild);
      if (!arriving.length) {
        expected.append(h("p", { class: "empty" }, "No authorized return is on its way back."));
        return;
      }
      expected.append(
        h(
          "ul",
          { class: "scan-choices" },
          arriving.map((ret) => {
            const choose = h("button", { type: "button", class: "choose-return", "data-return-id": ret.returnId }, `Receive ${ret.returnId}`);
            choose.addEventListener("click", () => whileBusy(choose, null, () => show(ret.returnId).catch((error) => result.replaceChildren(failureNote("The return", error)))));
            return h("li", { "data-return-id": ret.returnId }, choose, ` order ${ret.orderId}${ret.trackingId ? `, tracking ${ret.trackingId}` : ""} · `, itemsText(ret));
          }),
        ),
      );
    } catch (error) {
      expected.replaceChildren(expected.firstChild, failureNote("The parcels expected", error));
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (looking) return;
    looking = whileBusy(find, "Finding…", () => lookUp(scan.value)).finally(() => {
      looking = null;
    });
  });
  await listExpected();
  const given = routeQuery().get("scan");
  if (given) {
    scan.value = given;
    await lookUp(given);
  } else {
    setTimeout(() => scan.focus(), 0); // after the shell has focused the heading: a scanner types here
  }
}
