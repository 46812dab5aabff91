"""The table a function works on, built once per warm container from the settings."""

from __future__ import annotations

from functools import lru_cache

from aws_lambda_powertools.utilities import parameters

from oms.settings import get_settings
from oms.store.pagination import PageTokens
from oms.store.table import Table


@lru_cache(maxsize=1)
def _page_tokens() -> PageTokens:
    # Fetched on the first paged read only, then kept for the container's life.
    secret = parameters.get_secret(get_settings().app_secret_arn, max_age=3600)
    return PageTokens(str(secret).encode())


@lru_cache(maxsize=1)
def default_table() -> Table:
    return Table(get_settings().table_name, _page_tokens)


@lru_cache(maxsize=1)
def default_buyer_table() -> Table:
    """Buyer PII's own table (template BuyerDataTable: no point-in-time recovery)."""
    name = get_settings().buyer_data_table
    if not name:
        raise RuntimeError("BUYER_DATA_TABLE is not set: the stack's buyer-data table is needed here")
    return Table(name, _page_tokens)
