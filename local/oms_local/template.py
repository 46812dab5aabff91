"""template.yaml as data: resources, functions and their triggers, with CloudFormation intrinsics resolved.

The local stack, the tests and the template checks all read the stack from here, so there is no
second list of resources anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"

_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
}


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt, !Sub, ...) turned into their long form."""


def _construct_tag(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = _SHORT_TAGS.get(tag_suffix, f"Fn::{tag_suffix}")
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(document, dict) or "Resources" not in document:
        raise ValueError(f"{path} is not a CloudFormation template")
    return document


@dataclass(frozen=True)
class Trigger:
    """One entry of a function's Events."""

    name: str
    type: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class Function:
    """One AWS::Serverless::Function as SAM deploys it: `properties` are its own merged with Globals."""

    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    memory: int
    environment: dict[str, Any]
    triggers: list[Trigger] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        return self.code_uri.name

    @property
    def runtime(self) -> str | None:
        return self.properties.get("Runtime")

    @property
    def layers(self) -> list[Any]:
        return list(self.properties.get("Layers", []))

    @property
    def logging_config(self) -> dict[str, Any]:
        return dict(self.properties.get("LoggingConfig", {}))


# SAM's Globals (samtranslator.plugins.globals): Globals.Function takes every function property but
# these; a function's own value wins over a global one, maps merge key by key (recursively), lists are
# concatenated global first, except Architectures, which the function's list replaces. An intrinsic
# ({"Ref": ...}, {"Fn::...": ...}) counts as a single value, not a map. IgnoreGlobals (a resource
# attribute, "*" or a list of property names) keeps globals off one function.
_NOT_GLOBAL = frozenset({"Role", "Policies", "FunctionName", "Events"})
_REPLACED_LISTS = frozenset({"Architectures"})


def _is_intrinsic(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return key in ("Ref", "Condition") or str(key).startswith("Fn::")


def _kind(value: Any) -> str:
    if isinstance(value, dict) and not _is_intrinsic(value):
        return "map"
    return "list" if isinstance(value, list) else "value"


def _merge(global_value: Any, own: Any, path: str) -> Any:
    kind = _kind(global_value)
    if kind != _kind(own) or kind == "value":
        return own
    if kind == "list":
        return list(own) if path in _REPLACED_LISTS else [*global_value, *own]
    merged = dict(global_value)
    for key, value in own.items():
        merged[key] = _merge(merged[key], value, f"{path}.{key}".lstrip(".")) if key in merged else value
    return merged


def merge_globals(
    globals_: dict[str, Any], properties: dict[str, Any], ignore: Any = None, *, where: str = "function"
) -> dict[str, Any]:
    """A function's properties as SAM translates them: its own merged over Globals.Function."""
    misplaced = sorted(_NOT_GLOBAL & set(globals_))
    if misplaced:
        raise ValueError(f"Globals.Function cannot hold {', '.join(misplaced)} (SAM refuses them)")
    if ignore == "*":
        return dict(properties)
    inherited = dict(globals_)
    if ignore:
        if not isinstance(ignore, list):
            raise ValueError(
                f'{where}: IgnoreGlobals must be "*" or a list of property names, got {ignore!r}'
            )
        unknown = [name for name in ignore if name not in inherited]
        if unknown:
            raise ValueError(f"{where}: IgnoreGlobals names {unknown}, which Globals.Function does not set")
        for name in ignore:
            del inherited[name]
    return _merge(inherited, properties, "")


class Template:
    def __init__(self, document: dict[str, Any] | None = None) -> None:
        self.document = document if document is not None else load_template()
        self.resources: dict[str, dict[str, Any]] = self.document["Resources"]
        self.parameters: dict[str, dict[str, Any]] = self.document.get("Parameters", {})
        self.outputs: dict[str, dict[str, Any]] = self.document.get("Outputs", {})
        self.globals: dict[str, Any] = self.document.get("Globals", {}).get("Function", {})

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def functions(self) -> list[Function]:
        found = []
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            props = merge_globals(
                self.globals, resource.get("Properties", {}), resource.get("IgnoreGlobals"), where=logical_id
            )
            if "Handler" not in props:
                raise ValueError(f"{logical_id} has no Handler (neither its own nor Globals.Function's)")
            triggers = [
                Trigger(name, event["Type"], event.get("Properties", {}))
                for name, event in props.get("Events", {}).items()
            ]
            found.append(
                Function(
                    logical_id=logical_id,
                    code_uri=(ROOT / props["CodeUri"]).resolve(),
                    handler=props["Handler"],
                    timeout=int(props.get("Timeout", 3)),  # Lambda's defaults
                    memory=int(props.get("MemorySize", 128)),
                    environment=dict(props.get("Environment", {}).get("Variables", {})),
                    triggers=triggers,
                    properties=props,
                )
            )
        return found

    def function(self, name: str) -> Function:
        """By logical id (ApiFunction) or folder name under functions/ (api)."""
        for candidate in self.functions():
            if name in (candidate.logical_id, candidate.folder):
                return candidate
        known = ", ".join(f"{f.folder} ({f.logical_id})" for f in self.functions())
        raise KeyError(f"no function {name!r} in template.yaml; known: {known}")

    def parameter_defaults(self) -> dict[str, Any]:
        defaults = {}
        for name, spec in self.parameters.items():
            value = spec.get("Default")
            if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
                value = [part.strip() for part in value.split(",")]
            defaults[name] = value
        return defaults


class Resolver:
    """Resolves Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If, Fn::Not, Fn::Equals against known values."""

    def __init__(
        self,
        refs: dict[str, Any],
        attributes: dict[tuple[str, str], Any],
        conditions: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.refs = refs
        self.attributes = attributes
        self.conditions = conditions or {}

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.conditions[name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        ((key, arg),) = value.items()
        if key == "Ref":
            return self._ref(arg)
        if key == "Fn::GetAtt":
            logical_id, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return self._attribute(logical_id, attribute)
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::Join":
            separator, parts = arg
            return separator.join(str(p) for p in self.resolve(parts))
        if key == "Fn::If":
            name, when_true, when_false = arg
            return self.resolve(when_true if self.condition(name) else when_false)
        if key == "Fn::Not":
            return not self.resolve(arg[0])
        if key == "Fn::Equals":
            left, right = self.resolve(arg)
            return str(left) == str(right)
        if key == "Condition":
            return self.condition(arg)
        return {key: self.resolve(arg)}

    def _ref(self, name: str) -> Any:
        if name not in self.refs:
            raise KeyError(f"Ref {name} has no local value")
        return self.refs[name]

    def _attribute(self, logical_id: str, attribute: str) -> Any:
        if (logical_id, attribute) not in self.attributes:
            raise KeyError(f"GetAtt {logical_id}.{attribute} has no local value")
        return self.attributes[(logical_id, attribute)]

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return str(self._attribute(logical_id, attribute))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)
