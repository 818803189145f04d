"""The genwire command: catalog browsing, validation, and the offline demo."""

from __future__ import annotations

import io
import json

import pytest

from genwire import Catalog
from genwire.cli import main


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out), out.getvalue()


def test_models_lists_every_catalog_model_with_a_count() -> None:
    code, out = run("models")
    total = len(Catalog.default().models())
    assert code == 0 and out.splitlines()[-1].startswith(f"{total} models")
    assert len(out.splitlines()) == total + 1


def test_models_filters_by_provider_and_kind() -> None:
    _, out = run("models", "--provider", "clipia", "--kind", "video")
    rows = out.splitlines()[:-1]
    assert rows and all(r.startswith("clipia") and " video " in r for r in rows)


def test_schema_prints_the_wire_schema_as_json() -> None:
    _, out = run("schema", "cliprise", "veo-3-fast", "text-to-video", "--wire")
    assert json.loads(out)["properties"]["generationType"] == {"const": "TEXT_2_VIDEO"}


def test_validate_infers_the_task_and_applies_defaults() -> None:
    _, out = run("validate", "clipia", "seedance-2-fast-i2v", "--input", '{"image_urls": ["https://example.com/a.png"]}')
    assert json.loads(out) == {"task": "image-to-video", "input": {
        "image_urls": ["https://example.com/a.png"], "duration": 4, "resolution": "720p"}}


def test_validate_reports_violations_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("validate", "cliprise", "wan-2-5", "text-to-video", "--input", '{"prompt": "x", "duration": 7}')
    err = capsys.readouterr().err
    assert code == 1 and "$.duration" in err and "$.resolution" in err


def test_demo_runs_every_job_to_success_offline() -> None:
    code, out = run("demo")
    assert code == 0
    assert out.count("succeeded 100%") == 5
    assert out.count("bytes downloaded") == 5
    assert "UnsupportedParameterError" in out and "$.resolution: is required" in out
