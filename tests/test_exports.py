"""The public surface: everything users need is importable from ``genwire`` itself."""

from __future__ import annotations

import ast
import importlib
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
