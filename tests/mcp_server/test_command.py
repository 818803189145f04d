"""`genwire mcp` as a command: listed by the base install, a clear hint without the SDK, flags checked."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from genwire.cli import build_parser, main

# genwire with the MCP SDK (and its web stack) unimportable, as in a base install
NO_SDK = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("mcp", "starlette", "uvicorn"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Block())
from genwire.cli import main
listed = main(["--help"])
print("exit", listed, main(["mcp"]), sorted(m for m in sys.modules if m.partition(".")[0] == "mcp"))
"""


def test_without_the_sdk_the_command_is_listed_and_says_how_to_install_it() -> None:
    done = subprocess.run([sys.executable, "-c", NO_SDK], capture_output=True, text=True, timeout=60)
    assert " mcp " in done.stdout and done.stdout.splitlines()[-1] == "exit 0 2 []"
    assert done.stderr.strip() == "genwire: genwire mcp needs the MCP SDK: pip install 'genwire[mcp]'"


def test_building_the_parser_imports_no_part_of_the_sdk() -> None:
    probe = "import sys\nfrom genwire.cli import build_parser\nbuild_parser()\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", "import json\n" + probe], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert not [m for m in json.loads(out) if m.partition(".")[0] in ("mcp", "starlette", "uvicorn", "anyio")]


@pytest.mark.parametrize(("argv", "message"), [
    (["mcp", "--http", "127.0.0.1:http"], "--http takes [HOST:]PORT"),
    (["mcp", "--http", "70000"], "out of range"),
    (["mcp", "--token", "t" * 20], "--token is for --http"),
    (["mcp", "--http", "0.0.0.0:0"], "needs a bearer token"),
])
def test_bad_flags_are_one_line_before_anything_starts(argv: list[str], message: str,
                                                       capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENWIRE_MCP_TOKEN", raising=False)
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (1, 2) and message in err and len(err.strip().splitlines()) == 1


def test_the_command_is_registered() -> None:
    assert "mcp" in build_parser().format_help()


def test_a_port_in_use_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code = main(["mcp", "--http", f"127.0.0.1:{taken.getsockname()[1]}"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("genwire: cannot listen on 127.0.0.1:") and len(err.splitlines()) == 1
