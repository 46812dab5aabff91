"""GET /health: public, cheap, touches nothing (load balancers and uptime checks call it)."""

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel

router = APIGatewayRouter()


class Health(BaseModel):
    status: str


@router.get("/health", summary="Is the API up?", tags=["health"], security=[])
def health() -> Health:
    return Health(status="ok")
