"""template.yaml keeps the promises operations rely on: logs, alarms, failure paths, least privilege, auth.

The template is read through oms_local.template (short tags such as !Ref become their long form,
e.g. {"Ref": "Table"}), the same reader the local stack uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from oms.store import keys
from oms_local.template import TEMPLATE_PATH, Function, Template
from oms_local.triggers import ScheduleExpression

TEMPLATE = Template()
FUNCTIONS = {function.logical_id: function for function in TEMPLATE.functions()}
FUNCTION_IDS = sorted(FUNCTIONS)
SCHEDULE_TYPES = ("Schedule", "ScheduleV2")
SP_API_NOTIFICATIONS_ACCOUNT = "arn:aws:iam::437568002678:root"


# ------------------------------------------------------------------------------ reading intrinsics


def ref(value: Any) -> str | None:
    """The logical id behind {"Ref": id} or {"Fn::GetAtt": [id, attribute]}; None for anything else."""
    if isinstance(value, dict) and len(value) == 1:
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else str(target).split(".", 1)[0])
    return None


def mentions(value: Any, logical_id: str) -> bool:
    """Whether a value (a Ref, a GetAtt, a Sub string, a list of them...) points at `logical_id`."""
    if isinstance(value, str):
        return f"${{{logical_id}}}" in value or f"${{{logical_id}." in value
    if isinstance(value, list):
        return any(mentions(v, logical_id) for v in value)
    if isinstance(value, dict):
        return ref(value) == logical_id or any(mentions(v, logical_id) for v in value.values())
    return False


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def resource(logical_id: str | None) -> dict[str, Any]:
    assert logical_id in TEMPLATE.resources, f"{logical_id!r} is not a resource of template.yaml"
    return TEMPLATE.resources[logical_id]


def properties(logical_id: str | None) -> dict[str, Any]:
    return dict(resource(logical_id).get("Properties", {}))


BUYER_DATA_TABLE = "BuyerDataTable"  # buyer PII only, apart so its backups cannot outlive the policy


def the_table_id() -> str:
    """The single table: everything but buyer PII."""
    tables = set(TEMPLATE.of_type("AWS::DynamoDB::Table")) - {BUYER_DATA_TABLE}
    assert len(tables) == 1, f"one single table expected besides {BUYER_DATA_TABLE}, found {sorted(tables)}"
    return next(iter(tables))


def output_ref(name: str) -> str | None:
    assert name in TEMPLATE.outputs, f"Outputs lack {name}"
    return ref(TEMPLATE.outputs[name]["Value"])


def assert_is_queue(value: Any, what: str) -> str:
    queue = ref(value)
    assert queue is not None and resource(queue)["Type"] == "AWS::SQS::Queue", (
        f"{what} is not a queue: {value}"
    )
    return queue


# ------------------------------------------------------------------------------ functions


def test_the_template_has_functions() -> None:
    assert len(FUNCTIONS) >= 4, sorted(FUNCTIONS)


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_function_logs_to_its_own_group_with_retention(function_id: str) -> None:
    logging = FUNCTIONS[function_id].properties.get("LoggingConfig", {})
    group = ref(logging.get("LogGroup"))
    assert group is not None, f"{function_id}: LoggingConfig.LogGroup must !Ref a log group, got {logging}"
    assert resource(group)["Type"] == "AWS::Logs::LogGroup"
    assert properties(group).get("RetentionInDays"), f"{group} keeps logs forever (no RetentionInDays)"


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_function_has_an_errors_alarm(function_id: str) -> None:
    alarms = [
        alarm_id
        for alarm_id, alarm in TEMPLATE.of_type("AWS::CloudWatch::Alarm").items()
        if alarm["Properties"].get("MetricName") == "Errors"
        and alarm["Properties"].get("Namespace") == "AWS/Lambda"
        and any(
            d.get("Name") == "FunctionName" and ref(d.get("Value")) == function_id
            for d in alarm["Properties"].get("Dimensions", [])
        )
    ]
    assert alarms, f"no AWS/Lambda Errors alarm has the dimension FunctionName = !Ref {function_id}"
    for alarm_id in alarms:
        assert properties(alarm_id).get("AlarmActions"), f"{alarm_id} alarms nobody (no AlarmActions)"


# ------------------------------------------------------------------------------ failure paths


def _assert_sqs_failure_path(function: Function, trigger: dict[str, Any]) -> None:
    queue_id = assert_is_queue(trigger.get("Queue"), f"{function.logical_id}'s SQS trigger")
    queue = properties(queue_id)
    redrive = queue.get("RedrivePolicy", {})
    assert_is_queue(redrive.get("deadLetterTargetArn"), f"{queue_id}'s RedrivePolicy.deadLetterTargetArn")
    assert int(redrive.get("maxReceiveCount", 0)) == 5, (
        f"{queue_id}: maxReceiveCount {redrive.get('maxReceiveCount')}"
    )
    # AWS: at least six times the function's timeout, plus the batching window.
    needed = 6 * function.timeout + int(trigger.get("MaximumBatchingWindowInSeconds", 0))
    visibility = int(queue.get("VisibilityTimeout", 30))
    assert visibility >= needed, f"{queue_id}: VisibilityTimeout {visibility}s < {needed}s"
    assert "ReportBatchItemFailures" in trigger.get("FunctionResponseTypes", []), (
        f"{function.logical_id}: one bad message would fail (and redrive) its whole batch"
    )


def _assert_stream_failure_path(function: Function, trigger: dict[str, Any]) -> None:
    on_failure = trigger.get("DestinationConfig", {}).get("OnFailure", {})
    assert on_failure.get("Destination"), (
        f"{function.logical_id}: stream trigger without DestinationConfig.OnFailure"
    )
    assert ref(on_failure["Destination"]) in TEMPLATE.resources, on_failure
    # The destination is only reached once retries end; the default (-1) retries until the record expires.
    retries = int(trigger.get("MaximumRetryAttempts", -1))
    assert 0 <= retries <= 10_000, f"{function.logical_id}: MaximumRetryAttempts {retries} never gives up"


def _assert_async_failure_path(function: Function, trigger: dict[str, Any]) -> None:
    dead_letter = trigger.get("DeadLetterConfig", {})
    assert dead_letter.get("Arn") or dead_letter.get("Type") == "SQS", (
        f"{function.logical_id}: schedule without DeadLetterConfig (undeliverable runs vanish)"
    )
    if "Arn" in dead_letter:
        assert_is_queue(dead_letter["Arn"], f"{function.logical_id}'s DeadLetterConfig")
    on_failure = (
        function.properties.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure", {})
    )
    assert on_failure.get("Destination"), f"{function.logical_id}: no EventInvokeConfig OnFailure destination"
    assert ref(on_failure["Destination"]) in TEMPLATE.resources, on_failure


_FAILURE_PATHS = {
    "SQS": _assert_sqs_failure_path,
    "DynamoDB": _assert_stream_failure_path,
    "Schedule": _assert_async_failure_path,
    "ScheduleV2": _assert_async_failure_path,
    "EventBridgeRule": _assert_async_failure_path,
    "CloudWatchEvent": _assert_async_failure_path,
}


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_event_driven_function_has_a_failure_path(function_id: str) -> None:
    function = FUNCTIONS[function_id]
    for trigger in function.triggers:
        if trigger.type == "Api":
            continue  # the caller sees the error
        check = _FAILURE_PATHS.get(trigger.type)
        assert check is not None, (
            f"{function_id}.{trigger.name}: no failure-path rule for {trigger.type} triggers yet; add one here"
        )
        check(function, trigger.properties)


def test_every_kind_of_failure_path_is_exercised() -> None:
    """The checks above are not vacuous: the template has SQS, stream and schedule triggers."""
    kinds = {t.type for f in FUNCTIONS.values() for t in f.triggers}
    assert {"SQS", "DynamoDB"} <= kinds, kinds
    assert kinds & set(SCHEDULE_TYPES), kinds


# ------------------------------------------------------------------------------ least privilege


def _role_statements(function: Function) -> Iterator[tuple[str, dict[str, Any]]]:
    """The statements of the function's own role, when the template writes it out (Role: !GetAtt X.Arn)."""
    role_id = ref(function.properties.get("Role"))
    if role_id is None:
        return
    role = properties(role_id)
    assert not role.get("ManagedPolicyArns"), f"{role_id} attaches managed policies"
    for policy in role.get("Policies", []):
        for statement in as_list(policy["PolicyDocument"]["Statement"]):
            yield f"{role_id}.{policy['PolicyName']}", statement


