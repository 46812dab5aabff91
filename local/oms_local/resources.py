"""Creates the template's resources in moto and gives every Ref and GetAtt its local value.

Resources that have a moto service (tables, queues, bus, topics, secrets, buckets, rules) are
created for real; the rest (API, functions, log groups, alarms, CDN, user pool) get stand-in
names, because locally their job is done by the local stack itself.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from oms_local.template import Resolver, Template

ACCOUNT_ID = "123456789012"  # moto's account


@dataclass
class LocalResources:
    stack_name: str
    region: str
    endpoint_url: str | None  # None: boto3's default (moto in process, in tests)
    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[tuple[str, str], Any] = field(default_factory=dict)
    resolver: Resolver = field(init=False)

    def __post_init__(self) -> None:
        self.resolver = Resolver(self.refs, self.attributes)

    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto accepts anything
        )

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{resource}"


def create_resources(
    template: Template,
    stack_name: str,
    region: str,
    endpoint_url: str | None,
    parameters: dict[str, Any] | None = None,
    secret_values: dict[str, str] | None = None,
) -> LocalResources:
    """`parameters` override the template's parameter defaults (as `sam deploy --parameter-overrides`);
    `secret_values` give secrets (by logical id) their SecretString."""
    for kind, names, known in (
        ("parameter", parameters, template.parameters),
        ("secret", secret_values, template.of_type("AWS::SecretsManager::Secret")),
    ):
        unknown = sorted(set(names or ()) - set(known))
        if unknown:
            raise ValueError(f"template.yaml has no {kind} {', '.join(unknown)}")
    overrides = {
        # a list parameter given as text is split, as `sam deploy --parameter-overrides` does
        name: [part.strip() for part in value.split(",")]
        if template.parameters[name].get("Type") == "CommaDelimitedList" and isinstance(value, str)
        else value
        for name, value in (parameters or {}).items()
    }
    local = LocalResources(stack_name, region, endpoint_url)
    local.refs.update(
        {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
            **template.parameter_defaults(),
            **overrides,
        }
    )
    local.resolver.conditions = template.document.get("Conditions", {})
    pending = dict(template.resources)
    # Resources refer to each other (a queue to its DLQ): create what can be resolved, then retry the rest.
    while pending:
        progressed = False
        for logical_id, resource in list(pending.items()):
            if "Condition" in resource and not local.resolver.condition(resource["Condition"]):
                pending.pop(logical_id)
                progressed = True
                continue
            try:
                properties = local.resolver.resolve(resource.get("Properties", {}))
            except KeyError:
                continue
            if secret_values and logical_id in secret_values:
                properties["SecretString"] = secret_values[logical_id]
            _CREATORS.get(resource["Type"], _stand_in)(local, logical_id, properties)
            pending.pop(logical_id)
            progressed = True
        if not progressed:
            raise RuntimeError(f"template.yaml: cannot resolve references of {sorted(pending)}")
    return local


def _name(local: LocalResources, logical_id: str) -> str:
    return f"{local.stack_name}-{logical_id}"


def _table(local: LocalResources, logical_id: str, p: dict[str, Any]) -> None:
    name = p.get("TableName") or _name(local, logical_id)
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": p["AttributeDefinitions"],
        "KeySchema": p["KeySchema"],
        "BillingMode": p.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if p.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = [
            {k: v for k, v in gsi.items() if k in ("IndexName", "KeySchema", "Projection")}
            for gsi in p["GlobalSecondaryIndexes"]
        ]
    if p.get("StreamSpecification"):
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": p["StreamSpecification"]["StreamViewType"],
        }
    dynamodb = local.client("dynamodb")
    description = dynamodb.create_table(**request)["TableDescription"]
    ttl = p.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
        )
    local.refs[logical_id] = name
    local.attributes[(logical_id, "Arn")] = description["TableArn"]
    local.attributes[(logical_id, "StreamArn")] = description.get("LatestStreamArn")


def _queue(local: LocalResources, logical_id: str, p: dict[str, Any]) -> None:
    name = p.get("QueueName") or _name(local, logical_id)
    attributes: dict[str, str] = {
        key: str(p[key])
        for key in (
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
        )
        if key in p
    }
    if "RedrivePolicy" in p:
        attributes["RedrivePolicy"] = json.dumps(p["RedrivePolicy"])
    url = local.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    local.refs[logical_id] = url
    local.attributes[(logical_id, "QueueUrl")] = url
    local.attributes[(logical_id, "QueueName")] = name
    local.attributes[(logical_id, "Arn")] = local.arn("sqs", name)


def _queue_policy(local: LocalResources, logical_id: str, p: dict[str, Any]) -> None:
    for url in p["Queues"]:
        local.client("sqs").set_queue_attributes(
            QueueUrl=url, Attributes={"Policy": json.dumps(p["PolicyDocument"])}
        )
    local.refs[logical_id] = _name(local, logical_id)


def _event_bus(local: LocalResources, logical_id: str, p: dict[str, Any]) -> None:
    name = p.get("Name") or _name(local, logical_id)
    arn = local.client("events").create_event_bus(Name=name)["EventBusArn"]
    local.refs[logical_id] = name
    local.attributes[(logical_id, "Arn")] = arn
    local.attributes[(logical_id, "Name")] = name


def _deliverable(local: LocalResources, target: dict[str, Any]) -> dict[str, Any]:
    """moto's EventBridge cannot deliver to SNS (its PutEvents fails): an SNS target delivers instead to a
    local SQS queue named after the topic, where `aws sqs receive-message` shows what would be mailed."""
    arn = str(target.get("Arn", ""))
    if not arn.startswith("arn:aws:sns:"):
        return target
    sqs = local.client("sqs")
    url = sqs.create_queue(QueueName=f"{arn.rsplit(':', 1)[1]}-local")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    local.refs.setdefault("LocalAlertsQueue", url)
    return {**target, "Arn": queue_arn}


def _event_rule(local: LocalResources, logical_id: str, p: dict[str, Any]) -> None:
    events = local.client("events")
    name = p.get("Name") or _name(local, logical_id)
    rule: dict[str, Any] = {
        "Name": name,
        "EventBusName": p.get("EventBusName", "default"),
        "State": "ENABLED",
    }
    if "EventPattern" in p:
        rule["EventPattern"] = json.dumps(p["EventPattern"])
    if "ScheduleExpression" in p:
        rule["ScheduleExpression"] = p["ScheduleExpression"]
    arn = events.put_rule(**rule)["RuleArn"]
    targets = [
        _deliverable(local, t)
        for t in p.get("Targets", [])
        if not str(t.get("Arn", "")).startswith("arn:aws:lambda")
    ]
    if targets:
        events.put_targets(Rule=name, EventBusName=rule["EventBusName"], Targets=targets)
    local.refs[logical_id] = name
    local.attributes[(logical_id, "Arn")] = arn


def _topic(local: LocalResources, logical_id: str, p: dict[str, Any]) -> None:
    name = p.get("TopicName") or _name(local, logical_id)
    arn = local.client("sns").create_topic(Name=name)["TopicArn"]
    local.refs[logical_id] = arn
    local.attributes[(logical_id, "TopicArn")] = arn
    local.attributes[(logical_id, "TopicName")] = name


def _secret(local: LocalResources, logical_id: str, p: dict[str, Any]) -> None:
    name = p.get("Name") or _name(local, logical_id)
    value = p.get("SecretString") or secrets.token_urlsafe(36)
    arn = local.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
    local.refs[logical_id] = arn
    local.attributes[(logical_id, "Id")] = arn


def _bucket(local: LocalResources, logical_id: str, p: dict[str, Any]) -> None:
    name = (p.get("BucketName") or _name(local, logical_id)).lower()
    s3 = local.client("s3")
    if local.region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": local.region})
    notifications = _bucket_notifications(p.get("NotificationConfiguration") or {})
    if notifications:
        # moto delivers S3 event notifications to its own queues, as S3 does
        s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration=notifications)
    local.refs[logical_id] = name
    local.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
    local.attributes[(logical_id, "RegionalDomainName")] = f"{name}.s3.{local.region}.amazonaws.com"
    local.attributes[(logical_id, "DomainName")] = f"{name}.s3.amazonaws.com"


def _email_identity(local: LocalResources, logical_id: str, p: dict[str, Any]) -> None:
    """moto's SES sends only from verified identities, as SES does: the template's identity is verified."""
    identity = p["EmailIdentity"]
    ses = local.client("ses")
    if "@" in identity:
        ses.verify_email_identity(EmailAddress=identity)
    else:
        ses.verify_domain_identity(Domain=identity)
    local.refs[logical_id] = identity


def _bucket_notifications(p: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's NotificationConfiguration (queues only: the template has no other) as S3's API takes it."""
    queues = [
        {
            "QueueArn": queue["Queue"],
            "Events": [queue["Event"]],
            **(
                {
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": rule["Name"], "Value": rule["Value"]}
                                for rule in queue["Filter"]["S3Key"]["Rules"]
                            ]
                        }
                    }
                }
                if "Filter" in queue
                else {}
            ),
        }
        for queue in p.get("QueueConfigurations", [])
    ]
    return {"QueueConfigurations": queues} if queues else {}


def _stand_in(local: LocalResources, logical_id: str, _: dict[str, Any]) -> None:
    """A resource the local stack plays itself (API, functions, log groups, alarms, CDN, users)."""
    name = _name(local, logical_id)
    local.refs[logical_id] = name
    for attribute in ("Arn", "Id", "DomainName", "QueueName", "Name", "ProviderURL", "ProviderName"):
        local.attributes.setdefault((logical_id, attribute), f"{name}-{attribute.lower()}")
    local.attributes[(logical_id, "Arn")] = local.arn("local", name)


_CREATORS: dict[str, Callable[[LocalResources, str, dict[str, Any]], None]] = {
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::Events::EventBus": _event_bus,
    "AWS::Events::Rule": _event_rule,
    "AWS::SNS::Topic": _topic,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::S3::Bucket": _bucket,
    "AWS::SES::EmailIdentity": _email_identity,
}
