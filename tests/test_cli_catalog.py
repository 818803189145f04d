"""`genwire models --remote clipia` and `genwire catalog pull clipia DIR` against the fake Clipia."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from genwire import Catalog
from genwire.cli import main
from genwire.testing import FakeClipia, FakeProviders

EXTRA = """\
id: fake-live-image
name: Fake Live Image
kind: image
output: {kind: image}
price: {credits: 7}
tasks:
  text-to-image:
    params:
      prompt: {type: string, required: true, max_length: 50, description: Text prompt.}
      style: {type: string, enum: [photo, anime], default: photo, description: Style preset.}
"""


@pytest.fixture
def fakes(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> FakeProviders:
    root = tmp_path_factory.mktemp("provider")
    (root / "clipia").mkdir()
    (root / "clipia" / "fake-live-image.yaml").write_text(EXTRA)
    fakes = FakeProviders(FakeClipia(Catalog.load(root)))

    def make_client(**kwargs: Any) -> Any:
        kwargs.pop("base_urls", None)
        return fakes.client(**kwargs)

    monkeypatch.setattr("genwire.cli._catalog.make_client", make_client)
    return fakes


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_models_remote_lists_the_live_catalog(fakes: FakeProviders) -> None:
    code, text = run("models", "--remote", "clipia")
    assert code == 0
    assert "fake-live-image" in text and "7 credits" in text and "live models" in text


def test_models_remote_drift_names_what_only_the_live_catalog_has(fakes: FakeProviders) -> None:
    code, text = run("models", "--remote", "clipia", "--drift", "--json")
    doc = json.loads(text)
    assert code == 0 and "clipia/fake-live-image: live, not bundled" in doc["drift"]
    assert {m["id"] for m in doc["models"]} >= {"fake-live-image", "nano-banana-2"}


def test_models_without_remote_still_lists_the_bundled_catalog() -> None:
    code, text = run("models", "--provider", "clipia")
    assert code == 0 and "nano-banana-2" in text and "live" not in text


def test_catalog_pull_writes_yaml_that_compiles(fakes: FakeProviders, tmp_path: Path) -> None:
    target = tmp_path / "clipia"
    code, text = run("catalog", "pull", "clipia", str(target), "--model", "fake-live-image")
    assert code == 0 and text.strip() == f"wrote {target / 'fake-live-image.yaml'}"
    data = yaml.safe_load((target / "fake-live-image.yaml").read_text(encoding="utf-8"))
    assert data["params"]["style"]["enum"] == ["photo", "anime"]
    assert data["notes"][-1].startswith("live: drafted from GET /v1/models/fake-live-image")
    catalog = Catalog.load(tmp_path)
    assert catalog.validate("clipia", "fake-live-image", "text-to-image", {"prompt": "p"}) == {
        "prompt": "p", "style": "photo"}


def test_catalog_pull_of_a_provider_without_a_live_catalog_is_a_usage_error(tmp_path: Path) -> None:
    code, _ = run("catalog", "pull", "cliprise", str(tmp_path))
    assert code == 2