def _statements(function: Function) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from _role_statements(function)
    for index, policy in enumerate(function.properties.get("Policies", [])):
        where = f"{function.logical_id}.Policies[{index}]"
        if isinstance(policy, str):
            # A managed policy by name: the broad ones grant wildcards on every resource.
            broad = any(word in policy for word in ("FullAccess", "AdministratorAccess", "PowerUserAccess"))
            yield where, {"Effect": "Allow", "Action": "*" if broad else [], "Resource": "*"}
        elif isinstance(policy, dict) and "Statement" in policy:
            for statement in as_list(policy["Statement"]):
                yield where, statement


def _too_broad(action: str) -> bool:
    return action == "*" or (action.lower().startswith("dynamodb:") and "*" in action)


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_no_function_may_do_anything_to_the_table(function_id: str) -> None:
    table = the_table_id()
    for where, statement in _statements(FUNCTIONS[function_id]):
        if statement.get("Effect") != "Allow":
            continue
        resources = as_list(statement.get("Resource", []))
        on_table = any(r == "*" or mentions(r, table) for r in resources)
        broad = [a for a in as_list(statement.get("Action", [])) if _too_broad(str(a))]
        assert not (on_table and broad), f"{where} allows {broad} on {resources}"


def test_the_table_is_reached_through_explicit_statements() -> None:
    """The privilege check above sees the statements that matter (it is not vacuous)."""
    table = the_table_id()
    on_table = [
        where
        for function in FUNCTIONS.values()
        for where, statement in _statements(function)
        if any(mentions(r, table) for r in as_list(statement.get("Resource", [])))
    ]
    assert on_table


