"""The rules of the house, read from the code: the floors of the `oms` package (the README's table), DynamoDB
expressions and index names only in store/, boto3 clients only in store/, a pure domain, and no local
tooling in what ships to Lambda. Each rule is shown failing on a planted violation."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "oms" / "oms"
FUNCTIONS = ROOT / "functions"
README = ROOT / "README.md"

LOCAL_TOOLING = ("oms_local", "oms_tools")
NOT_IN_DOMAIN = ("boto3", "botocore", "aws_lambda_powertools")
CLIENT_BUILDERS = {"client", "resource", "Session"}
# A DynamoDB condition or update expression, or an index attribute, inside a string literal.
EXPRESSION = re.compile(
    r"\bgsi\d+(pk|sk)\b"
    r"|\battribute_(not_)?exists\s*\("
    r"|^\s*(SET|REMOVE|ADD|DELETE)\s+[#\w]"
    r"|[#:]\w+(\[\w*\])?(\.[#\w]+)*\s*(=|<>|<=|>=|<|>)\s*[#:]\w+"
    r"|(=|<>|<=|>=|<|>)\s*:[A-Za-z]\w*"  # a comparison with a value placeholder (:now)
)


def floors(readme: str) -> list[list[str]]:
    """The README's table of floors, lowest first: the packages named on each row."""
    section = readme.split("### The floors of the `oms` package", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if re.match(r"^\| \d+ \|", line)]
    found = [(int(line.split("|")[1]), re.findall(r"`(\w+)`", line.split("|")[2])) for line in rows]
    return [packages for _, packages in sorted(found)]


@dataclass(frozen=True)
class Module:
    name: str  # oms.inventory.stock, or functions/orders/ingest_notifications/app.py
    source: str

    @property
    def package(self) -> str | None:
        """The oms package (floor member) the module belongs to; None outside oms."""
        parts = self.name.split(".")
        return parts[1] if parts[0] == "oms" and len(parts) > 1 else None


def imports(tree: ast.AST) -> Iterator[str]:
    """Every module a module imports, at any depth (imports inside functions count)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            if node.module == "oms":  # `from oms import inventory`
                yield from (f"oms.{alias.name}" for alias in node.names)


def strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def docstrings(tree: ast.AST) -> set[int]:
    """Where docstrings sit (prose may name an index)."""
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add(value.lineno)
    return found


def client_builds(tree: ast.AST) -> Iterator[int]:
    """Calls like boto3.client("sqs"), boto3.resource(...), boto3.session.Session(...)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            chain, value = [node.func.attr], node.func.value
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id == "boto3" and chain[0] in CLIENT_BUILDERS:
                yield node.lineno


def problems(modules: list[Module], floor_list: list[list[str]]) -> list[str]:
    """Every broken rule, as 'module: what'."""
    level: Mapping[str, int] = {package: i for i, row in enumerate(floor_list) for package in row}
    found = []
    for module in modules:
        tree = ast.parse(module.source)
        own = module.package
        for imported in imports(tree):
            top = imported.split(".")[0]
            if top in LOCAL_TOOLING:
                found.append(f"{module.name}: imports {imported} (local tooling never ships to Lambda)")
            if own == "domain" and top in NOT_IN_DOMAIN:
                found.append(f"{module.name}: domain imports {imported} (the domain is pure)")
            parts = imported.split(".")
            if own is None or parts[0] != "oms" or len(parts) < 2 or parts[1] == own:
                continue
            if parts[1] not in level:
                found.append(
                    f"{module.name}: imports {imported}, a package on no floor of the README's table"
                )
            elif own not in level:
                found.append(f"{module.name}: its package {own} is on no floor of the README's table")
            elif level[parts[1]] >= level[own]:
                found.append(
                    f"{module.name}: imports {imported}, on floor {level[parts[1]] + 1}, "
                    f"not below its own ({own}, floor {level[own] + 1})"
                )
        if own == "store":
            continue
        prose = docstrings(tree)
        for line, text in strings(tree):
            if line not in prose and EXPRESSION.search(text):
                found.append(
                    f"{module.name}:{line}: a DynamoDB expression or index name outside store/: {text!r}"
                )
        for line in client_builds(tree):
            found.append(
                f"{module.name}:{line}: builds a boto3 client (take the store's or the Amazon client)"
            )
    return found


