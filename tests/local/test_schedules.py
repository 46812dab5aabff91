"""Schedule expressions fire locally when EventBridge would fire them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oms_local.triggers import ScheduleExpression, scheduled_event


def test_rate_expressions():
    start = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert ScheduleExpression("rate(15 minutes)").next_after(start) == datetime(
        2026, 11, 26, 10, 15, tzinfo=UTC
    )
    assert ScheduleExpression("rate(1 day)").next_after(start) == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_aws_cron_numbers_weekdays_from_sunday_as_1():
    friday_evening = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
    # 2-6 is Monday to Friday in AWS cron: the next run after Friday evening is Monday.
    assert ScheduleExpression("cron(0 8 ? * 2-6 *)").next_after(friday_evening) == datetime(
        2026, 11, 30, 8, 0, tzinfo=UTC
    )
    assert ScheduleExpression("cron(0 8 ? * MON-FRI *)").next_after(friday_evening) == datetime(
        2026, 11, 30, 8, 0, tzinfo=UTC
    )


def test_cron_in_a_time_zone_and_with_a_year():
    start = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    assert ScheduleExpression("cron(15 3 * * ? *)", "America/New_York").next_after(start) == datetime(
        2026, 11, 26, 8, 15, tzinfo=UTC
    )
    assert ScheduleExpression("cron(0 0 1 1 ? 2028)").next_after(start) == datetime(2028, 1, 1, tzinfo=UTC)


def test_bad_expressions_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="6 fields"):
        ScheduleExpression("cron(0 8 * * *)").next_after(datetime.now(UTC))
    with pytest.raises(ValueError, match="rate"):
        ScheduleExpression("every day").next_after(datetime.now(UTC))


def test_scheduler_input_placeholders_are_filled():
    event = scheduled_event(
        "ScheduleV2",
        {
            "Input": '{"scheduledTime": "<aws.scheduler.scheduled-time>", "executionId": "<aws.scheduler.execution-id>"}'
        },
        when=datetime(2026, 11, 26, 3, 15, tzinfo=UTC),
        region="us-east-1",
        schedule_arn="arn:aws:scheduler:us-east-1:123456789012:schedule/default/x",
    )
    assert event["scheduledTime"] == "2026-11-26T03:15:00Z"
    assert len(event["executionId"]) == 36


def test_a_rule_schedule_sends_the_scheduled_event_shape():
    event = scheduled_event(
        "Schedule", {}, when=datetime(2026, 11, 26, tzinfo=UTC), region="eu-west-1", schedule_arn="arn:x"
    )
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["region"] == "eu-west-1"
