"""Packaging facts: a license text matching the metadata, a changelog, one source for the version."""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

import genwire

REPO = Path(__file__).resolve().parent.parent

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    tomllib = None


def test_the_license_file_is_the_mit_text_the_metadata_names() -> None:
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n") and "Permission is hereby granted, free of charge" in text
    metadata = importlib.metadata.metadata("genwire")
    assert metadata["License-Expression"] == "MIT"
    assert "LICENSE" in (metadata.get_all("License-File") or []), "the build does not ship the license text"


def test_the_version_is_written_once_in_genwire_version() -> None:
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert not re.search(r"^version\s*=", pyproject, re.M), "pyproject must not repeat the version"
    if tomllib is not None:
        config = tomllib.loads(pyproject)
        assert "version" in config["project"]["dynamic"]
        assert config["tool"]["hatch"]["version"]["path"] == "genwire/_version.py"
    assert importlib.metadata.version("genwire") == genwire.__version__


def test_the_changelog_has_an_entry_for_the_current_version() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    assert f"## [{genwire.__version__}]" in changelog
