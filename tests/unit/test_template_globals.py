"""The local stack runs every function as AWS would: the reader's view equals the SAM translator's.

template.yaml says what all functions share once, in Globals.Function. AWS applies it through the SAM
transform; the local stack through oms_local.template. Both views of each function (handler, runtime,
timeout, memory, environment, layers, logging, failure destination, events) are compared here, with
the translator run from .venv-sam (`make template` installs it) on the real template and on a small
planted one that uses every Globals rule, so a reader that ignored or misapplied Globals fails.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from oms_local.template import ROOT, TEMPLATE_PATH, Function, Template, load_template, merge_globals

SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"

# Run inside .venv-sam: parse the template as SAM does, point local code folders at a dummy S3 bucket
# (as `sam validate` does), transform, print the CloudFormation result.
_TRANSLATE = """
import json, sys
from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

class NoManagedPolicies:
    def load(self):
        return {}

with open(sys.argv[1], encoding="utf-8") as handle:
    document = yaml_parse(handle.read())
for resource in document.get("Resources", {}).values():
    properties = resource.get("Properties") or {}
    for key in ("CodeUri", "ContentUri"):
        if isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
            properties[key] = "s3://local-code/" + properties[key]
json.dump(transform(document, {}, NoManagedPolicies()), sys.stdout)
"""


def sam_translate(path: Path) -> dict[str, dict[str, Any]]:
    """The CloudFormation resources the SAM transform makes of the template at `path`."""
    if not SAM_PYTHON.exists():
        pytest.skip(f"{SAM_PYTHON} is missing: `make template` installs the SAM CLI and its translator there")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}
    result = subprocess.run(
        [str(SAM_PYTHON), "-c", _TRANSLATE, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"the SAM translator refused {path.name}:\n{result.stderr[-3000:]}"
    resources: dict[str, dict[str, Any]] = json.loads(result.stdout)["Resources"]
    return resources


# ------------------------------------------------------------------------------ the two views


def _targets(value: Any, logical_id: str) -> bool:
    return value in ({"Ref": logical_id}, {"Fn::GetAtt": [logical_id, "Arn"]})


def _unhashed(resources: dict[str, dict[str, Any]], value: Any) -> Any:
    """SAM renames a layer OmsLayer to OmsLayer<10 hex digits> and its Refs with it: undo that."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        target = resources.get(value["Ref"], {})
        if target.get("Type") == "AWS::Lambda::LayerVersion":
            return {"Ref": re.sub(r"[0-9a-f]{10}$", "", value["Ref"])}
    return value


def _on_failure(config: dict[str, Any]) -> Any:
    return config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")


_POLLING = ("SQS", "DynamoDB", "Kinesis", "MSK", "MQ", "SelfManagedKafka", "DocumentDB")
_MAPPING_SETTINGS = (
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "StartingPosition",
    "MaximumRetryAttempts",
    "BisectBatchOnFunctionError",
    "FunctionResponseTypes",
    "FilterCriteria",
    "ScalingConfig",
)
_SCHEDULE_SETTINGS = (
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "Input",
    "RetryPolicy",
    "DeadLetterConfig",
)


def _local_event(trigger_type: str, props: dict[str, Any]) -> dict[str, Any]:
    if trigger_type in _POLLING:
        source = props.get("Queue") or props.get("Stream")
        settings = {k: props[k] for k in _MAPPING_SETTINGS if k in props}
        return {"kind": "mapping", "source": source, **settings, "onFailure": _on_failure(props)}
    if trigger_type == "ScheduleV2":
        return {"kind": "schedule", **{k: props[k] for k in _SCHEDULE_SETTINGS if k in props}}
    if trigger_type == "Api":
        return {"kind": "api"}
    return {"kind": trigger_type}  # anything else shows up as a difference to look at


def local_view(function: Function) -> dict[str, Any]:
    """What the local stack runs: oms_local.template's reading of one function."""
    props = function.properties
    invoke = props.get("EventInvokeConfig")
    return {
        "handler": function.handler,
        "runtime": function.runtime,
        "timeout": function.timeout,
        "memory": function.memory,
        "environment": props.get("Environment"),
        "variables": function.environment,
        "layers": function.layers,
        "logging": function.logging_config or None,
        "architectures": props.get("Architectures", ["x86_64"]),
        "tracing": props.get("Tracing"),
        "asyncInvoke": None
        if invoke is None
        else {"retries": invoke.get("MaximumRetryAttempts", 2), "onFailure": _on_failure(invoke)},
        "events": {t.name: _local_event(t.type, t.properties) for t in function.triggers},
    }