_EVENT_SOURCE_MANAGED_POLICIES = ("AWSLambdaSQSQueueExecutionRole", "AWSLambdaDynamoDBExecutionRole")
# X-Ray takes no resource-level permissions; every other action names its resource.
_ANY_RESOURCE_ALLOWED = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_a_queue_or_stream_function_has_its_own_role_scoped_to_its_source(function_id: str) -> None:
    """SAM gives such a function AWSLambdaSQSQueueExecutionRole or AWSLambdaDynamoDBExecutionRole, which
    grant receiving and deleting from every queue (or reading every stream) of the account."""
    function = FUNCTIONS[function_id]
    kinds = {trigger.type for trigger in function.triggers}
    if not kinds & {"SQS", "DynamoDB"}:
        return
    assert ref(function.properties.get("Role")), f"{function_id} leaves its role to SAM"
    statements = [statement for _, statement in _role_statements(function)]
    granted = {str(a): as_list(s.get("Resource")) for s in statements for a in as_list(s.get("Action"))}
    for trigger in function.triggers:
        if trigger.type == "SQS":
            queue = ref(trigger.properties["Queue"])
            assert queue and all(mentions(r, queue) for r in granted["sqs:ReceiveMessage"]), granted
            assert all(mentions(r, queue) for r in granted["sqs:DeleteMessage"])
        if trigger.type == "DynamoDB":
            assert all(mentions(r, the_table_id()) for r in granted["dynamodb:GetRecords"]), granted
    log_group = ref(function.properties["LoggingConfig"]["LogGroup"])
    assert [ref(r) for r in granted["logs:PutLogEvents"]] == [log_group]


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_no_role_statement_grants_a_data_plane_action_on_every_resource(function_id: str) -> None:
    for where, statement in _role_statements(FUNCTIONS[function_id]):
        if "*" in as_list(statement.get("Resource")):
            assert set(as_list(statement["Action"])) <= _ANY_RESOURCE_ALLOWED, f"{where}: {statement}"


def test_the_sam_transform_attaches_no_event_source_managed_policy() -> None:
    """What AWS deploys: the roles the SAM transform generates carry no account-wide source policy."""
    from pathlib import Path

    from tests.unit.test_template_globals import sam_translate

    translated = sam_translate(Path(TEMPLATE_PATH))
    attached = {
        logical_id: resource["Properties"].get("ManagedPolicyArns", [])
        for logical_id, resource in translated.items()
        if resource["Type"] == "AWS::IAM::Role"
    }
    assert attached, "the transform made no roles at all"
    broad = {
        role: [p for p in policies if any(name in str(p) for name in _EVENT_SOURCE_MANAGED_POLICIES)]
        for role, policies in attached.items()
    }
    assert not {role: p for role, p in broad.items() if p}, broad


def test_too_broad_recognises_wildcards() -> None:
    assert _too_broad("*")
    assert _too_broad("dynamodb:*")
    assert _too_broad("dynamodb:Get*")
    assert not _too_broad("dynamodb:GetItem")
    assert not _too_broad("events:PutEvents")


# ------------------------------------------------------------------------------ the API


