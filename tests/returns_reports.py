"""Amazon's two returns reports as Amazon writes them (tab-separated, its columns), for tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

MFN_COLUMNS = [
    "Order ID", "Order date", "Return request date", "Return request status", "Amazon RMA ID",
    "Merchant RMA ID", "Label type", "Label cost", "Currency code", "Return carrier", "Tracking ID",
    "Label to be paid by", "A-to-Z Claim", "Is prime", "ASIN", "Merchant SKU", "Item Name", "Return quantity",
    "Return Reason", "In policy", "Return type", "Resolution", "Invoice number", "Return delivery date",
    "Order Amount", "Order quantity", "SafeT Action reason", "SafeT claim id", "SafeT claim state",
    "SafeT claim creation time", "SafeT claim reimbursement amount", "Refunded Amount",
]  # fmt: skip
FBA_COLUMNS = [
    "return-date", "order-id", "sku", "asin", "fnsku", "product-name", "quantity", "fulfillment-center-id",
    "detailed-disposition", "reason", "status", "license-plate-number", "customer-comments",
]  # fmt: skip


def mfn_row(
    order_id: str, rma: str, sku: str, quantity: int = 1, *, requested: str, status: str = "Approved",
    reason: str = "DEFECTIVE", in_policy: str = "Y", tracking: str = "1Z999AA10123456784", carrier: str = "UPS",
    **other: str,
) -> dict[str, str]:  # fmt: skip
    return {
        "Order ID": order_id, "Order date": requested, "Return request date": requested,
        "Return request status": status, "Amazon RMA ID": rma, "Label type": "AmazonUnPaidLabel",
        "Label cost": "7.25", "Currency code": "USD", "Return carrier": carrier, "Tracking ID": tracking,
        "Label to be paid by": "Seller", "A-to-Z Claim": "N", "Is prime": "N", "ASIN": "B000000001",
        "Merchant SKU": sku, "Item Name": "A mug", "Return quantity": str(quantity), "Return Reason": reason,
        "In policy": in_policy, "Return type": "C-Returns", "Resolution": "StandardRefund", **other,
    }  # fmt: skip


def fba_row(
    order_id: str, sku: str, plate: str, quantity: int = 1, *, returned: str, disposition: str = "SELLABLE",
    reason: str = "UNWANTED_ITEM", centre: str = "PHX7",
) -> dict[str, str]:  # fmt: skip
    return {
        "return-date": returned, "order-id": order_id, "sku": sku, "asin": "B000000002", "fnsku": "X00000001",
        "product-name": "A teapot", "quantity": str(quantity), "fulfillment-center-id": centre,
        "detailed-disposition": disposition, "reason": reason, "status": "Unit returned to inventory",
        "license-plate-number": plate, "customer-comments": "",
    }  # fmt: skip


def tsv(columns: Sequence[str], rows: Sequence[Mapping[str, str]]) -> str:
    lines = ["\t".join(columns)] + ["\t".join(row.get(c, "") for c in columns) for row in rows]
    return "\n".join(lines) + "\n"
