"""The local packages keep their layering: no module of oms_local or oms_tools imports itself back through
others (a cycle makes import order matter and a module half-initialised when it is used), and the
emulator (oms_local) never reaches for the operator's tools (oms_tools), which may use it.

Every import counts, also those inside functions: a lazy import only hides a cycle until the day it runs.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"oms_local": ROOT / "local" / "oms_local", "oms_tools": ROOT / "tools" / "oms_tools"}


def module_files() -> dict[str, Path]:
    """Dotted module name -> source file, for every module of the local packages."""
    modules = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported(name: str, path: Path, known: Iterable[str], *, lazy: bool = True) -> set[str]:
    """The local modules that the module `name` imports: wherever the import statement is, or (lazy=False)
    only those it runs when it is imported, not the ones inside its functions."""
    known = set(known)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _statements(ast.parse(path.read_text(), str(path)), lazy=lazy):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from pkg import module` imports pkg and, if it is one, the module; a package the importing
            # module sits in is no edge (Python runs it before any of its modules, whatever they import)
            inside = name == base or name.startswith(f"{base}.")
            targets = [*([] if inside else [base]), *(f"{base}.{alias.name}" for alias in node.names)]
        for target in targets:
            # `import a.b.c` runs a, a.b and a.b.c: the innermost local module is the one that matters
            module = target
            while module and module not in known:
                module = module.rpartition(".")[0]
            if module and module != name:
                found.add(module)
    return found


def _statements(tree: ast.AST, *, lazy: bool) -> Iterable[ast.AST]:
    for node in ast.iter_child_nodes(tree):
        yield node
        if lazy or not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _statements(node, lazy=lazy)


def import_graph(*, lazy: bool = True) -> dict[str, set[str]]:
    modules = module_files()
    return {name: imported(name, path, modules, lazy=lazy) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of modules that import each other (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_module_of_the_local_packages_imports_itself_back():
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(group) for group in found)


def test_the_emulator_never_imports_the_operators_tools():
    graph = import_graph()
    wrong = {
        f"{name} imports {target}"
        for name, targets in graph.items()
        if name.startswith("oms_local")
        for target in targets
        if target.startswith("oms_tools")
    }
    assert not wrong, sorted(wrong)


def test_the_cli_starts_without_the_emulator():
    """`oms dlq`, `oms stock`... against a deployed stack load no moto: only `oms local` starts the stack."""
    graph = import_graph(lazy=False)
    reached, todo = set(), ["oms_tools.cli"]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(graph[name])
    assert "oms_tools.operate" in reached  # the walk follows the CLI's imports
    assert not reached & {"oms_local.stack", "oms_local.moto_process", "oms_local.simulator"}


# The checker itself, on made-up packages: it must see cycles through lazy and relative imports.
@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        ({"a": "import p.b\n", "b": "def f():\n    from p import a\n"}, [["p.a", "p.b"]]),
        ({"a": "from .b import x\n", "b": "from . import c\n", "c": "import p.a\n"}, [["p.a", "p.b", "p.c"]]),
        ({"a": "from p.b import x\n", "b": "import json\n"}, []),
    ],
)
def test_the_checker_finds_cycles_through_lazy_and_relative_imports(tmp_path, sources, expected):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for module, source in sources.items():
        (folder / f"{module}.py").write_text(source)
    known = {"p", *(f"p.{m}" for m in sources)}
    graph = {f"p.{m}": imported(f"p.{m}", folder / f"{m}.py", known) for m in sources}
    assert cycles(graph) == expected


def started_modules() -> list[tuple[str, str]]:
    """(where, module) for every `python -m MODULE` the repository starts: argument lists in code
    ([sys.executable, "-m", "oms_local", ...]) and the Makefile's recipes."""
    found = []
    for folder in ("local", "tools", "tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.List | ast.Tuple):
                    values = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
                    for flag, module in itertools.pairwise(values):
                        if flag == "-m" and isinstance(module, str):
                            found.append((f"{path.relative_to(ROOT)}:{node.lineno}", module))
    makefile = (ROOT / "Makefile").read_text()
    found += [("Makefile", module) for module in re.findall(r"\$\(PY\) -m ([\w.]+)", makefile)]
    return found


def test_every_module_the_repository_starts_exists():
    """A string names the module a subprocess runs: moving a module must not leave one pointing nowhere."""
    started = started_modules()
    assert any(module == "oms_local" for _, module in started)  # the harness's stack: the scan sees it
    missing = [
        f"{where}: -m {module}" for where, module in started if importlib.util.find_spec(module) is None
    ]
    assert not missing, missing
