"""A plain (non-editable) install of the wheel finds the bundled catalog.

Slow and needs the package index for dependencies, so it runs only when
``GENWIRE_PACKAGING_TEST=1`` (``.ci/run`` sets it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from genwire import Catalog

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(os.environ.get("GENWIRE_PACKAGING_TEST") != "1",
                                reason="set GENWIRE_PACKAGING_TEST=1 to build and install the wheel")

PROBE = """\
import genwire, genwire.catalog
print(len(genwire.Catalog.default().models()))
print(genwire.__file__)
print(genwire.catalog.bundled_paths()[1])
"""


def _run(*args: str | Path, cwd: Path, timeout: float = 300) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(python of a fresh venv with the wheel installed, a scratch cwd outside the repo)."""
    tmp = tmp_path_factory.mktemp("packaging")
    wheels = tmp / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, REPO, cwd=tmp)
    [wheel] = wheels.glob("genwire-*.whl")
    venv = tmp / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _run(python, "-m", "pip", "install", "-q", wheel, cwd=tmp)
    scratch = tmp / "elsewhere"
    scratch.mkdir()
    return python, scratch


def test_wheel_install_finds_the_bundled_catalog(installed: tuple[Path, Path]) -> None:
    python, scratch = installed
    count, module_file, schemas = _run(python, "-c", PROBE, cwd=scratch).splitlines()
    assert int(count) == len(Catalog.default().models())
    assert not Path(module_file).resolve().is_relative_to(REPO), "imported the checkout, not the wheel"
    assert Path(schemas).resolve().parts[-3:] == ("genwire", "_data", "schemas")


def test_wheel_install_validates_without_the_checkout(installed: tuple[Path, Path]) -> None:
    python, scratch = installed
    code = ("import genwire\n"
            "c = genwire.Catalog.default()\n"
            "print(c.validate('clipia', 'seedance-2-fast-i2v', None, {'image_urls': ['https://e.com/a.png']}))\n")
    out = _run(python, "-c", code, cwd=scratch)
    assert "'duration': 4" in out


def test_wheel_install_without_the_mcp_extra_says_how_to_get_it(installed: tuple[Path, Path]) -> None:
    python, scratch = installed
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    done = subprocess.run([str(python), "-m", "genwire", "mcp"], cwd=scratch, env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "genwire: genwire mcp needs the MCP SDK: pip install 'genwire[mcp]'"
