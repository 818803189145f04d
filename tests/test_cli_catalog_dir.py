"""Every command that reads the catalog takes ``--catalog DIR`` or ``GENWIRE_CATALOG``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from genwire import Catalog
from genwire.cli import main
from genwire.testing import FakeServer

MODEL = """\
id: house-image
name: House image
kind: image
output: {kind: image}
tasks:
  text-to-image:
    params:
      prompt: {type: string, required: true, max_length: 100}
      tone: {type: string, enum: [warm, cold], default: warm}
"""


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out), out.getvalue()


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    (root / "cliprise").mkdir()
    (root / "cliprise" / "house-image.yaml").write_text(MODEL, encoding="utf-8")
    return root


def test_models_lists_a_maintainers_model_with_catalog_dir(catalog_dir: Path) -> None:
    code, out = run("models", "--provider", "cliprise", "--catalog", str(catalog_dir))
    assert code == 0 and any(line.split()[2] == "house-image" for line in out.splitlines()[:-1])
    assert "house-image" not in run("models", "--provider", "cliprise")[1]


def test_validate_and_schema_read_the_catalog_named_by_the_environment(
        catalog_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENWIRE_CATALOG", str(catalog_dir))
    code, out = run("validate", "cliprise", "house-image", "--input", '{"prompt": "a fox"}', "--json")
    assert code == 0 and json.loads(out) == {"task": "text-to-image", "input": {"prompt": "a fox", "tone": "warm"}}
    code, out = run("schema", "cliprise", "house-image", "text-to-image")
    assert code == 0 and json.loads(out)["properties"]["tone"]["enum"] == ["warm", "cold"]


def test_run_submits_a_model_of_the_catalog_dir(catalog_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeServer(catalog=Catalog.load(catalog_dir)) as srv:
        monkeypatch.setenv("CLIPRISE_KEY", srv.api_keys["cliprise"])
        code, out = run("run", "cliprise/house-image", "--input", '{"prompt": "a fox"}', "--catalog", str(catalog_dir),
                        "--base-url", f"cliprise={srv.base_urls['cliprise']}", "--poll-interval", "0.01", "--json")
    assert code == 0, out
    job = json.loads(out)
    assert (job["model"], job["status"]) == ("house-image", "succeeded")


def test_validate_keeps_the_positional_json_with_a_deprecation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run("validate", "clipia", "nano-banana-2", '{"prompt": "a fox"}', "--json")
    assert code == 0 and json.loads(out)["task"] == "text-to-image"
    assert "deprecated; use --input" in capsys.readouterr().err
