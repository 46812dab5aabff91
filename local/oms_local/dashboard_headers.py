"""The dashboard's security headers, served locally as CloudFront serves them deployed.

template.yaml's DashboardResponseHeaders policy is the one source: locally the same Content-Security-Policy
applies with the deployed API replaced by the local one (and the local marketplace added for product
images) and any Cognito hosted UI of the region allowed, so the browser tests run the dashboard, deployed
sign-in included, under the policy a seller's browser enforces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oms_local.template import Template

POLICY = "DashboardResponseHeaders"


def _config(template: Template) -> dict[str, Any]:
    properties = template.resources[POLICY]["Properties"]["ResponseHeadersPolicyConfig"]
    return dict(properties["SecurityHeadersConfig"])


def _local_source(source: str, region: str) -> str | None:
    """A deployed source as the local stack serves it: Cognito's hosted UI (which a test may play) by
    wildcard, the stack's API dropped (the local API is added instead), anything else as is."""
    if "${" not in source:
        return source
    if "amazoncognito.com" in source:
        return source.replace("${UserPoolDomain}", "*").replace("${AWS::Region}", region)
    return None


def local_security_headers(
    template: Template, api_url: str, image_origins: Sequence[str] = (), region: str = "us-east-1"
) -> dict[str, str]:
    security = _config(template)
    policy = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    text = policy["Fn::Sub"] if isinstance(policy, dict) else str(policy)
    directives = []
    for directive in " ".join(text.split()).split(";"):
        name, *sources = directive.split()
        kept = [local for source in sources if (local := _local_source(source, region)) is not None]
        if name == "connect-src":
            kept.append(api_url)
        elif name == "img-src":
            kept.extend(image_origins)
        directives.append(" ".join([name, *kept]))
    return {
        "Content-Security-Policy": "; ".join(directives),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": str(security["FrameOptions"]["FrameOption"]),
        "Referrer-Policy": str(security["ReferrerPolicy"]["ReferrerPolicy"]),
    }