def _api() -> tuple[str, dict[str, Any]]:
    apis = TEMPLATE.of_type("AWS::Serverless::Api")
    assert len(apis) == 1, sorted(apis)
    api_id, api = next(iter(apis.items()))
    return api_id, api.get("Properties", {})


def _is_public(path: str) -> bool:
    return path == "/health" or path == "/webhooks" or path.startswith("/webhooks/")


def test_the_api_has_a_default_authorizer() -> None:
    _, api = _api()
    auth = api.get("Auth", {})
    default = auth.get("DefaultAuthorizer")
    assert default and default != "NONE", auth
    assert default in auth.get("Authorizers", {}) or default == "AWS_IAM", auth


API_EVENTS = [
    (function.logical_id, trigger.name, trigger.properties)
    for function in FUNCTIONS.values()
    for trigger in function.triggers
    if trigger.type == "Api"
]


@pytest.mark.parametrize(
    ("function_id", "event", "props"), API_EVENTS, ids=[f"{f}.{e}" for f, e, _ in API_EVENTS]
)
def test_api_route_is_behind_the_authorizer(function_id: str, event: str, props: dict[str, Any]) -> None:
    api_id, api = _api()
    assert ref(props.get("RestApiId")) == api_id, (
        f"{function_id}.{event} is on an implicit API, which has no authorizer"
    )
    if _is_public(props["Path"]):
        return
    authorizer = props.get("Auth", {}).get("Authorizer", api.get("Auth", {}).get("DefaultAuthorizer"))
    assert authorizer and authorizer != "NONE", f"{props['Method']} {props['Path']} is public"


@pytest.mark.parametrize("path", ["/webhooks/subscriptions", "/webhooks/event-types"])
def test_webhook_subscriptions_are_the_sellers_behind_the_authorizer(path: str) -> None:
    """/webhooks/{integrationId} is public (webhooks in); the subscriptions beside it hand out secrets, and
    GET /webhooks/event-types would otherwise reach the public function, which has no GET."""
    _, api = _api()
    routes = [props for _, _, props in API_EVENTS if props["Path"] == path]
    assert routes, f"{path} must be a literal route, preferred over /webhooks/{{integrationId}}"
    for props in routes:
        authorizer = props.get("Auth", {}).get("Authorizer", api.get("Auth", {}).get("DefaultAuthorizer"))
        assert authorizer and authorizer != "NONE"


def test_there_are_authorized_routes() -> None:
    assert any(not _is_public(props["Path"]) for _, _, props in API_EVENTS), API_EVENTS


# ------------------------------------------------------------------------------ data and messaging


def test_the_single_table() -> None:
    table_id = the_table_id()
    table = properties(table_id)
    key_schema = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
    assert key_schema == {"HASH": "pk", "RANGE": "sk"} == {"HASH": keys.PK, "RANGE": keys.SK}

    indexes = {
        gsi["IndexName"]: {k["KeyType"]: k["AttributeName"] for k in gsi["KeySchema"]}
        for gsi in table.get("GlobalSecondaryIndexes", [])
    }
    assert len(indexes) >= 2, indexes
    for name, (hash_key, range_key) in keys.INDEXES.items():  # every index the code queries exists as coded
        served_by = keys.INDEX_NAMES[name]
        assert indexes.get(served_by) == {"HASH": hash_key, "RANGE": range_key}, (name, served_by, indexes)
    projections = {
        gsi["IndexName"]: gsi["Projection"]["ProjectionType"]
        for gsi in table.get("GlobalSecondaryIndexes", [])
    }
    for name in keys.KEYS_ONLY_INDEXES:  # the code reads the items by key only where the index lacks them
        assert projections.get(name) == "KEYS_ONLY", (name, projections)
    for name in set(keys.INDEX_NAMES.values()) - keys.KEYS_ONLY_INDEXES:
        assert projections.get(name) == "ALL", (name, projections)

    ttl = table.get("TimeToLiveSpecification", {})
    assert ttl.get("Enabled") is True and ttl.get("AttributeName") == keys.TTL_ATTRIBUTE, ttl
    assert table.get("StreamSpecification", {}).get("StreamViewType") == "NEW_AND_OLD_IMAGES"
    assert table.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is True
    assert table.get("BillingMode") == "PAY_PER_REQUEST"

    protection = ref(table.get("DeletionProtectionEnabled"))
    assert protection in TEMPLATE.parameters, (
        f"DeletionProtectionEnabled is not bound to a parameter: {protection}"
    )
    assert resource(table_id).get("DeletionPolicy") == "Retain"


