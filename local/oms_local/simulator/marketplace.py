"""The local marketplace: one seller's orders, listings and FBA stock, thread-safe and in memory.

It plays Amazon's side of the seller's day: orders are placed (by the buyer thread or the control
endpoint), Amazon moves them on by itself (order_lifecycle), the seller confirms shipments, buys labels,
messages buyers and pushes quantities through the SP-API operations, and every status change is
announced with an ORDER_CHANGE notification handed to `notify`.

Marketplace only composes the modules of Amazon's APIs, one each; their shared state and plumbing is
market_core.MarketCore (one lock for all of it).
"""

from __future__ import annotations

from oms_local.simulator.buyer_mail import BuyerMailApi
from oms_local.simulator.catalog_items_api import CatalogItemsApi
from oms_local.simulator.fba_inventory_api import FbaInventoryApi
from oms_local.simulator.finances_api import FinancesApi
from oms_local.simulator.listings_api import ListingsApi
from oms_local.simulator.market_core import ORDER_ID, ApiError, invalid
from oms_local.simulator.merchant_fulfillment_api import MerchantFulfillmentApi
from oms_local.simulator.messaging_api import UNEXPECTED_PROBLEM, MessagingApi
from oms_local.simulator.order_lifecycle import OrderLifecycle, Wanted
from oms_local.simulator.orders_api import Confirmation, OrdersApi, OrderSearch
from oms_local.simulator.pricing_api import PricingApi
from oms_local.simulator.reports_api import ReportsApi

__all__ = [
    "ORDER_ID",
    "UNEXPECTED_PROBLEM",
    "ApiError",
    "Confirmation",
    "Marketplace",
    "OrderSearch",
    "Wanted",
    "invalid",
]


class Marketplace(
    OrderLifecycle,
    OrdersApi,
    MerchantFulfillmentApi,
    MessagingApi,
    FbaInventoryApi,
    ListingsApi,
    CatalogItemsApi,
    PricingApi,
    FinancesApi,
    ReportsApi,
    BuyerMailApi,
):
    """Amazon for one seller: its own moves on orders and the SP-API operations the product calls."""
