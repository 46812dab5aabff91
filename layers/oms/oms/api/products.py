"""The product catalogue: GET /products, GET /products/{sku}, PUT /products/{sku} (the seller's own title,
weight and dimensions, which win over Amazon's)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from oms.api.paging import ListPage
from oms.domain.products import Product, ProductDetails
from oms.errors import InvalidInput, NotFound
from oms.settings import get_settings
from oms.store.default import default_table
from oms.store.products import ProductStore

router = APIGatewayRouter()
MAX_SKUS = 100
Sku = Annotated[str, Path(min_length=1, max_length=200, description="the seller SKU, percent-encoded")]


@router.get("/products", summary="The catalogue, by SKU", tags=["products"])
def list_products(
    limit: Annotated[int | None, Query(ge=1, le=500, description="page size")] = None,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
    skus: Annotated[
        str | None, Query(max_length=20_000, description="only these SKUs, comma-separated (at most 100)")
    ] = None,
) -> ListPage:
    if skus is not None:
        wanted = [s.strip() for s in skus.split(",") if s.strip()]
        if not wanted or len(wanted) > MAX_SKUS:
            raise InvalidInput.for_field("skus", f"name 1 to {MAX_SKUS} SKUs, comma-separated")
        found = ProductStore(default_table()).many(wanted)
        return ListPage(items=[found[s].model_dump(mode="json", by_alias=True) for s in sorted(found)])
    products, token = ProductStore(default_table()).page(
        limit=limit or get_settings().default_page_size, next_token=next_token
    )
    return ListPage(items=[p.model_dump(mode="json", by_alias=True) for p in products], next_token=token)


@router.get("/products/<sku>", summary="One product", tags=["products"])
def get_product(sku: Sku) -> Product:
    sku = unquote(sku)
    product = ProductStore(default_table()).get(sku)
    if product is None:
        raise NotFound(f"product {sku} is not in the catalogue: no order or stock row has named it yet")
    return product


@router.put(
    "/products/<sku>",
    summary="Set the seller's own title, weight and dimensions (each left out follows Amazon's)",
    tags=["products"],
)
def put_product(sku: Sku, body: ProductDetails) -> Product:
    return ProductStore(default_table()).set_seller_values(unquote(sku), body)
