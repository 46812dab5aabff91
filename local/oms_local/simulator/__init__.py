"""The local marketplace simulator: a local SP-API (LWA token endpoint and the Amazon operations the
product calls, in the official shapes and usage plans) and a buyer side that places orders and
notifies like Amazon. Part of the local stack; never shipped to Lambda.

    with Simulator(notify=queue.append) as sim:      # HTTP server and the marketplace's clock
        sim.start_buyers()                           # optional: background buyer activity
        sim.url, sim.lwa_token_url                   # point the SP-API client here
        sim.marketplace.place_order([Wanted("85123A", 2)], afn=False, prime=True)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from oms_local.simulator.buyer import BuyerMix, Buyers
from oms_local.simulator.buyer_mail import SELLER_ADDRESS
from oms_local.simulator.catalogue import Catalogue, load_catalogue
from oms_local.simulator.config import LOCAL_CREDENTIALS, MARKETPLACE_ID, SELLER_ID, SimulatorConfig
from oms_local.simulator.marketplace import ApiError, Marketplace, Wanted
from oms_local.simulator.notifications import Notify
from oms_local.simulator.scheduler import Clock, utc_now
from oms_local.simulator.server import SpApiServer

__all__ = [
    "LOCAL_CREDENTIALS",
    "MARKETPLACE_ID",
    "SELLER_ID",
    "ApiError",
    "BuyerMix",
    "Buyers",
    "Marketplace",
    "Simulator",
    "SimulatorConfig",
    "SpApiServer",
    "Wanted",
]


class Simulator:
    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        notify: Notify | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        catalogue: Catalogue | None = None,
        clock: Clock = utc_now,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config or SimulatorConfig()
        catalogue = catalogue or load_catalogue(self.config.dataset, self.config.max_rows)
        self.marketplace = Marketplace(self.config, catalogue=catalogue, notify=notify, clock=clock, log=log)
        self.server = SpApiServer(self.marketplace, host=host, port=port, log=log)
        self.buyers = Buyers(self.marketplace)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def lwa_token_url(self) -> str:
        return self.server.lwa_token_url

    @property
    def seller_id(self) -> str:
        return self.marketplace.seller_id

    @property
    def marketplace_id(self) -> str:
        return self.marketplace.marketplace_id

    @property
    def application_id(self) -> str:
        """The SP-API application whose subscription sends the notifications (the stack accepts only it)."""
        return self.marketplace.application_id

    @property
    def subscription_id(self) -> str:
        return self.marketplace.subscription_id

    @property
    def notify(self) -> Notify | None:
        return self.marketplace.notify

    @notify.setter
    def notify(self, notify: Notify | None) -> None:
        self.marketplace.notify = notify

    def start(self) -> None:
        """Answer HTTP and run the marketplace's clock; no buyer activity yet."""
        self.server.start()
        self.marketplace.start()

    def start_buyers(self) -> None:
        self.buyers.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Buyers, the SP-API and the marketplace's clock stopped, waiting `timeout` seconds at most in all."""
        deadline = time.monotonic() + timeout
        self.buyers.stop(timeout=max(deadline - time.monotonic(), 0))
        self.server.stop(timeout=max(deadline - time.monotonic(), 0))
        self.marketplace.stop(timeout=max(deadline - time.monotonic(), 0))

    def stack_parameters(self) -> dict[str, str]:
        """The template parameters that point a stack at this marketplace and make it accept its
        notifications (as a seller's deploy names their application and merchant token)."""
        return {
            "SpApiEndpoint": self.url,
            "LwaTokenUrl": self.lwa_token_url,
            "SellerId": self.seller_id,
            "SpApiApplicationId": self.application_id,
            "SpApiSubscriptionIds": self.subscription_id,
            # where the buyers' mail goes and replies come from (the local SES verifies it)
            "SupportEmailAddress": SELLER_ADDRESS,
        }

    def outputs(self) -> dict[str, Any]:
        return {
            "SpApiEndpoint": self.url,
            "LwaTokenUrl": self.lwa_token_url,
            "SellerId": self.seller_id,
            "MarketplaceId": self.marketplace_id,
            "SpApiApplicationId": self.application_id,
            "SpApiSubscriptionIds": self.subscription_id,
            # where the buyers' mail goes and replies come from (the local SES verifies it)
            "SupportEmailAddress": SELLER_ADDRESS,
        }

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