def deployed_view(resources: dict[str, dict[str, Any]], logical_id: str) -> dict[str, Any]:
    """What AWS runs: the translated AWS::Lambda::Function and the resources SAM made for it."""
    resource = resources[logical_id]
    assert resource["Type"] == "AWS::Lambda::Function", resource["Type"]
    props = resource["Properties"]
    invoke = resources.get(f"{logical_id}EventInvokeConfig", {}).get("Properties")
    events: dict[str, dict[str, Any]] = {}
    for resource_id, other in resources.items():
        other_props = other.get("Properties", {})
        if not resource_id.startswith(logical_id) or resource_id == logical_id:
            continue
        name = resource_id[len(logical_id) :]
        if other["Type"] == "AWS::Lambda::EventSourceMapping" and _targets(
            other_props["FunctionName"], logical_id
        ):
            settings = {k: other_props[k] for k in _MAPPING_SETTINGS if k in other_props}
            source = other_props["EventSourceArn"]
            events[name] = {
                "kind": "mapping",
                "source": source,
                **settings,
                "onFailure": _on_failure(other_props),
            }
        elif other["Type"] == "AWS::Scheduler::Schedule" and _targets(
            other_props["Target"]["Arn"], logical_id
        ):
            target = other_props["Target"]
            merged = {
                **other_props,
                **{k: target[k] for k in ("Input", "RetryPolicy", "DeadLetterConfig") if k in target},
            }
            events[name] = {"kind": "schedule", **{k: merged[k] for k in _SCHEDULE_SETTINGS if k in merged}}
        elif (
            other["Type"] == "AWS::Lambda::Permission"
            and other_props.get("Principal") == "apigateway.amazonaws.com"
        ):
            events[name.split("Permission", 1)[0]] = {"kind": "api"}
    environment = props.get("Environment")
    return {
        "handler": props.get("Handler"),
        "runtime": props.get("Runtime"),
        "timeout": props.get("Timeout", 3),  # Lambda's defaults
        "memory": props.get("MemorySize", 128),
        "environment": environment,
        "variables": (environment or {}).get("Variables", {}),
        "layers": [_unhashed(resources, layer) for layer in props.get("Layers", [])],
        "logging": props.get("LoggingConfig"),
        "architectures": props.get("Architectures", ["x86_64"]),
        "tracing": props.get("TracingConfig", {}).get("Mode"),
        "asyncInvoke": None
        if invoke is None
        else {"retries": invoke.get("MaximumRetryAttempts", 2), "onFailure": _on_failure(invoke)},
        "events": events,
    }


def differences(local: dict[str, Any], deployed: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {"local": local.get(key), "sam": deployed.get(key)}
        for key in sorted(set(local) | set(deployed))
        if local.get(key) != deployed.get(key)
    }


# ------------------------------------------------------------------------------ template.yaml


@pytest.fixture(scope="module")
def translated() -> dict[str, dict[str, Any]]:
    return sam_translate(TEMPLATE_PATH)


TEMPLATE = Template()
FUNCTION_IDS = sorted(f.logical_id for f in TEMPLATE.functions())


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_the_local_stack_runs_each_function_as_aws_deploys_it(
    function_id: str, translated: dict[str, dict[str, Any]]
) -> None:
    local = local_view(TEMPLATE.function(function_id))
    deployed = deployed_view(translated, function_id)
    assert not differences(local, deployed), differences(local, deployed)


def test_every_deployed_function_is_one_the_local_stack_knows(translated: dict[str, dict[str, Any]]) -> None:
    deployed = sorted(k for k, v in translated.items() if v["Type"] == "AWS::Lambda::Function")
    assert deployed == FUNCTION_IDS


def test_the_template_says_shared_settings_once() -> None:
    """What every function needs is in Globals.Function, not repeated in each function."""
    functions = TEMPLATE.of_type("AWS::Serverless::Function")
    shared = TEMPLATE.globals
    assert shared.get("Handler") == "app.lambda_handler"
    assert shared.get("LoggingConfig", {}).get("LogFormat") == "JSON"
    for logical_id, resource in functions.items():
        own = resource["Properties"]
        repeated = [k for k, v in own.items() if k in shared and v == shared[k]]
        assert not repeated, f"{logical_id} repeats the Globals' {repeated}"
        assert "LogFormat" not in own.get("LoggingConfig", {}), f"{logical_id} repeats LogFormat"
        assert "LogGroup" in own.get("LoggingConfig", {}), f"{logical_id} has no log group of its own"
        on_failure = own.get("EventInvokeConfig", {}).get("DestinationConfig")
        assert on_failure is None, (
            f"{logical_id} repeats the failure destination of Globals.EventInvokeConfig"
        )


# ------------------------------------------------------------------------------ the Globals rules, planted

