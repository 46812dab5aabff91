"""The peak benchmark's partition meter (bench/peak_meter.py): where an index write lands, and what a
partition got beyond DynamoDB's 1,000 write units a second."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from cost_meter import ALL
from peak_meter import PARTITION_WCU, PartitionMeter, template_projections

KEYS = ("gsi2pk", "gsi2sk")


def _order(status: str, size: int = 100) -> dict[str, Any]:
    return {
        "pk": {"S": "ORDER#1"},
        "sk": {"S": "ORDER"},
        "gsi2pk": {"S": f"ORDERS#STATUS#{status}"},
        "gsi2sk": {"S": "2026-11-24T10:00:00Z"},
        "body": {"S": "x" * size},
    }


def test_a_status_change_writes_the_old_and_the_new_status_partition() -> None:
    moved = PartitionMeter._index_partitions(_order("Pending"), _order("Unshipped"), KEYS, ALL)
    assert moved == [("ORDERS#STATUS#Pending", 1), ("ORDERS#STATUS#Unshipped", 1)]
    assert PartitionMeter._index_partitions(_order("Pending"), _order("Pending", 1500), KEYS, ALL) == [
        ("ORDERS#STATUS#Pending", 2)
    ]
    assert (
        PartitionMeter._index_partitions(_order("Pending"), _order("Pending", 1500), KEYS, frozenset()) == []
    )
    assert PartitionMeter._index_partitions(None, {"pk": {"S": "X"}, "sk": {"S": "Y"}}, KEYS, ALL) == []


def test_the_units_beyond_the_limit_in_a_second_are_the_throttles() -> None:
    meter = PartitionMeter("t", {"gsi2": KEYS}, {"gsi2": ALL})
    meter.units[("gsi2:ORDERS#STATUS#Unshipped", 0)] = PARTITION_WCU + 150
    meter.units[("gsi2:ORDERS#STATUS#Unshipped", 1)] = 400
    meter.units[("gsi2:ORDERS#STATUS#Pending", 0)] = 900
    meter.units[("gsi1:ORDERS", 0)] = 10
    meter.units[("gsi1:ORDERS#ARCHIVED", 0)] = 5000  # another partition, not a shard of ORDERS
    hot = meter.hottest({"status": "gsi2:ORDERS#STATUS#*", "all orders": "gsi1:ORDERS", "none": "gsi3:X"})
    assert hot["status"]["partition"] == "gsi2:ORDERS#STATUS#Unshipped"
    assert hot["status"]["peakWcuPerSecond"] == PARTITION_WCU + 150
    assert (hot["status"]["secondsOver"], hot["status"]["unitsOver"]) == (1, 150)
    assert hot["status"]["partitions"] == 2
    assert hot["all orders"]["peakWcuPerSecond"] == 10
    assert hot["none"]["partition"] is None


def test_projections_are_read_from_the_template() -> None:
    document = {
        "Resources": {
            "Table": {
                "Properties": {
                    "GlobalSecondaryIndexes": [
                        {"IndexName": "gsi1", "Projection": {"ProjectionType": "ALL"}},
                        {"IndexName": "gsi2", "Projection": {"ProjectionType": "KEYS_ONLY"}},
                        {
                            "IndexName": "gsi3",
                            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]},
                        },
                    ]
                }
            }
        }
    }
    assert template_projections(document) == {"gsi1": ALL, "gsi2": frozenset(), "gsi3": frozenset({"status"})}
