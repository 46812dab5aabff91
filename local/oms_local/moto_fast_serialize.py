"""A faster answer from moto's DynamoDB: item attributes written out as they are, not walked shape by shape.

moto writes every answer by walking the operation's output shape member by member, looking each one up
under several aliases (`moto.core.serialize`): for a DynamoDB item that is ten lookups per attribute value
(S, N, B, SS, ... of the AttributeValue shape), recursively into maps and lists. Profiled in the peak bench
(`bench/peak.py`, 1,187 notifications), that walk was about half of moto's time, far more than the queries
themselves. moto's items are already in the wire form ({"S": "..."}), so an attribute value made of the
plain types (S, N, BOOL, NULL, SS, NS, M and L of those) is written as it is: the same JSON moto's walk
writes (strings as str(), lists and maps member by member, in order). Anything else (binary B and BS, which
moto base64-encodes, or a shape this does not know) is left to moto. Only the local stack and the benches
use this; Lambda never sees it.
"""

from __future__ import annotations

from typing import Any

from moto.core.serialize import BaseJSONSerializer

_MEMBERS = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"}  # DynamoDB's AttributeValue
_original: dict[str, Any] = {}


def plain(value: Any) -> dict[str, Any] | None:
    """`value` as moto's walk would write it, or None when it holds anything but the plain types."""
    if type(value) is not dict or len(value) != 1:
        return None
    ((kind, inner),) = value.items()
    if kind in ("S", "N"):
        return {kind: inner} if type(inner) is str else None
    if kind in ("BOOL", "NULL"):
        return {kind: inner} if type(inner) is bool else None
    if kind in ("SS", "NS"):
        if type(inner) is not list or any(type(member) is not str for member in inner):
            return None
        return {kind: list(inner)}
    if kind == "M":
        if type(inner) is not dict:
            return None
        written = {}
        for name, member in inner.items():
            found = plain(member)
            if found is None or type(name) is not str:
                return None
            written[name] = found
        return {"M": written}
    if kind == "L":
        if type(inner) is not list:
            return None
        items = []
        for member in inner:
            found = plain(member)
            if found is None:
                return None
            items.append(found)
        return {"L": items}
    return None


def _serialize_type_structure(
    self: BaseJSONSerializer, serialized: Any, value: Any, shape: Any, key: str
) -> None:
    if key and shape.name == "AttributeValue" and set(shape.members) == _MEMBERS:
        written = plain(value)
        if written is not None:
            self._default_serialize(serialized, written, shape, key)
            return
    _original["structure"](self, serialized, value, shape, key)


def install() -> None:
    if _original:
        return
    _original["structure"] = BaseJSONSerializer._serialize_type_structure
    BaseJSONSerializer._serialize_type_structure = _serialize_type_structure  # type: ignore[method-assign]


def uninstall() -> None:
    """moto as it was (tests)."""
    if not _original:
        return
    BaseJSONSerializer._serialize_type_structure = _original.pop("structure")  # type: ignore[method-assign]
