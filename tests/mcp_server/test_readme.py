"""README's "Agents (MCP)" Python snippet runs as written and prints what its comments promise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent.parent / "README.md"


def test_the_agents_snippet_runs_and_prints_what_it_promises(capsys: pytest.CaptureFixture[str]) -> None:
    found = re.search(r"## Agents \(MCP\)\n.*?```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert found, "README has no python block under 'Agents (MCP)'"
    exec(compile(found.group(1), str(README), "exec"), {})
    promised = re.findall(r"# -> (\S+)$", found.group(1), re.M)
    assert promised == ["queued", "spending_guard"]
    assert capsys.readouterr().out.split() == promised
