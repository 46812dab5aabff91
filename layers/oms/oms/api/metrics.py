"""GET /metrics/account-health: Amazon's seller-fulfilled account-health metrics, with projections."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from oms.account_health import AccountHealth, current_account_health
from oms.store.default import default_table

router = APIGatewayRouter()


@router.get("/metrics/account-health", summary="Account health against Amazon's targets", tags=["metrics"])
def get_account_health() -> AccountHealth:
    return current_account_health(default_table())
