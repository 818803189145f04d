"""The public surface: everything users need is importable from ``genwire`` itself."""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

import genwire

PACKAGE_DIR = Path(genwire.__file__).resolve().parent

#: modules whose ``__all__`` is the public API and must be re-exported from ``genwire``
PUBLIC_MODULES = ("genwire.errors", "genwire.models", "genwire.specs", "genwire.catalog")

#: names listed in those modules' ``__all__`` that are deliberately not top-level
NOT_TOP_LEVEL = {
    "genwire.catalog": {"bundled_paths"},  # where the data lives: an implementation detail
    "genwire.specs": {"split_slot"},  # wire-name parsing helper used by the compiler
    "genwire.models": {"MediaKind", "TERMINAL_STATUSES"},  # reachable as Media.kind / JobStatus.is_terminal
}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def _defines_all(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return True
    return False


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(PACKAGE_DIR).as_posix())
def test_every_module_declares_all(path: Path) -> None:
    assert _defines_all(path), f"{path.relative_to(PACKAGE_DIR)} has no module-level __all__"


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_module_names_are_reexported(module_name: str) -> None:
    module = importlib.import_module(module_name)
    wanted = set(module.__all__) - NOT_TOP_LEVEL.get(module_name, set())
    missing = sorted(wanted - set(genwire.__all__))
    assert not missing, f"{module_name} exports {missing} but genwire.__all__ does not"
    for name in wanted:
        assert getattr(genwire, name) is getattr(module, name), name


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_exclusions_name_real_exports(module_name: str) -> None:
    # a stale exclusion would silently hide a rename
    module = importlib.import_module(module_name)
    assert NOT_TOP_LEVEL.get(module_name, set()) <= set(module.__all__)


def test_every_top_level_name_exists() -> None:
    absent = [name for name in genwire.__all__ if not hasattr(genwire, name)]
    assert not absent


def test_top_level_all_has_no_duplicates() -> None:
    assert len(genwire.__all__) == len(set(genwire.__all__))


def test_design_surface_is_importable() -> None:
    names = ["Catalog", "GenerationRequest", "Job", "JobStatus", "GenwireError", "InvalidInputError",
             "AuthenticationError", "InsufficientCreditsError", "RateLimitError", "ProviderError",
             "NotFoundError", "JobFailedError", "WaitTimeoutError", "WebhookVerificationError"]
    assert [n for n in names if n not in genwire.__all__] == []


def test_errors_share_one_base() -> None:
    from genwire import errors

    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, genwire.GenwireError), name


# -- every documented import, and every name of the layout change's __all__ lists, still imports ----

REPO = PACKAGE_DIR.parent
#: where the modules of the layout change went (docs/architecture.md); the others kept their place
MOVED = {
    "genwire._json": "genwire._util.json", "genwire._redact": "genwire._util.redact",
    "genwire._logfilter": "genwire._util.logfilter", "genwire._record": "genwire._util.record",
    "genwire._construct": "genwire._util.construct", "genwire._compile": "genwire.catalog._compile",
    "genwire._schema": "genwire.catalog._json_schema", "genwire._meta": "genwire.catalog._meta",
    "genwire._lint": "genwire.catalog._lint", "genwire._yaml": "genwire.catalog._yaml",
    "genwire._validation": "genwire.catalog._validation", "genwire._fastcheck": "genwire.catalog._fastcheck",
    "genwire._drafting": "genwire.catalog._drafting", "genwire._clipia_catalog": "genwire.catalog._from_clipia",
    "genwire._translate": "genwire.catalog._translate", "genwire._policy": "genwire._policy.flows",
    "genwire._retry": "genwire._policy.retry", "genwire._ratelimit": "genwire._policy.ratelimit",
    "genwire._http": "genwire._transport.http", "genwire._requests": "genwire._transport.requests",
    "genwire._sockets": "genwire._transport.sockets", "genwire._gate": "genwire._transport.gate",
    "genwire._client_core": "genwire._client.core", "genwire._client_checks": "genwire._client.checks",
    "genwire._options": "genwire._client.options", "genwire._async_client": "genwire._client.async_client",
    "genwire._cli_catalog": "genwire.cli._catalog", "genwire._cli_jobs": "genwire.cli._jobs",
    "genwire._cli_run": "genwire.cli._run", "genwire._account": "genwire.models._account",
}
BEFORE = json.loads((Path(__file__).parent / "fixtures" / "all_before_layout.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("module_name", sorted(BEFORE))
def test_every_name_of_the_old_all_lists_imports_from_its_module_or_where_it_moved(module_name: str) -> None:
    place = MOVED.get(module_name, module_name)
    module = importlib.import_module(place)
    missing = [name for name in BEFORE[module_name] if not hasattr(module, name)]
    assert missing == [], f"{module_name} (now {place}) lost {missing}"


def test_the_old_public_paths_are_the_same_modules() -> None:
    # public modules did not move: the same path, not a re-export elsewhere
    public = [m for m in BEFORE if not any(part.startswith("_") for part in m.split(".")[1:])]
    assert public and not set(public) & set(MOVED)
    for name in public:
        assert importlib.import_module(name).__name__ == name


_DOC_IMPORT = re.compile(r"^\s*from (genwire[\w.]*) import ([\w, ()]+?)\s*(?:#.*)?$", re.MULTILINE)


def _documented_imports() -> list[tuple[str, str, str]]:
    found = []
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        if not doc.is_file():
            continue
        for module, names in _DOC_IMPORT.findall(doc.read_text(encoding="utf-8")):
            for name in names.strip("()").split(","):
                if name.strip():
                    found.append((doc.name, module, name.strip().split(" as ")[0]))
    return sorted(set(found))


@pytest.mark.parametrize(("doc", "module_name", "name"), _documented_imports())
def test_every_documented_import_works(doc: str, module_name: str, name: str) -> None:
    if module_name.startswith("genwire.mcp"):
        pytest.importorskip("mcp")
    assert hasattr(importlib.import_module(module_name), name), f"{doc}: from {module_name} import {name}"


def test_the_docs_document_imports() -> None:
    # the check above would pass on no input
    assert len({(m, n) for _, m, n in _documented_imports()}) >= 20


def test_the_top_level_holds_at_most_15_modules_and_none_is_over_500_lines() -> None:
    assert len(list(PACKAGE_DIR.glob("*.py"))) <= 15
    long = {p.relative_to(PACKAGE_DIR).as_posix(): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert long == {}
