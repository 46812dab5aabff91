"""API Gateway's TOKEN authorizer: a Cognito user's token or an API key -> who is calling (oms.access)."""

from typing import Any

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.access.api_keys import ApiKeyStore
from oms.access.authorizer import authorize
from oms.access.tokens import CognitoTokens, cognito_issuer, is_user_pool_id
from oms.observability import logger
from oms.settings import AuthorizerSettings, cold_start
from oms.store.default import default_table

settings = cold_start(AuthorizerSettings)  # a misconfigured function stops here, naming the variable
users = (
    CognitoTokens(
        cognito_issuer(settings.region, settings.user_pool_id),
        # read on the first user token only: an API key's call never waits for it
        lambda: str(parameters.get_parameter(settings.user_pool_client_parameter, max_age=3600)),
    )
    if is_user_pool_id(settings.user_pool_id) and settings.user_pool_client_parameter
    else None
)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return authorize(event, users, ApiKeyStore(default_table()))
