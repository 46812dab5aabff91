"""The seller's shipping setup: the warehouse and its calendar, the carriers with their pickups, the guard's
threshold. Kept in the table (GET/PUT/PATCH /settings/shipping), so it changes without a deploy; until the
seller saves one, defaults for the first marketplace's country apply.

A saved setup is never filled in from defaults by accident: PUT takes the whole document (`complete_model`:
every field required, only optional text such as addressLine2 may be left out) and PATCH is a JSON merge
patch (RFC 7386) over the saved one, checked whole before it is written, under the item's version so two
edits at once cannot lose one another.
"""

from __future__ import annotations

import time as clock
import types
from collections.abc import Callable, Sequence
from copy import copy
from datetime import date, time
from functools import cached_property, reduce
from operator import or_
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin

from pydantic import Field, ValidationError, WithJsonSchema, create_model, field_validator, model_validator
from pydantic_core import PydanticUndefined

from oms.domain.calendar import MARKETPLACE_COUNTRIES, BusinessCalendar, PickupSchedule
from oms.domain.carriers import CARRIERS, carrier
from oms.domain.types import ApiModel
from oms.errors import Conflict, FieldProblem, InvalidInput, VersionConflict
from oms.store import keys
from oms.store.table import Table, Write, back_off

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
Weekday = Annotated[str, Field(pattern="^(MON|TUE|WED|THU|FRI|SAT|SUN)$")]
# A wall-clock time in the warehouse's zone ("16:00" or "16:00:00"): no offset, so not JSON Schema's "time".
WallTime = Annotated[
    time,
    WithJsonSchema({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$"}),
]
_CACHE_SECONDS = 60.0


class Address(ApiModel):
    name: str = Field(min_length=1, max_length=30)
    address_line1: str = Field(min_length=1, max_length=180)
    address_line2: str | None = Field(default=None, max_length=60)
    city: str = Field(min_length=1, max_length=30)
    state_or_province_code: str | None = Field(default=None, max_length=30)
    postal_code: str = Field(min_length=1, max_length=30)
    country_code: str = Field(min_length=2, max_length=2)
    phone: str = Field(min_length=1, max_length=30)
    email: str = Field(min_length=3, max_length=256)


class Warehouse(ApiModel):
    name: str = "Main warehouse"
    time_zone: str = "America/New_York"
    country: str = Field(default="US", min_length=2, max_length=2)  # whose public holidays close it
    subdivision: str | None = None  # e.g. a US state, for state holidays
    working_days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    opens: WallTime = time(8, 0)
    closes: WallTime = time(18, 0)
    closed_days: list[date] = Field(default_factory=list)  # the seller's own closures
    address: Address | None = None  # ship-from, needed to buy labels through Amazon

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. America/New_York)") from None
        return value

    @model_validator(mode="after")
    def _opens_before_closing(self) -> Warehouse:
        if self.closes <= self.opens:
            raise ValueError("closes must be after opens")
        return self


class CarrierSetup(ApiModel):
    code: str  # Amazon's carrier code (GET /carriers)
    pickup_days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    cutoff: WallTime = time(16, 0)  # parcels handed over by then leave today
    holidays: list[date] = Field(default_factory=list)  # days the carrier does not pick up
    handling_days: int = Field(default=1, ge=0, le=30)  # business days the seller promises to ship in
    transit_days: int = Field(default=3, ge=0, le=30)  # business days from pickup to the buyer

    @field_validator("code")
    @classmethod
    def _known_carrier(cls, value: str) -> str:
        found = carrier(value)
        if found is None:
            raise ValueError(f"unknown carrier {value!r}; known: {', '.join(sorted(CARRIERS))}")
        return found.code


class PackageDefaults(ApiModel):
    # bounded beyond any parcel a carrier takes, so every value is a number DynamoDB keeps as it is
    length: float = Field(default=10, ge=0.01, le=10_000)
    width: float = Field(default=8, ge=0.01, le=10_000)
    height: float = Field(default=4, ge=0.01, le=10_000)
    dimension_unit: str = Field(default="inches", pattern="^(inches|centimeters)$")
    weight: float = Field(default=16, ge=0.01, le=1_000_000)
    weight_unit: str = Field(default="oz", pattern="^(oz|g)$")

    @property
    def weight_grams(self) -> int:
        return round(self.weight * (28.349523125 if self.weight_unit == "oz" else 1))


LEAVE_OUT = "x-may-be-left-out"  # a field added after PUT /settings/shipping was published


class PackagePreset(PackageDefaults):
    """A box the seller uses often, by name (an order rule may choose it for the label)."""

    name: str = Field(min_length=1, max_length=60)


class ShippingSettings(ApiModel):
    seller_name: str = "Your store"
    warehouse: Warehouse = Field(default_factory=Warehouse)
    carriers: list[CarrierSetup] = Field(
        default_factory=lambda: [CarrierSetup(code="UPS"), CarrierSetup(code="USPS", cutoff=time(15, 0))],
        min_length=1,
    )
    default_carrier: str = "UPS"
    at_risk_share: float = Field(default=0.25, ge=0.01, le=0.99)  # less working time left than this: atRisk
    package: PackageDefaults = Field(default_factory=PackageDefaults)
    package_presets: list[PackagePreset] = Field(
        default_factory=list,
        max_length=30,
        description="named boxes; an order rule may choose one (may be left out of a PUT: none)",
        json_schema_extra={LEAVE_OUT: True},
    )

    @model_validator(mode="after")
    def _default_is_set_up(self) -> ShippingSettings:
        codes = [c.code for c in self.carriers]
        if len(set(codes)) != len(codes):
            raise ValueError("each carrier appears once")
        names = [p.name.casefold() for p in self.package_presets]
        if len(set(names)) != len(names):
            raise ValueError("each package preset has its own name")
        if self.default_carrier not in codes:
            raise ValueError(f"defaultCarrier {self.default_carrier!r} is not among the carriers {codes}")
        return self

    @cached_property
    def calendar(self) -> BusinessCalendar:
        """Built once per setup (with its holiday table); the setup itself is cached for a minute."""
        w = self.warehouse
        return BusinessCalendar(
            timezone=w.time_zone,
            country=w.country,
            subdivision=w.subdivision,
            weekend=frozenset(i for i, d in enumerate(WEEKDAYS) if d not in w.working_days),
            opens=w.opens,
            closes=w.closes,
            closed_days=frozenset(w.closed_days),
        )

    def carrier(self, code: str | None = None) -> CarrierSetup:
        wanted = code or self.default_carrier
        for setup in self.carriers:
            if setup.code == wanted:
                return setup
        return CarrierSetup(code=wanted) if wanted in CARRIERS else self.carrier(None)

    def preset(self, name: str | None) -> PackagePreset | None:
        """The package preset of that name (case aside), if the setup has one."""
        if not name:
            return None
        return next((p for p in self.package_presets if p.name.casefold() == name.casefold()), None)

    def pickup(self, code: str | None = None) -> PickupSchedule:
        setup = self.carrier(code)
        return PickupSchedule(
            carrier=setup.code,
            weekdays=frozenset(WEEKDAYS.index(d) for d in setup.pickup_days),
            cutoff=setup.cutoff,
            holidays=frozenset(setup.holidays),
        )


def defaults(marketplaces: Sequence[str]) -> ShippingSettings:
    """Before the seller saves a setup: the first marketplace's country, its usual time zone."""
    country = MARKETPLACE_COUNTRIES.get(marketplaces[0], "US") if marketplaces else "US"
    zone = _COUNTRY_ZONES.get(country, "UTC")
    return ShippingSettings(warehouse=Warehouse(country=country, time_zone=zone))


_COUNTRY_ZONES = {
    "US": "America/New_York",
    "CA": "America/Toronto",
    "MX": "America/Mexico_City",
    "BR": "America/Sao_Paulo",
    "GB": "Europe/London",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "IT": "Europe/Rome",
    "ES": "Europe/Madrid",
    "NL": "Europe/Amsterdam",
    "SE": "Europe/Stockholm",
    "PL": "Europe/Warsaw",
    "BE": "Europe/Brussels",
    "JP": "Asia/Tokyo",
    "AU": "Australia/Sydney",
    "IN": "Asia/Kolkata",
}


def complete_model(model: type[ApiModel]) -> type[ApiModel]:
    """`model` with every field required (nested models too), so a body that leaves a field out is refused
    instead of taking its default; only optional text (a field that defaults to None and holds no object,
    e.g. addressLine2) and a field added since PUT was published (marked LEAVE_OUT, so a client's whole body
    of before stays whole) may be left out and mean none. Validators are inherited."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = _complete_annotation(info.annotation)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        optional_text = (info.default is None and annotation == info.annotation) or bool(extra.get(LEAVE_OUT))
        field = copy(info)
        field.annotation = annotation
        if not optional_text:
            field.default, field.default_factory = PydanticUndefined, None
            field._attributes_set = {  # what create_model copies from the field
                k: v for k, v in info._attributes_set.items() if k not in ("default", "default_factory")
            }
        fields[name] = (annotation, field)
    made: type[ApiModel] = create_model(
        f"Complete{model.__name__}", __base__=model, __doc__=model.__doc__, **fields
    )
    return made


def _complete_annotation(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, ApiModel):
        return complete_model(annotation)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is list and args:
        inner = _complete_annotation(args[0])
        return annotation if inner is args[0] else list[inner]  # type: ignore[valid-type]
    if origin is types.UnionType:
        parts = [_complete_annotation(a) for a in args]
        return annotation if parts == list(args) else reduce(or_, parts)
    return annotation


if TYPE_CHECKING:
    CompleteShippingSettings = ShippingSettings
else:  # what PUT /settings/shipping takes: the whole setup, as GET gives it
    CompleteShippingSettings = complete_model(ShippingSettings)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge member by member, null removes a member, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge_patch(merged.get(name), value)
    return merged


def _field_name(location: tuple[Any, ...]) -> str:
    name = ""
    for part in location:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def invalid_setup(error: ValidationError) -> InvalidInput:
    """A 400 naming every field of the setup that is missing or wrong."""
    problems = [
        (_field_name(tuple(e["loc"])), "is required" if e["type"] == "missing" else e["msg"])
        for e in error.errors()
    ]
    return InvalidInput("; ".join(f"{f} {m}" for f, m in problems), [FieldProblem(f, m) for f, m in problems])


class ShippingSettingsStore:
    """Read through a short cache (a warm Lambda sees a saved change within a minute)."""

    _cached: tuple[float, str, ShippingSettings] | None = None
    # The marketplaces the stack sells in (MARKETPLACE_IDS): the setup's defaults before the seller saves
    # one. Each function that reads the setup says so at cold start (sell_in); US until then.
    _marketplaces: tuple[str, ...] = ("ATVPDKIKX0DER",)

    def __init__(self, table: Table) -> None:
        self._table = table

    @classmethod
    def sell_in(cls, marketplaces: Sequence[str]) -> None:
        """The marketplaces this stack sells in, from the function's settings at cold start."""
        cls._marketplaces = tuple(marketplaces)
        cls._cached = None

    def get(self, *, fresh: bool = False) -> ShippingSettings:
        cached = ShippingSettingsStore._cached
        if (
            not fresh
            and cached
            and cached[1] == self._table.name
            and clock.monotonic() - cached[0] < _CACHE_SECONDS
        ):
            return cached[2]
        settings, _ = self._read()
        return settings

    def _read(self) -> tuple[ShippingSettings, int | None]:
        item = self._table.get(keys.config_key("shipping"), consistent=True)
        settings = ShippingSettings.model_validate(item["settings"]) if item else defaults(self._marketplaces)
        ShippingSettingsStore._cached = (clock.monotonic(), self._table.name, settings)
        return settings, (int(item.get("version", 0)) if item else None)

    @classmethod
    def forget(cls) -> None:
        """Drop the cached setup (tests switch tables; a warm Lambda needs no call)."""
        cls._cached = None

    def put(self, settings: ShippingSettings) -> ShippingSettings:
        """Replace the whole setup (the caller has checked it is complete)."""
        return self._write(lambda _: settings)

    def patch(self, patch: dict[str, Any]) -> ShippingSettings:
        """Apply a JSON merge patch to the saved setup; the result must still be a complete, valid setup."""

        def patched(current: ShippingSettings) -> ShippingSettings:
            document = merge_patch(current.model_dump(mode="json", by_alias=True), patch)
            try:
                complete = CompleteShippingSettings.model_validate(document)
            except ValidationError as error:
                raise invalid_setup(error) from None
            return ShippingSettings.model_validate(complete.model_dump(mode="json", by_alias=True))

        return self._write(patched)

    def _write(self, change: Callable[[ShippingSettings], ShippingSettings]) -> ShippingSettings:
        for attempt in range(10):
            current, version = self._read()
            settings: ShippingSettings = change(current)
            item = {
                **keys.config_key("shipping"),
                "entity": "Config",
                "settings": settings.model_dump(mode="json", by_alias=True),
            }
            try:
                self._table.transact([Write.put_versioned(item, version)])
            except Conflict:  # saved by someone else since it was read (or created meanwhile)
                back_off(attempt)
                continue
            ShippingSettingsStore._cached = (clock.monotonic(), self._table.name, settings)
            return settings
        raise VersionConflict("the shipping setup kept changing while it was saved; try again")
