"""Pydantic's validation errors in the seller's words: "quantity must be a whole number", never
"Input should be a valid integer". The API (oms.api.errors) and the CLI's CSV import use the same words."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from oms.observability import logger

# pydantic names a union's branches in the location ("limit", "int"): they are not fields
_BRANCH = re.compile(
    r"^(int|float|str|bool|bytes|none|decimal|date|datetime|time|[a-z-]+\[.*\]|function-.*|constrained-.*)$"
)


def field_name(location: tuple[Any, ...]) -> str:
    """("body", "items", 0, "sku") -> "items[0].sku"; ("query", "limit") -> "limit"."""
    parts = [p for p in location if p not in ("body", "query", "path", "header")]
    parts = [p for p in parts if not (isinstance(p, str) and _BRANCH.match(p))]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def _items(count: object) -> str:
    return "1 item" if count == 1 else f"{count} items"


def _characters(count: object) -> str:
    return "1 character" if count == 1 else f"{count} characters"


# what each pydantic error type means, in the seller's words (never the library's "Input should be ...")
_WORDS: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda _: "is required",
    "extra_forbidden": lambda _: "is not a known field",
    "json_invalid": lambda _: "is not valid JSON",
    "int_type": lambda _: "must be a whole number",
    "int_parsing": lambda _: "must be a whole number",
    "int_from_float": lambda _: "must be a whole number",
    "int_parsing_size": lambda _: "is too large a number",
    "float_type": lambda _: "must be a number",
    "float_parsing": lambda _: "must be a number",
    "decimal_type": lambda _: "must be a number",
    "decimal_parsing": lambda _: "must be a number",
    "decimal_max_digits": lambda c: f"must have at most {c.get('max_digits')} digits",
    "decimal_max_places": lambda c: f"must have at most {c.get('decimal_places')} decimal places",
    "finite_number": lambda _: "must be a finite number",
    "bool_type": lambda _: "must be true or false",
    "bool_parsing": lambda _: "must be true or false",
    "string_type": lambda _: "must be text",
    "string_too_short": lambda c: (
        "must not be empty"
        if c.get("min_length") == 1
        else f"must be at least {_characters(c.get('min_length'))}"
    ),
    "string_too_long": lambda c: f"must be at most {_characters(c.get('max_length'))}",
    "string_pattern_mismatch": lambda _: "is not in the expected form",
    "too_short": lambda c: (
        "must not be empty"
        if c.get("min_length") == 1
        else f"must have at least {_items(c.get('min_length'))}"
    ),
    "too_long": lambda c: f"must have at most {_items(c.get('max_length'))}",
    "greater_than": lambda c: f"must be more than {c.get('gt')}",
    "greater_than_equal": lambda c: f"must be {c.get('ge')} or more",
    "less_than": lambda c: f"must be less than {c.get('lt')}",
    "less_than_equal": lambda c: f"must be {c.get('le')} or less",
    "multiple_of": lambda c: f"must be a multiple of {c.get('multiple_of')}",
    "literal_error": lambda c: f"must be one of {c.get('expected')}",
    "enum": lambda c: f"must be one of {c.get('expected')}",
    "datetime_type": lambda _: "must be a date and time such as 2026-11-26T14:00:00Z",
    "datetime_parsing": lambda _: "must be a date and time such as 2026-11-26T14:00:00Z",
    "datetime_from_date_parsing": lambda _: "must be a date and time such as 2026-11-26T14:00:00Z",
    "timezone_aware": lambda _: "must say its time zone (end it with Z for UTC)",
    "date_type": lambda _: "must be a date such as 2026-11-26",
    "date_parsing": lambda _: "must be a date such as 2026-11-26",
    "date_from_datetime_parsing": lambda _: "must be a date such as 2026-11-26",
    "date_from_datetime_inexact": lambda _: "must be a date such as 2026-11-26, without a time",
    "time_type": lambda _: "must be a time such as 16:30",
    "time_parsing": lambda _: "must be a time such as 16:30",
    "list_type": lambda _: "must be a list",
    "tuple_type": lambda _: "must be a list",
    "set_type": lambda _: "must be a list",
    "dict_type": lambda _: "must be an object",
    "model_type": lambda _: "must be an object",
    "model_attributes_type": lambda _: "must be an object",
    "url_parsing": lambda _: "must be a web address such as https://example.com/hook",
    "url_scheme": lambda _: "must be a web address starting with https://",
    "uuid_parsing": lambda _: "must be an id such as 0b7e7dee-87d6-4d5c-9f1e-1b1a3e6c1d2e",
    "union_tag_invalid": lambda c: f"must be one of {c.get('expected_tags')}",
    "union_tag_not_found": lambda c: f"needs its {c.get('discriminator')} field",
}
_OWN_PREFIXES = ("Value error, ", "Assertion failed, ")


def plain_words(error: Mapping[str, Any]) -> str:
    """A pydantic error in plain words: "must be a whole number", not "Input should be a valid integer"."""
    kind = str(error.get("type", ""))
    words = _WORDS.get(kind)
    if words is not None:
        return words(error.get("ctx") or {})
    message = str(error.get("msg", ""))
    for prefix in _OWN_PREFIXES:  # our own validators' messages are already written for people
        if message.startswith(prefix):
            own = message[len(prefix) :].strip()
            return own[0].lower() + own[1:] if own else "is not valid"
    logger.warning("validation error without plain words", extra={"type": kind})
    return "is not valid"


def field_problems(errors: Sequence[Any]) -> list[dict[str, str]]:
    """One problem per field, in plain words (a union's branches would otherwise each complain)."""
    if any(e.get("type") == "json_invalid" for e in errors):
        return [{"field": "body", "message": "is not valid JSON"}]
    problems: dict[str, str] = {}
    for error in errors:
        problems.setdefault(field_name(tuple(error.get("loc", ()))), plain_words(error))
    return [{"field": field, "message": message} for field, message in problems.items()]
