"""SP-API notifications arriving on the order-notifications queue: the envelope and its routing.

Every notification shares Amazon's envelope (NotificationType, PayloadVersion, EventTime, Payload,
NotificationMetadata). Each type's owner registers a handler here; a type nobody owns is
acknowledged and counted, never dead-lettered. A body that is not a notification raises, so its
message alone returns to the queue and, after the redrive count, lands in the DLQ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from oms.amazon.notifications import Notification
from oms.observability import logger, metrics

Handler = Callable[[Notification], object]


def _owners(marketplaces: Sequence[str]) -> dict[str, Handler]:
    """Who applies each notification type (imported here, when first needed, to keep cold starts lean)."""
    from oms.inventory import fba
    from oms.orders import intake
    from oms.reports import finished
    from oms.returns import refunds

    return {
        "ORDER_CHANGE": intake.apply_order_change,
        "FBA_INVENTORY_AVAILABILITY_CHANGES": partial(fba.apply_fba_change, marketplaces=marketplaces),
        "REPORT_PROCESSING_FINISHED": finished.apply_report_finished,
        "FEED_PROCESSING_FINISHED": refunds.apply_feed_processing_finished,
    }


def apply_notification(notification: Notification, *, marketplaces: Sequence[str]) -> None:
    """Hand the notification to its type's owner; `marketplaces`: the ones the seller sells in."""
    handler = _owners(marketplaces).get(notification.notification_type)
    metrics.add_metric(name="NotificationsReceived", unit=MetricUnit.Count, value=1)
    if handler is None:
        logger.info(
            "notification type has no owner; acknowledged",
            extra={
                "notificationType": notification.notification_type,
                "notificationId": notification.notification_id,
            },
        )
        with single_metric(
            name="NotificationsUnhandled", unit=MetricUnit.Count, value=1, namespace=metrics.namespace
        ) as metric:
            metric.add_dimension(name="NotificationType", value=notification.notification_type[:64])
        return
    handler(notification)
