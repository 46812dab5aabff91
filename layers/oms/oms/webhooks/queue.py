"""The deliveries queue: the bus's events arrive on it (an EventBridge rule), and retries due within SQS's
15-minute delay are put back on it."""

from __future__ import annotations

import json
from typing import Any

from oms.store.clients import aws_client


class DeliveriesQueue:
    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws_client("sqs")
        return self._client

    def send(self, subscription_id: str, delivery_id: str, delay_seconds: int) -> None:
        self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps({"subscriptionId": subscription_id, "deliveryId": delivery_id}),
            DelaySeconds=min(max(delay_seconds, 0), 900),
        )
