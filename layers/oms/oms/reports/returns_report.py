"""The returns report (GET /reports/returns): chosen columns over the returns requested in a time range,
newest first, as JSON pages or one CSV. Reads the request-time index only (returns are a small share of
orders: a CSV that would not fit one API answer is refused with a narrower range to ask for)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from oms.domain.types import iso_z
from oms.errors import InvalidInput
from oms.reports.columns import Row
from oms.reports.export import INLINE_CSV_MAX_BYTES, csv_chunks
from oms.reports.return_columns import return_rows
from oms.store import keys
from oms.store.table import Table
from oms.warehouse.settings import ShippingSettingsStore


class ReturnReports:
    def __init__(self, table: Table) -> None:
        self._table = table
        self.zone = ZoneInfo(ShippingSettingsStore(table).get().warehouse.time_zone)

    def _query(self, start: datetime | None, end: datetime | None) -> keys.KeyQuery:
        if start and end and start > end:
            raise InvalidInput.for_field("from", "must not be after 'to'")
        return keys.returns_by_time(iso_z(start) if start else None, iso_z(end) if end else None)

    def page(
        self,
        columns: Sequence[str],
        start: datetime | None,
        end: datetime | None,
        *,
        limit: int,
        next_token: str | None,
    ) -> tuple[list[Row], str | None]:
        """`limit` returns (each one row per SKU) and the token of the next page."""
        page = self._table.query_page(
            self._query(start, end), limit=limit, next_token=next_token, scope=f"returns-report|{start}|{end}"
        )
        return [row for item in page.items for row in return_rows(item, columns, self.zone)], page.next_token

    def rows(self, columns: Sequence[str], start: datetime | None, end: datetime | None) -> Iterator[Row]:
        for item in self._table.query_all(self._query(start, end)):
            yield from return_rows(item, columns, self.zone)

    def csv(self, columns: Sequence[str], start: datetime | None, end: datetime | None) -> str:
        """The whole CSV, or a 400 asking for a narrower range when it would not fit one API answer."""
        chunks, size = [], 0
        for chunk in csv_chunks(self.rows(columns, start, end), columns, chunk_bytes=16 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            if size > INLINE_CSV_MAX_BYTES:
                raise InvalidInput.for_field(
                    "from", f"the report is over {INLINE_CSV_MAX_BYTES // 1_000_000} MB: ask for fewer days"
                )
        return b"".join(chunks).decode()
