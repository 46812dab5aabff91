"""SP-API notifications arriving on the order-notifications queue: the envelope and its routing.

Every notification shares Amazon's envelope (NotificationType, PayloadVersion, EventTime, Payload,
NotificationMetadata). Each type's owner registers a handler here; a type nobody owns is
acknowledged and counted, never dead-lettered. A body that is not a notification raises, so its
message alone returns to the queue and, after the redrive count, lands in the DLQ.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from pydantic import BaseModel, ConfigDict, Field

from oms.observability import logger, metrics


class NotificationMetadata(BaseModel):
    model_config = ConfigDict(extra="allow")

    application_id: str = Field(alias="ApplicationId")
    subscription_id: str = Field(alias="SubscriptionId")
    publish_time: datetime = Field(alias="PublishTime")
    notification_id: str = Field(alias="NotificationId", min_length=1)


class Notification(BaseModel):
    """The envelope every SP-API notification shares; fields Amazon adds later are kept, not fatal."""

    model_config = ConfigDict(extra="allow")

    notification_version: str | None = Field(default=None, alias="NotificationVersion")
    notification_type: str = Field(alias="NotificationType", min_length=1)
    payload_version: str = Field(alias="PayloadVersion")
    event_time: datetime = Field(alias="EventTime")
    payload: dict[str, Any] = Field(alias="Payload")
    notification_metadata: NotificationMetadata = Field(alias="NotificationMetadata")


Handler = Callable[[Notification], None]
_owners: dict[str, Handler] = {}


def owns(notification_type: str) -> Callable[[Handler], Handler]:
    """Register the function that applies one notification type."""

    def register(handler: Handler) -> Handler:
        _owners[notification_type] = handler
        return handler

    return register


def apply_notification(notification: Notification) -> None:
    handler = _owners.get(notification.notification_type)
    metrics.add_metric(name="NotificationsReceived", unit=MetricUnit.Count, value=1)
    if handler is None:
        logger.info(
            "notification type has no owner; acknowledged",
            extra={
                "notificationType": notification.notification_type,
                "notificationId": notification.notification_metadata.notification_id,
            },
        )
        with single_metric(
            name="NotificationsUnhandled", unit=MetricUnit.Count, value=1, namespace=metrics.namespace
        ) as metric:
            metric.add_dimension(name="NotificationType", value=notification.notification_type[:64])
        return
    handler(notification)
