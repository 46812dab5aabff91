"""GET /metrics/account-health: Amazon's seller-fulfilled account-health metrics, with projections."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from oms.account_health import AccountHealth, account_health_now
from oms.store.default import default_table

router = APIGatewayRouter()


@router.get("/metrics/account-health", summary="Account health against Amazon's targets", tags=["metrics"])
def get_account_health(
    fresh: Annotated[
        bool, Query(description="count now instead of the figures kept in the last 20 minutes")
    ] = False,
) -> AccountHealth:
    return account_health_now(default_table(), fresh=fresh)
