"""GET /metrics/account-health: Amazon's seller-fulfilled account-health metrics, with projections."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from oms.care.clock import message_health_now
from oms.domain.return_rates import ReturnRates
from oms.returns.health import returns_health_now
from oms.returns.rates import rates_now
from oms.shipping.account_health import AccountHealth, account_health_now
from oms.store.default import default_table

router = APIGatewayRouter()


@router.get("/metrics/account-health", summary="Account health against Amazon's targets", tags=["metrics"])
def get_account_health(
    cached: Annotated[
        bool, Query(description="the figures the 15-minute guard kept (one item read; for large accounts)")
    ] = False,
) -> AccountHealth:
    """Counted now from the last 60 days of orders (and 90 of returns), so a shipment just recorded shows at
    once; with the returns' refund and decision on-time rates and the buyer messages' late response rates."""
    return account_health_now(
        default_table(),
        fresh=not cached,
        more=lambda t, n: returns_health_now(t, n) | message_health_now(t, n),
    )


@router.get(
    "/metrics/return-rates",
    summary="Return rates per SKU and by reason, SKUs well above the seller's average flagged",
    tags=["metrics"],
)
def get_return_rates(
    days: Annotated[int, Query(description="the window in warehouse days: 30 or 90")] = 30,
    sku: Annotated[str | None, Query(min_length=1, max_length=200, description="only this SKU's row")] = None,
) -> ReturnRates:
    """Units returned (by the return's request day) / units shipped (by the day they shipped) in the window
    ending today; from daily counters, so the cost does not grow with orders."""
    return rates_now(default_table(), days, sku)
