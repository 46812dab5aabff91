"""DynamoDB stream (returns only) -> each refund recorded pending is sent to Amazon once as an order
adjustment feed; one that cannot be sent now is retried from its record (the refund check is the backstop)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.amazon.client import default_client
from oms.observability import logger, metrics, tracer
from oms.returns.refunds import send_from_stream
from oms.settings import RefundSettings, cold_start
from oms.store.default import default_table

settings = cold_start(RefundSettings)  # a misconfigured function stops here, naming the variable


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    failed = send_from_stream(
        default_table(), default_client(), event.get("Records", []), seller_id=settings.seller_id
    )
    return {"batchItemFailures": [{"itemIdentifier": failed}] if failed else []}
