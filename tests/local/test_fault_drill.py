"""The fault drill's verdict on dead letters (local/oms_local/fault_drill.py): poison is what the fault-free run
of the same seed dead-lettered too; anything else carrying work is lost; a schedule's failed run carries none."""

from __future__ import annotations

import json

from oms_local.fault_drill import DrillResult, not_poison, scheduled_run


def _result(order_ids: list[str], *letters: tuple[str, object]) -> DrillResult:
    return DrillResult(
        state={},
        acted={},
        faults={},
        dead_letters=[{"queue": queue, "body": json.dumps(body)} for queue, body in letters],
        seconds=0.0,
        seller_retries=0,
        order_ids=order_ids,
    )


def _notification(order_id: str) -> dict:
    return {
        "NotificationType": "ORDER_CHANGE",
        "Payload": {"OrderChangeNotification": {"AmazonOrderId": order_id}},
    }


def _failed_run(function: str) -> dict:
    return {
        "requestContext": {"functionArn": function, "condition": "RetriesExhausted"},
        "requestPayload": {"scheduledTime": "2026-12-07T06:05:33Z", "executionId": "a0f8d8d4"},
        "responsePayload": {"errorType": "ClientError"},
    }


def test_poison_is_what_the_fault_free_run_dead_lettered_too_and_a_schedules_failed_run_is_not_lost():
    clean = _result(["A-1", "A-2"], ("OrderNotificationsDlqUrl", _notification("A-2")))
    faulty = _result(
        ["B-1", "B-2"],
        ("OrderNotificationsDlqUrl", _notification("B-2")),  # the same order's: poison in both runs
        ("OrderNotificationsDlqUrl", _notification("B-1")),  # only with faults: a good message given up on
        ("FailedInvocationsDlqUrl", _failed_run("ShipGuardFunction")),
    )

    lost = not_poison(clean, faulty)

    assert [json.loads(letter["body"]) for letter in lost] == [_notification("B-1")]
    assert [scheduled_run(letter) for letter in faulty.dead_letters] == [False, False, True]


def test_a_stream_batchs_failure_record_is_work_and_counts_as_lost():
    stream_failure = {
        "requestContext": {"functionArn": "SyncListingsFunction", "condition": "RetryAttemptsExhausted"},
        "DDBStreamBatchInfo": {"shardId": "s", "startSequenceNumber": "1", "endSequenceNumber": "9"},
    }
    faulty = _result(["B-1"], ("FailedInvocationsDlqUrl", stream_failure))

    assert not scheduled_run(faulty.dead_letters[0])
    assert len(not_poison(_result(["A-1"]), faulty)) == 1
