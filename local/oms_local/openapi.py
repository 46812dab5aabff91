"""Prints the API's OpenAPI document (docs/openapi.json is this output, checked fresh by `make test`)."""

import os

# The resolver reads no settings at import; these only keep pydantic-settings quiet if it ever does.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from oms.api.app import openapi_json

if __name__ == "__main__":
    print(openapi_json())