def test_amazon_may_send_notifications_to_the_queue() -> None:
    queue_id = output_ref("OrderNotificationsQueueUrl")
    assert resource(queue_id)["Type"] == "AWS::SQS::Queue"
    granted = []
    for policy in TEMPLATE.of_type("AWS::SQS::QueuePolicy").values():
        props = policy["Properties"]
        if not any(ref(q) == queue_id for q in props.get("Queues", [])):
            continue
        for statement in as_list(props["PolicyDocument"]["Statement"]):
            principal = statement.get("Principal", {})
            principals = as_list(principal.get("AWS", []) if isinstance(principal, dict) else principal)
            if (
                statement.get("Effect") == "Allow"
                and SP_API_NOTIFICATIONS_ACCOUNT in principals
                and "sqs:SendMessage" in as_list(statement.get("Action", []))
                and any(mentions(r, queue_id) for r in as_list(statement.get("Resource", [])))
            ):
                granted.append(statement)
    assert granted, f"no policy lets {SP_API_NOTIFICATIONS_ACCOUNT} sqs:SendMessage to {queue_id}"


# ------------------------------------------------------------------------------ globals and outputs


def test_globals_run_python_313_on_arm64_traced_with_powertools() -> None:
    functions = TEMPLATE.globals
    assert functions.get("Runtime") == "python3.13"
    assert functions.get("Architectures") == ["arm64"]
    assert functions.get("Tracing") == "Active"
    variables = functions.get("Environment", {}).get("Variables", {})
    assert any(name.startswith("POWERTOOLS_") for name in variables), variables
    assert variables.get("POWERTOOLS_METRICS_NAMESPACE"), variables


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_function_keeps_the_globals(function_id: str) -> None:
    function = FUNCTIONS[function_id]
    for setting in ("Runtime", "Architectures", "Tracing"):
        overridden = function.properties.get(setting, TEMPLATE.globals.get(setting))
        assert overridden == TEMPLATE.globals.get(setting), f"{function_id} overrides {setting}"
    assert function.environment.get("POWERTOOLS_SERVICE_NAME"), (
        f"{function_id} has no POWERTOOLS_SERVICE_NAME"
    )


def test_outputs_name_what_tools_rely_on() -> None:
    expected = {
        "ApiUrl",
        "DashboardUrl",
        "Region",
        "TableName",
        "OrderNotificationsQueueUrl",
        "OrderNotificationsDlqUrl",
        "EventBusName",
    }
    assert expected <= set(TEMPLATE.outputs), sorted(expected - set(TEMPLATE.outputs))
    assert output_ref("TableName") == the_table_id()
    assert output_ref("OrderNotificationsDlqUrl") == ref(
        properties(output_ref("OrderNotificationsQueueUrl"))["RedrivePolicy"]["deadLetterTargetArn"]
    )


def test_there_is_a_schedule_the_local_stack_can_fire() -> None:
    schedules = [t for f in FUNCTIONS.values() for t in f.triggers if t.type in SCHEDULE_TYPES]
    assert schedules
    for trigger in schedules:
        props = trigger.properties
        expression = ScheduleExpression(
            props.get("Schedule") or props["ScheduleExpression"],
            props.get("ScheduleExpressionTimezone", "UTC"),
        )
        assert expression.next_after(datetime.now(UTC)) > datetime.now(UTC)


# ------------------------------------------------------------------------------ the dashboard, hardened


