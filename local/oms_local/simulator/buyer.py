"""The buyer side: shoppers placing orders at a steady rate, with a realistic mix.

About three orders in four are seller-fulfilled (MFN) and one in four FBA (AFN); about 40% are
Prime (most FBA orders, fewer seller-fulfilled ones); a few are Amazon Business orders; most are
paid at once (Unshipped), some wait for payment authorisation (Pending) and the odd one is a
pre-order (PendingAvailability); about 3% are canceled, by payment failure while Pending or at
the buyer's request. Baskets are invoices of the retail data set cut to consumer size, so products
that sell together are ordered together. A SKU the seller has set to quantity 0 is not bought.
"""

from __future__ import annotations

import contextlib
import random
import threading
from dataclasses import dataclass

from oms_local.simulator.catalogue import Product
from oms_local.simulator.entities import PENDING, PENDING_AVAILABILITY, UNSHIPPED
from oms_local.simulator.marketplace import ApiError, Marketplace, Wanted


@dataclass(frozen=True)
class BuyerMix:
    afn_share: float = 0.25
    prime_afn: float = 0.70  # 0.25 * 0.70 + 0.75 * 0.30 = 0.40 Prime overall
    prime_mfn: float = 0.30
    business_share: float = 0.04
    pending_share: float = 0.08
    preorder_share: float = 0.01
    cancel_share: float = 0.03
    buyer_cancel_share: float = 0.6  # of cancellations; the rest fail payment while Pending
    lines: tuple[tuple[int, float], ...] = ((1, 0.68), (2, 0.20), (3, 0.08), (4, 0.04))
    cancel_seconds: tuple[float, float] = (5.0, 60.0)
    # a buyer returns something about once for every 12 orders placed (US online retail: 8-10%)
    return_share: float = 0.08
    # a buyer writes to the seller about once for every 10 orders (where is it, return, cancel, ...)
    message_share: float = 0.10


class Buyers:
    def __init__(
        self, marketplace: Marketplace, mix: BuyerMix | None = None, rng: random.Random | None = None
    ) -> None:
        self.marketplace = marketplace
        self.mix = mix or BuyerMix()
        self.rng = rng or random.Random(marketplace.rng.random())  # noqa: S311 - simulation, not security
        catalogue = marketplace.catalogue
        self._by_channel: dict[bool, list[Product]] = {
            afn: [p for p in catalogue.products.values() if p.fba == afn] or list(catalogue.products.values())
            for afn in (False, True)
        }
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.placed = 0

    # ------------------------------------------------------------------ one order

    def _sellable(self, product: Product, afn: bool) -> bool:
        if afn:
            return True  # Amazon restocks FBA just in time in this marketplace
        quantity = self.marketplace.listing_quantity(product.sku)
        return quantity is None or quantity > 0

    def basket(self, afn: bool) -> list[Wanted]:
        catalogue = self.marketplace.catalogue
        count = self.rng.choices([n for n, _ in self.mix.lines], [w for _, w in self.mix.lines])[0]
        invoice = self.rng.choice(catalogue.baskets) if catalogue.baskets else []
        seen: set[str] = set()
        candidates = []
        for sku, units in self.rng.sample(invoice, len(invoice)):
            product = catalogue.product(sku)
            if product is None or product.fba != afn or sku in seen or not self._sellable(product, afn):
                continue
            seen.add(sku)
            candidates.append(Wanted(sku, catalogue.consumer_quantity(units, self.rng)))
            if len(candidates) == count:
                break
        tries = 0
        while not candidates and tries < 20:  # nothing of this channel in that invoice: any product of it
            tries += 1
            product = self.rng.choice(self._by_channel[afn])
            if self._sellable(product, afn):
                candidates.append(Wanted(product.sku, self.rng.choice(catalogue.consumer_quantities)))
        return candidates

    def place_random_order(self) -> str | None:
        """Place one order drawn from the mix; None when nothing is for sale."""
        mix, rng = self.mix, self.rng
        afn = rng.random() < mix.afn_share
        items = self.basket(afn)
        if not items:
            return None
        prime = rng.random() < (mix.prime_afn if afn else mix.prime_mfn)
        business = rng.random() < mix.business_share
        cancel = rng.random() < mix.cancel_share
        by_buyer = rng.random() < mix.buyer_cancel_share
        roll = rng.random()
        if cancel and not by_buyer:
            status = PENDING  # payment fails during authorisation
        elif roll < mix.preorder_share:
            status = PENDING_AVAILABILITY
        elif roll < mix.preorder_share + mix.pending_share:
            status = PENDING
        else:
            status = UNSHIPPED
        level = None
        if not prime:
            level = rng.choices(("STANDARD", "EXPEDITED", "FREE_ECONOMY"), (0.8, 0.12, 0.08))[0]
        elif rng.random() < 0.25:
            level = "NEXT_DAY"
        order_id = self.marketplace.place_order(
            items, afn=afn, prime=prime, business=business, status=status, service_level=level
        )
        self.placed += 1
        if cancel:
            if by_buyer:
                delay = rng.uniform(*mix.cancel_seconds)
            else:  # before the payment would have been authorised
                delay = rng.uniform(0.5, max(0.6, self.marketplace.config.pending_seconds[0] * 0.9))
            self.marketplace.scheduler.after(delay, lambda: self._cancel(order_id, by_buyer))
        return order_id

    def _cancel(self, order_id: str, by_buyer: bool) -> None:
        reason = None if by_buyer else "Payment Declined"
        with contextlib.suppress(ApiError):  # shipped (or canceled) before the buyer changed their mind
            self.marketplace.cancel_order(order_id, buyer_requested=by_buyer, reason=reason)

    # ------------------------------------------------------------------ the thread

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sim-buyers", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            if not self._thread.is_alive():
                self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            rate = self.marketplace.config.orders_per_minute
            if rate <= 0:
                self._stop.wait(1.0)
                continue
            if self._stop.wait(self.rng.expovariate(rate / 60.0)):
                return
            try:
                self.place_random_order()
                if self.rng.random() < self.mix.return_share:
                    self.marketplace.return_random_order()
                if self.rng.random() < self.mix.message_share:
                    self.marketplace.write_about_random_order()
            except Exception as error:  # keep shopping; say what went wrong
                if self.marketplace.log:
                    self.marketplace.log(f"buyer could not place an order, return one or write: {error!r}")
