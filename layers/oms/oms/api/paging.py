"""The one shape of a list answer: {"items": [...], "nextToken": ...}."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ListPage(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    items: list[dict[str, Any]]
    next_token: str | None = Field(default=None, serialization_alias="nextToken")
