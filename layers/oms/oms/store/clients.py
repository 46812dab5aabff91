"""Clients of the stack's own AWS services beyond the table and the bucket (the report jobs queue, the
event bus, SES for replies to buyers): built here, so capabilities never construct boto3 clients themselves."""

from __future__ import annotations

from typing import Any, Literal

import boto3

Service = Literal["sqs", "events", "ses"]


def aws_client(service: Service) -> Any:
    """A boto3 client for `service` in the function's region (callers keep it for the warm container)."""
    return boto3.client(service)
