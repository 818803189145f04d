"""The import graph of genwire/ keeps its layers (docs/architecture.md): no import from a lower
layer up, no circle. Every import counts, function-level ones too; those under
``if TYPE_CHECKING:`` never run and do not."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import genwire

PACKAGE_DIR = Path(genwire.__file__).resolve().parent

#: lowest first; a module belongs to the layer of the longest prefix naming it
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("util", ("genwire._util", "genwire._version")),
    ("vocabulary", ("genwire.errors", "genwire.specs", "genwire.models")),
    ("catalog", ("genwire.catalog",)),
    ("adapters", ("genwire.adapters",)),
    ("policy", ("genwire._policy",)),
    ("callbacks", ("genwire._callbacks",)),
    ("webhooks", ("genwire.webhooks", "genwire._stdwebhooks")),
    ("live", ("genwire.live",)),
    ("ledger", ("genwire.ledger",)),
    ("transport", ("genwire._transport",)),
    ("client", ("genwire._client",)),
    ("faces", ("genwire.client", "genwire.asgi", "genwire.cli", "genwire.mcp", "genwire.testing", "genwire.__main__",
               "genwire")),
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path) -> set[str]:
    """The genwire modules ``path`` imports when it runs."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "genwire")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] == "genwire":
                submodules = {f"{module}.{a.name}" for a in node.names if _exists(f"{module}.{a.name}")}
                # ``from . import x`` of a module x imports x (its package is loaded already)
                found.update(submodules if len(submodules) == len(node.names) else {module, *submodules})
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    found.discard(name)
    return found


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (PACKAGE_DIR / rel).with_suffix(".py").is_file() or (PACKAGE_DIR / rel / "__init__.py").is_file()


def _layer(module: str) -> int:
    best = max(((i, p) for i, (_, prefixes) in enumerate(LAYERS) for p in prefixes
                if module == p or module.startswith(p + ".")), key=lambda ip: len(ip[1]))
    return best[0]


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE_DIR.rglob("*.py"))
            if "__pycache__" not in p.parts}


GRAPH = _graph()


def test_every_module_has_a_layer() -> None:
    for module in GRAPH:
        _layer(module)  # raises ValueError (max of nothing) for a module no layer names


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_import_goes_up_a_layer(module: str) -> None:
    here = _layer(module)
    upward = sorted(f"{target} ({LAYERS[_layer(target)][0]})" for target in GRAPH[module] if _layer(target) > here)
    assert upward == [], f"{module} ({LAYERS[here][0]}) imports from above: {upward}"


def test_util_imports_nothing_from_genwire() -> None:
    offenders = {m: sorted(t for t in GRAPH[m] if not t.startswith("genwire._util"))
                 for m in GRAPH if m.startswith("genwire._util")}
    assert {m: t for m, t in offenders.items() if t} == {}


def test_the_import_graph_has_no_circle() -> None:
    # Tarjan's strongly connected components; a component of more than one module is a circle
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH.get(v, ()):
            if w not in GRAPH:
                continue
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            connect(v)
    assert circles == []


def test_the_graph_sees_function_level_imports() -> None:
    # the checks above would pass vacuously if lazy imports were missed
    assert "genwire.ledger._seam" in GRAPH["genwire._client.core"]


#: the one private name a package hands another: the public face of ``_client/`` subclasses its core
PRIVATE_NAMES_ALLOWED = {("genwire.client", "genwire._client.core", "_ClientCore")}


def _package_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_package_imports_another_packages_private_names() -> None:
    # ``from ..cli._run import _helper`` reaches into another package: export the name instead
    found = set()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        name = _module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "genwire" or _package_of(module) == _package_of(name):
                continue
            for alias in node.names:
                private = alias.name.startswith("_") and not alias.name.startswith("__")
                if private and not _exists(f"{module}.{alias.name}"):
                    found.add((name, module, alias.name))
    assert found == PRIVATE_NAMES_ALLOWED