def test_the_dashboard_is_served_with_a_strict_content_security_policy_and_security_headers() -> None:
    distribution = TEMPLATE.resources["DashboardDistribution"]["Properties"]["DistributionConfig"]
    assert ref(distribution["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]) == "DashboardResponseHeaders"
    security = TEMPLATE.resources["DashboardResponseHeaders"]["Properties"]["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"
    ]
    policy = security["ContentSecurityPolicy"]
    assert policy["Override"] is True
    text = " ".join(str(policy["ContentSecurityPolicy"]["Fn::Sub"]).split())
    directives = {d.split()[0]: d.split()[1:] for d in text.split(";") if d.strip()}
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["object-src"] == ["'none'"]
    connect = directives["connect-src"]
    assert connect[0] == "'self'" and len(connect) == 3
    assert any("${Api}.execute-api" in source for source in connect)
    assert any("${UserPoolDomain}.auth." in source for source in connect)
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["ContentTypeOptions"]["Override"] is True
    assert security["FrameOptions"]["FrameOption"] == "DENY"


def test_prod_user_pools_require_mfa() -> None:
    pool = TEMPLATE.resources["UserPool"]["Properties"]
    assert pool["MfaConfiguration"] == {"Fn::If": ["IsProd", "ON", "OPTIONAL"]}
    assert TEMPLATE.document["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}


def test_the_local_console_serves_the_templates_policy_with_local_hosts() -> None:
    from oms_local.dashboard_headers import local_security_headers

    headers = local_security_headers(
        TEMPLATE, "http://127.0.0.1:3000", ["http://127.0.0.1:4000"], "eu-west-1"
    )
    csp = {d.split()[0]: d.split()[1:] for d in headers["Content-Security-Policy"].split("; ")}
    assert csp["connect-src"] == [
        "'self'",
        "https://*.auth.eu-west-1.amazoncognito.com",
        "http://127.0.0.1:3000",
    ]
    assert csp["script-src"] == ["'self'"] and "http://127.0.0.1:4000" in csp["img-src"]
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"


# ------------------------------------------------------------------------------ data at rest and in transit


def _policy_statements(policy_type: str, target_key: str, target_id: str) -> list[dict[str, Any]]:
    found = []
    for policy in TEMPLATE.of_type(policy_type).values():
        targets = as_list(policy["Properties"][target_key])
        if any(ref(t) == target_id for t in targets):
            found += as_list(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def _denies_plain_http(statements: list[dict[str, Any]], target_id: str) -> bool:
    return any(
        s.get("Effect") == "Deny"
        and s.get("Principal") == "*"
        and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        and any(mentions(r, target_id) for r in as_list(s.get("Resource")))
        for s in statements
    )


@pytest.mark.parametrize("queue_id", sorted(TEMPLATE.of_type("AWS::SQS::Queue")))
def test_every_queue_refuses_requests_without_tls(queue_id: str) -> None:
    assert properties(queue_id).get("SqsManagedSseEnabled") is True or properties(queue_id).get(
        "KmsMasterKeyId"
    )
    statements = _policy_statements("AWS::SQS::QueuePolicy", "Queues", queue_id)
    assert _denies_plain_http(statements, queue_id), f"{queue_id} accepts plain HTTP"


@pytest.mark.parametrize("bucket_id", sorted(TEMPLATE.of_type("AWS::S3::Bucket")))
def test_every_bucket_refuses_requests_without_tls(bucket_id: str) -> None:
    statements = _policy_statements("AWS::S3::BucketPolicy", "Bucket", bucket_id)
    assert _denies_plain_http(statements, bucket_id), f"{bucket_id} accepts plain HTTP"
    assert properties(bucket_id)["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True


def test_only_this_stacks_rule_and_alarms_publish_alerts() -> None:
    statements = _policy_statements("AWS::SNS::TopicPolicy", "Topics", "AlertsTopic")
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert allows
    for statement in allows:
        assert statement.get("Condition"), f"{statement['Sid']} lets any source publish"
    by_service = {s["Principal"]["Service"]: s["Condition"] for s in allows}
    assert ref(by_service["events.amazonaws.com"]["ArnEquals"]["aws:SourceArn"]) == "AlertsRule"
    assert by_service["cloudwatch.amazonaws.com"]["StringEquals"]["aws:SourceAccount"] == {
        "Ref": "AWS::AccountId"
    }


def test_the_table_is_protected_from_deletion_by_default() -> None:
    assert TEMPLATE.parameters["DeletionProtection"]["Default"] == "true"
    assert properties(the_table_id())["DeletionProtectionEnabled"] == {"Ref": "DeletionProtection"}


def test_buyer_pii_lives_in_a_table_whose_backups_cannot_outlive_amazons_30_days() -> None:
    table = properties(BUYER_DATA_TABLE)
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": False}
    assert table["TimeToLiveSpecification"] == {"AttributeName": keys.TTL_ATTRIBUTE, "Enabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert "StreamSpecification" not in table, "a stream would copy PII to every consumer"
    readers = sorted(
        function_id
        for function_id, function in FUNCTIONS.items()
        if any(mentions(s.get("Resource"), BUYER_DATA_TABLE) for _, s in _statements(function))
    )
    # the API (packing slips), the purge, the order rules (a rule on the destination reads the address) and
    # ingest_messages (buyers' mail)
    assert readers == [
        "ApiFunction",
        "ApplyRulesFunction",
        "IngestMessagesFunction",
        "PurgeBuyerDataFunction",
    ]
