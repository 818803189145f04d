"""The README quickstart runs as written and prints what its comments promise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import ASYNCIO_STRICT, run_pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _quickstart() -> str:
    found = re.search(r"## Quickstart.*?```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert found, "README has no Quickstart python block"
    return found.group(1)


def test_quickstart_runs_and_prints_its_violations(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(_quickstart(), str(README), "exec"), {})
    out = capsys.readouterr().out
    promised = re.findall(r"^    # (\$\.\S+ .+)$", _quickstart(), re.M)
    assert promised, "the quickstart documents its violations"
    for line in promised:
        assert line in out


def _block(heading: str) -> str:
    found = re.search(rf"## {re.escape(heading)}\n.*?```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert found, f"README has no python block under {heading!r}"
    return found.group(1)


def test_test_authors_snippet_passes_under_pytest_asyncio_strict(tmp_path: Path) -> None:
    (tmp_path / "test_gateway.py").write_text(_block("For test authors"), encoding="utf-8")
    # fewer Hypothesis examples than the default 100: this checks that the snippet works, not the catalog
    (tmp_path / "conftest.py").write_text("from hypothesis import settings\n"
                                          "settings.register_profile('quick', max_examples=15)\n"
                                          "settings.load_profile('quick')\n", encoding="utf-8")
    proc = run_pytest(tmp_path, *ASYNCIO_STRICT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 passed" in proc.stdout


def test_catalog_maintainers_snippet_prints_the_problems_it_promises(capsys: pytest.CaptureFixture[str]) -> None:
    block = _block("For catalog maintainers")
    exec(compile(block, str(README), "exec"), {})
    out = capsys.readouterr().out.splitlines()
    promised = re.findall(r"^# (cliprise/\S+ .+)$", block, re.M)
    assert len(promised) == 2
    assert out == promised


def test_app_developers_snippet_runs_and_prints_what_it_promises(capsys: pytest.CaptureFixture[str]) -> None:
    block = _block("For app developers")
    exec(compile(block, str(README), "exec"), {})
    out = capsys.readouterr().out
    promised = re.findall(r"^\s*# -> (.+)$", block, re.M)
    assert len(promised) >= 5
    for line in promised:
        assert line in out
