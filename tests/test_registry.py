"""One registration per provider (``genwire.adapters.PROVIDERS``): every view of it agrees, and no
code outside a provider's own modules names a provider."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import genwire
from genwire import Catalog
from genwire._client.checks import DEFAULT_BASE_URLS, KEY_ENV_ALIASES, KEY_ENV_VARS, SANDBOX_KEY_PREFIXES
from genwire.adapters import ADAPTERS, PROVIDERS
from genwire.live import LIVE_SOURCES
from genwire.testing.fakes import FAKES

PACKAGE_DIR = Path(genwire.__file__).resolve().parent

#: where a provider's name may appear as a string in genwire's code (docstrings aside)
OWN_FILES = ("adapters/{p}.py", "testing/_fake_{p}.py", "catalog/_from_{p}.py")
#: and the few other places that name one on purpose, each with its reason
NAMED_ON_PURPOSE = {
    "adapters/__init__.py",  # the registry itself
    "cli/_main.py",  # the demo's hand-picked jobs (a provider it does not show still runs one)
    "webhooks.py",  # the Clipia signature scheme (X-Clipia-Signature), named after the provider that made it
}


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_every_view_of_a_registered_provider_agrees(provider: str) -> None:
    entry = PROVIDERS[provider]
    assert ADAPTERS[provider].name == provider
    assert provider in Catalog.default().providers
    assert DEFAULT_BASE_URLS[provider] == entry.base_url
    assert (KEY_ENV_VARS[provider], *KEY_ENV_ALIASES.get(provider, ())) == entry.key_env
    assert SANDBOX_KEY_PREFIXES.get(provider) == entry.sandbox_key_prefix
    fake = FAKES[provider]()  # type: ignore[call-arg]
    assert fake.provider == provider and fake.base_url == entry.base_url
    source = ADAPTERS[provider].live_source
    assert (provider in LIVE_SOURCES) is (source is not None)
    if source is not None:
        assert LIVE_SOURCES[provider] is source and source.provider == provider


def test_the_tables_list_exactly_the_registered_providers() -> None:
    assert list(ADAPTERS) == list(PROVIDERS) == list(DEFAULT_BASE_URLS) == list(KEY_ENV_VARS) == list(FAKES)
    assert set(LIVE_SOURCES) <= set(PROVIDERS) and "nobody" not in LIVE_SOURCES
    with pytest.raises(KeyError):
        LIVE_SOURCES["nobody"]


def _strings(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs]


def test_no_code_outside_a_providers_own_modules_names_a_provider() -> None:
    # the proof that a provider is its adapter module, catalog data, fake and one registry row:
    # a table, check or branch keyed by a provider's name anywhere else would show up here
    own = {f.format(p=p) for p in PROVIDERS for f in OWN_FILES}
    found = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR).as_posix()
        if rel in own or rel in NAMED_ON_PURPOSE or "__pycache__" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if not any(f'"{p}"' in text or f"'{p}'" in text for p in PROVIDERS):
            continue  # no quoted name at all: nothing to parse
        found += [f"{rel}:{line}: {value!r}" for line, value in _strings(path) if value in PROVIDERS]
    assert found == []


def _fourth_provider(soak_jobs: int) -> dict[str, object]:
    script = Path(__file__).with_name("fourth_provider.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(script.parent), str(PACKAGE_DIR.parent)])}
    done = subprocess.run([sys.executable, str(script), str(soak_jobs)], env=env, capture_output=True, text=True,
                          timeout=300, check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_a_fourth_provider_is_an_adapter_its_catalog_data_a_fake_and_one_row() -> None:
    # tests/fourth_provider.py adds "acme" (a Replicate-compatible host) as a new provider would be
    # added, touching nothing else, and drives it: sync and async, ledger, cancel, webhooks
    seen = _fourth_provider(0)
    assert seen["registered"] == {"fakes": ["acme", "clipia", "cliprise", "replicate"],
                                  "base_url": "https://api.acme.example", "key_env": "ACME_TOKEN"}
    assert seen["sample"] == "acme/flux-pro/text-to-image"
    assert seen["run"] == ["succeeded", 1, [28], 1]  # held open by Prefer: wait=28, no poll, key from ACME_TOKEN
    assert seen["cancel"] == "canceled" and seen["webhook"] == [True, "succeeded"]
    assert seen["async_poll"] == "succeeded" and seen["webhook_app"] == [[204], "succeeded"]


@pytest.mark.slow
def test_the_fault_soak_covers_a_fourth_provider_without_naming_it() -> None:
    soak = _fourth_provider(400)["soak"]
    assert isinstance(soak, dict) and "acme" in soak["targets"], soak
    assert soak["acme"].get("succeeded", 0) > 50 and soak["acme"].get("uncertain", 0) > 0, soak
    assert [soak[k] for k in ("lost", "duplicates", "foreign", "overruns", "wrong")] == [0, 0, 0, 0, 0], soak