def shipped_modules() -> list[Module]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append(Module(name, path.read_text()))
    for path in sorted(FUNCTIONS.rglob("app.py")):
        found.append(Module(str(path.relative_to(ROOT)), path.read_text()))
    return found


def test_the_readme_lists_every_package_of_oms_on_one_floor() -> None:
    listed = [package for row in floors(README.read_text()) for package in row]
    present = sorted(
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")
    )
    assert sorted(listed) == present
    assert len(listed) == len(set(listed)), "a package on two floors"


def test_the_code_keeps_the_rules_of_the_house() -> None:
    assert problems(shipped_modules(), floors(README.read_text())) == []


# --- each rule, planted -------------------------------------------------------------------------

FLOORS = [["errors"], ["domain"], ["store"], ["warehouse"], ["inventory"], ["shipping"], ["api"]]


def planted(name: str, source: str) -> list[str]:
    return problems([Module(name, source)], FLOORS)


def test_a_capability_importing_one_above_it_is_caught() -> None:
    assert planted("oms.inventory.stock", "from oms.shipping.batches import Batch\n") == [
        "oms.inventory.stock: imports oms.shipping.batches, on floor 6, not below its own (inventory, floor 5)"
    ]
    assert planted("oms.inventory.stock", "def f():\n    from oms import shipping\n")  # lazy imports count
    assert planted("oms.shipping.labels", "from oms.inventory.stock import adjust_stock\n") == []


def test_packages_on_one_floor_do_not_import_each_other_and_unlisted_packages_are_named() -> None:
    floors_with_pair = [["errors"], ["domain"], ["store"], ["amazon", "events"]]
    assert problems([Module("oms.amazon.client", "import oms.events\n")], floors_with_pair)
    assert planted("oms.inventory.stock", "from oms.returns import refunds\n") == [
        "oms.inventory.stock: imports oms.returns, a package on no floor of the README's table"
    ]


def test_the_domain_imports_neither_the_store_nor_aws() -> None:
    assert planted("oms.domain.orders", "from oms.store import keys\n")
    assert planted("oms.domain.orders", "import boto3\n") == [
        "oms.domain.orders: domain imports boto3 (the domain is pure)"
    ]
    assert planted("oms.domain.orders", "from aws_lambda_powertools import Logger\n")


def test_expressions_and_index_names_outside_the_store_are_caught() -> None:
    for text in (
        'update="SET #lease = :until"',
        'condition="attribute_not_exists(#pk) OR #ttl < :now"',
        'row.pop("gsi2pk", None)',
        'condition=f"#shipments[{index}].shipmentId = :sid"',
        'update="REMOVE confirmingUntil, gsi2pk"',
    ):
        assert planted("oms.shipping.shipments", f"w = dict({text})\n"), text
    assert planted("oms.store.conditional", 'c = "attribute_not_exists(#pk)"\n') == []
    assert planted("oms.shipping.shipments", '"""Queued on gsi2 by when to try next."""\n') == []
    assert planted("oms.shipping.shipments", 'message = "SKU {sku} is short: 3 of 5 (see the order)"\n') == []


def test_a_boto3_client_built_outside_the_store_is_caught() -> None:
    assert planted("oms.reports.jobs", 'import boto3\nsqs = boto3.client("sqs")\n') == [
        "oms.reports.jobs:2: builds a boto3 client (take the store's or the Amazon client)"
    ]
    assert planted("oms.events", "import boto3\ns = boto3.session.Session()\n")
    assert planted("oms.store.clients", 'import boto3\nc = boto3.client("events")\n') == []


def test_local_tooling_in_the_layer_or_a_function_is_caught() -> None:
    assert planted("oms.api.app", "from oms_local.simulator import Marketplace\n")
    assert planted("functions/api/app.py", "import oms_tools.cli\n") == [
        "functions/api/app.py: imports oms_tools.cli (local tooling never ships to Lambda)"
    ]
