"""A product of the catalogue (docs/openapi.json: Product): what Amazon says of a
SKU, with the seller's own values winning field by field; and the package an order ships in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Literal

from pydantic import Field, ValidationError, field_serializer

from oms.domain.orders import Order, OrderItem
from oms.domain.types import ApiModel, UtcDateTime

WeightUnit = Literal["oz", "lb", "g", "kg"]
LengthUnit = Literal["in", "cm"]
_GRAMS = {"oz": Decimal("28.349523125"), "lb": Decimal("453.59237"), "g": Decimal(1), "kg": Decimal(1000)}
_CENTIMETRES = {"in": Decimal("2.54"), "cm": Decimal(1)}
SELLER_FIELDS = ("title", "weight", "dimensions")
_PLACES = Decimal("0.0001")


class Weight(ApiModel):
    value: Decimal = Field(gt=0, le=100_000, max_digits=12, decimal_places=4)
    unit: WeightUnit

    @field_serializer("value")
    def _number(self, value: Decimal) -> float:
        return float(value)

    @property
    def grams(self) -> Decimal:
        return self.value * _GRAMS[self.unit]


class Dimensions(ApiModel):
    length: Decimal = Field(gt=0, le=10_000, max_digits=10, decimal_places=4)
    width: Decimal = Field(gt=0, le=10_000, max_digits=10, decimal_places=4)
    height: Decimal = Field(gt=0, le=10_000, max_digits=10, decimal_places=4)
    unit: LengthUnit

    @field_serializer("length", "width", "height")
    def _number(self, value: Decimal) -> float:
        return float(value)

    def centimetres(self) -> tuple[Decimal, Decimal, Decimal]:
        factor = _CENTIMETRES[self.unit]
        return self.length * factor, self.width * factor, self.height * factor


class ProductDetails(ApiModel):
    """The values a seller may set (PUT /products/{sku}); each one left out follows Amazon's."""

    title: str | None = Field(default=None, min_length=1, max_length=500)
    weight: Weight | None = None
    dimensions: Dimensions | None = None


class Product(ApiModel):
    sku: str
    asin: str | None = None
    title: str | None = None
    image_url: str | None = None
    weight: Weight | None = None
    dimensions: Dimensions | None = None
    seller_set: list[str] = Field(default_factory=list)  # the fields whose value is the seller's
    amazon: ProductDetails = Field(default_factory=ProductDetails)  # what Amazon said, for comparison
    listed_on_amazon: bool | None = None  # None: not read yet; False: Amazon has no listing for the SKU
    read_at: UtcDateTime | None = None  # when Amazon was last read


def merged(sku: str, amazon: Mapping[str, object] | None, seller: Mapping[str, object] | None) -> Product:
    """The product as shown: the seller's value of each field where set, else Amazon's."""
    amazon, seller = dict(amazon or {}), dict(seller or {})
    from_amazon, own = _details(amazon), _details(seller)
    chosen = {
        k: getattr(own, k) if getattr(own, k) is not None else getattr(from_amazon, k) for k in SELLER_FIELDS
    }
    return Product(
        sku=sku,
        asin=amazon.get("asin"),
        image_url=amazon.get("imageUrl"),
        **chosen,
        seller_set=[k for k in SELLER_FIELDS if getattr(own, k) is not None],
        amazon=from_amazon,
        listed_on_amazon=amazon.get("listed"),
        read_at=amazon.get("readAt"),
    )


def _details(values: Mapping[str, object]) -> ProductDetails:
    """The stored values that are valid; one that is not (say, an empty title from Amazon) is left out,
    so a product always shows rather than failing every page that names it."""
    kept = {}
    for name in SELLER_FIELDS:
        if values.get(name) is None:
            continue
        try:
            ProductDetails.model_validate({name: values[name]})
        except ValidationError:
            continue
        kept[name] = values[name]
    return ProductDetails.model_validate(kept)


class Package(ApiModel):
    """What a label is priced for: one box, its weight and size, and where those came from."""

    weight: Weight
    dimensions: Dimensions
    source: Literal["given", "catalogue", "default"]


def package_for(lines: list[tuple[str, int]], products: Mapping[str, Product], default: Package) -> Package:
    """The catalogue's package when it knows every SKU's weight: the units' weights summed; the size of
    a single unit's product, or for several units the default box unless one product is bigger (its size).
    Otherwise the seller's default box and weight."""
    known = [products.get(sku) for sku, _ in lines]
    if not lines or any(p is None or p.weight is None for p in known):
        return default
    grams = sum(
        (p.weight.grams * units for p, (_, units) in zip(known, lines, strict=True) if p and p.weight),
        Decimal(0),
    )
    sizes = [p.dimensions for p in known if p and p.dimensions]
    units = sum(u for _, u in lines)
    if units == 1 and sizes:
        box = sizes[0]
    else:
        biggest = max(sizes, key=_volume, default=None)
        box = biggest if biggest and _volume(biggest) > _volume(default.dimensions) else default.dimensions
    return Package(
        weight=Weight(value=(grams / 1000).quantize(_PLACES), unit="kg"), dimensions=box, source="catalogue"
    )


def _volume(d: Dimensions) -> Decimal:
    length, width, height = d.centimetres()
    return length * width * height


def with_catalogue(items: list[OrderItem], products: Mapping[str, Product]) -> list[OrderItem]:
    """Items with the catalogue's image, and its title and ASIN where the order has none yet."""
    shown = []
    for item in items:
        product = products.get(item.sku)
        if product is None:
            shown.append(item)
            continue
        shown.append(
            item.model_copy(
                update={
                    "title": item.title or product.title,
                    "asin": item.asin or product.asin,
                    "image_url": product.image_url,
                }
            )
        )
    return shown


def skus_of(orders: Iterable[Order]) -> set[str]:
    return {item.sku for order in orders for item in order.items}