PLANTED = """
Transform: AWS::Serverless-2016-10-31
Conditions:
  Never: !Equals ["a", "b"]
Globals:
  Function:
    Handler: app.lambda_handler
    Runtime: python3.13
    Timeout: 30
    MemorySize: 512
    Architectures: [arm64]
    Tracing: Active
    Layers:
      - arn:aws:lambda:us-east-1:123456789012:layer:shared:1
    LoggingConfig:
      LogFormat: JSON
    Environment:
      Variables:
        TABLE_NAME: !Ref Queue
        LEVEL: INFO
    EventInvokeConfig:
      MaximumRetryAttempts: 0
      DestinationConfig:
        OnFailure:
          Type: SQS
          Destination: !GetAtt Queue.Arn
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Logs:
    Type: AWS::Logs::LogGroup
  # Everything from Globals; its own map keys merged, its own list appended.
  PlainFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/plain/
      LoggingConfig:
        LogGroup: !Ref Logs
      Layers:
        - arn:aws:lambda:us-east-1:123456789012:layer:own:3
      Environment:
        Variables:
          LEVEL: DEBUG
          OWN: "yes"
      EventInvokeConfig:
        MaximumRetryAttempts: 2
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            BatchSize: 5
  # Scalars and Architectures replaced; an intrinsic in place of a map replaces the map.
  OverridingFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/overriding/
      Handler: main.handler
      Timeout: 900
      MemorySize: 1024
      Architectures: [x86_64]
      Environment: !If [Never, {Variables: {ONLY: "if"}}, !Ref AWS::NoValue]
      Events:
        Nightly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0 3 * * ? *)
  # IgnoreGlobals: some globals, or all of them, kept off one function.
  PartlyIgnoringFunction:
    Type: AWS::Serverless::Function
    IgnoreGlobals: [EventInvokeConfig, Layers]
    Properties:
      CodeUri: functions/partly/
  IgnoringFunction:
    Type: AWS::Serverless::Function
    IgnoreGlobals: "*"
    Properties:
      CodeUri: functions/ignoring/
      Handler: solo.handler
      Runtime: python3.12
"""


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, dict[str, dict[str, Any]]]:
    path = tmp_path_factory.mktemp("planted") / "template.yaml"
    path.write_text(PLANTED, encoding="utf-8")
    return Template(load_template(path)), sam_translate(path)


PLANTED_IDS = ["PlainFunction", "OverridingFunction", "PartlyIgnoringFunction", "IgnoringFunction"]


@pytest.mark.parametrize("function_id", PLANTED_IDS)
def test_the_reader_applies_globals_as_sam_does(
    function_id: str, planted: tuple[Template, dict[str, dict[str, Any]]]
) -> None:
    template, translated = planted
    local = local_view(template.function(function_id))
    deployed = deployed_view(translated, function_id)
    assert not differences(local, deployed), differences(local, deployed)


@pytest.mark.parametrize("function_id", ["PlainFunction", "OverridingFunction", "PartlyIgnoringFunction"])
def test_a_reader_that_ignored_globals_would_be_caught(
    function_id: str, planted: tuple[Template, dict[str, dict[str, Any]]]
) -> None:
    template, translated = planted
    without_globals = {k: v for k, v in template.document.items() if k != "Globals"}
    naive = Template(without_globals | {"Resources": _as_if_no_globals(template.resources)})
    assert differences(local_view(naive.function(function_id)), deployed_view(translated, function_id))


def _as_if_no_globals(resources: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The functions without IgnoreGlobals and with a Handler, so that a reading without Globals parses."""
    fixed = json.loads(json.dumps(resources))
    for resource in fixed.values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource.pop("IgnoreGlobals", None)
            resource["Properties"].setdefault("Handler", "app.lambda_handler")
    return fixed


def test_the_planted_template_exercises_each_rule(
    planted: tuple[Template, dict[str, dict[str, Any]]],
) -> None:
    """The planted comparison is not vacuous: SAM's own output shows each rule at work."""
    _, translated = planted
    plain = deployed_view(translated, "PlainFunction")
    assert plain["layers"] == [
        "arn:aws:lambda:us-east-1:123456789012:layer:shared:1",
        "arn:aws:lambda:us-east-1:123456789012:layer:own:3",
    ]
    assert plain["variables"] == {"TABLE_NAME": {"Ref": "Queue"}, "LEVEL": "DEBUG", "OWN": "yes"}
    assert plain["logging"] == {"LogFormat": "JSON", "LogGroup": {"Ref": "Logs"}}
    assert plain["asyncInvoke"] == {"retries": 2, "onFailure": {"Fn::GetAtt": ["Queue", "Arn"]}}
    overriding = deployed_view(translated, "OverridingFunction")
    assert (overriding["timeout"], overriding["memory"], overriding["architectures"]) == (
        900,
        1024,
        ["x86_64"],
    )
    assert "Fn::If" in overriding["environment"]
    partly = deployed_view(translated, "PartlyIgnoringFunction")
    assert partly["asyncInvoke"] is None and partly["layers"] == [] and partly["tracing"] == "Active"
    ignoring = deployed_view(translated, "IgnoringFunction")
    assert (ignoring["timeout"], ignoring["memory"], ignoring["tracing"], ignoring["logging"]) == (
        3,
        128,
        None,
        None,
    )


def test_globals_sam_refuses_are_refused() -> None:
    with pytest.raises(ValueError, match="Policies"):
        merge_globals({"Policies": ["AWSLambdaBasicExecutionRole"]}, {})
    with pytest.raises(ValueError, match="Timeout"):
        merge_globals({"Handler": "app.lambda_handler"}, {}, ["Timeout"], where="SomeFunction")
