"""Who may call the API: API keys (made, listed, revoked, found by their secret's hash) and the
authorizer that accepts a Cognito user's token or a key. Which route needs which scope is oms.api.permissions."""
