"""README.md and docs/*.md are true: every Python snippet runs offline and prints what its comments promise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import ASYNCIO_STRICT, run_pytest

README = Path(__file__).resolve().parent.parent / "README.md"


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


# -- every Python snippet of README.md and docs/*.md runs offline and prints what it promises ---------

ROOT = README.parent
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]
#: a snippet that is a pytest module (its first line names the file) runs under pytest above
_PYTEST_MODULE = re.compile(r"\A# test_\w+\.py\n")
#: the line right before a block that is an interface sketch, not a program
NOT_RUN = "<!-- snippet: a sketch, not run -->"


def _snippets() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M):
            line = text.count("\n", 0, match.start()) + 2
            before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            if before.strip() != NOT_RUN:
                found.append((f"{doc.relative_to(ROOT)}:{line}", match.group(1)))
    return found


SNIPPETS = [(where, code) for where, code in _snippets() if not _PYTEST_MODULE.match(code)]


def _promised(code: str) -> list[str]:
    """The output a snippet promises: each ``# -> LINE`` comment, in order."""
    return [m.group(1).rstrip() for m in re.finditer(r"^[ \t]*# -> ?(.*)$", code, re.M)]


def test_every_doc_with_python_is_checked() -> None:
    assert len(SNIPPETS) >= 10 and {where.split(":")[0] for where, _ in SNIPPETS} >= {"README.md"}
    # README's snippets are all programs; only docs may hold interface sketches
    assert f"\n{NOT_RUN}\n```" not in README.read_text(encoding="utf-8")


@pytest.mark.parametrize(("where", "code"), SNIPPETS, ids=[where for where, _ in SNIPPETS])
def test_every_python_snippet_runs_offline_and_prints_what_it_promises(
        where: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # a snippet that writes files writes them here
    exec(compile(code, where, "exec"), {"__name__": "__snippet__"})
    out = [line.rstrip() for line in capsys.readouterr().out.splitlines()]
    promised = _promised(code)
    # every promised line appears, in order (a snippet may print more than it documents)
    position = 0
    for line in promised:
        assert line in out[position:], f"{where}: promised {line!r}; printed:\n" + "\n".join(out)
        position = out.index(line, position) + 1
