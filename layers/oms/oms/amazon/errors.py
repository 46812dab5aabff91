"""What Amazon answered when it refused a call: kept apart from the client (urllib3, the credentials'
secret, the tracer) so that the API's error answers can name it without loading the client at a cold
start; `oms.amazon.client` raises it and still exports it."""

from __future__ import annotations


class SpApiError(Exception):
    def __init__(self, operation: str, status: int, code: str, message: str) -> None:
        super().__init__(f"{operation}: {status} {code}: {message}")
        # Amazon's message may echo what was sent (an address, a buyer's name): logs only, never an answer.
        self.operation, self.status, self.code, self.message = operation, status, code, message

    @property
    def retryable(self) -> bool:
        return self.status == 429 or self.status >= 500
