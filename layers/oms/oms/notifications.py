"""SP-API notifications arriving on the order-notifications queue: the envelope and its routing.

Every notification shares Amazon's envelope (NotificationType, PayloadVersion, EventTime, Payload,
NotificationMetadata). Only this stack's notifications are applied (oms.amazon.provenance): a foreign one
is dropped, counted and logged. Each type's owner registers a handler here; a type nobody owns is
acknowledged and counted, never dead-lettered. A body that is not a notification raises, so its
message alone returns to the queue and, after the redrive count, lands in the DLQ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from oms.amazon.notifications import Notification
from oms.amazon.provenance import Recipient, foreign_because
from oms.observability import logger, metrics
from oms.store.table import again_if_transient

Handler = Callable[[Notification], object]
INTAKE_TRIES = 3  # a notification's tries within one receive, when the table refuses it for a moment


def _owners(marketplaces: Sequence[str], seller_id: str = "") -> dict[str, Handler]:
    """Who applies each notification type (imported here, when first needed, to keep cold starts lean)."""
    from oms.inventory import fba
    from oms.orders import intake
    from oms.reports import finished

    return {
        "ORDER_CHANGE": intake.apply_order_change,
        "FBA_INVENTORY_AVAILABILITY_CHANGES": partial(fba.apply_fba_change, marketplaces=marketplaces),
        "REPORT_PROCESSING_FINISHED": finished.apply_report_finished,
        "FEED_PROCESSING_FINISHED": partial(
            _feed_finished, seller_id=seller_id, marketplaces=list(marketplaces)
        ),
    }


def _feed_finished(notification: Notification, *, seller_id: str, marketplaces: list[str]) -> object:
    """A listings feed (the inventory's bulk quantities) or an order adjustment feed (refunds)."""
    from oms.inventory import listings_feed
    from oms.returns import refunds

    if listings_feed.is_listings_feed(notification):
        return listings_feed.apply_feed_processing_finished(
            notification, seller_id=seller_id, marketplaces=marketplaces
        )
    return refunds.apply_feed_processing_finished(notification)


def apply_notification(notification: Notification, *, ours: Recipient) -> None:
    """Hand the notification to its type's owner if it is this stack's (`ours`: the seller's application,
    merchant token and marketplaces); drop it, counted and logged, if it is not."""
    metrics.add_metric(name="NotificationsReceived", unit=MetricUnit.Count, value=1)
    reason = foreign_because(notification, ours)
    if reason is not None:
        logger.warning(
            "notification is not this stack's; dropped",
            extra={
                "reason": reason,
                "notificationType": notification.notification_type,
                "notificationId": notification.notification_id,
                "applicationId": notification.notification_metadata.application_id,
            },
        )
        with single_metric(
            name="NotificationsForeign", unit=MetricUnit.Count, value=1, namespace=metrics.namespace
        ) as metric:
            metric.add_dimension(name="Reason", value=reason)
        return
    handler = _owners(sorted(ours.marketplaces), ours.seller_id).get(notification.notification_type)
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
    # a throttle or server error of the table past the SDK's retries is tried again here before the message
    # goes back to the queue: every owner is idempotent (the queue delivers at least once), and five failed
    # receives in a row would put a good notification in the DLQ, where only poison belongs
    again_if_transient(partial(handler, notification), tries=INTAKE_TRIES, what="applying a notification")
