"""What every maintainer tool does with bad input: one clear line on stderr and exit status 2."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["ToolError", "guard", "read_json", "read_text"]


class ToolError(Exception):
    """Bad input to a tool; the message is the one line the user sees."""


def read_text(name: str, what: str = "file") -> str:
    """The text of ``name`` (``-``: stdin), or ``ToolError`` saying why it cannot be read."""
    if name == "-":
        return sys.stdin.read()
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise ToolError(f"{name}: is a directory, not a {what}") from None
    except FileNotFoundError:
        raise ToolError(f"{name}: no such {what}") from None
    except UnicodeDecodeError as exc:
        raise ToolError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ToolError(f"{name}: cannot read: {exc.strerror or exc}") from None


def read_json(name: str, what: str = "JSON file") -> Any:
    text = read_text(name, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ToolError(f"{name}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def guard(prog: str, body: Callable[[], int]) -> int:
    """Run a tool's work; a ``ToolError`` becomes ``prog: error: ...`` on stderr and exit status 2."""
    try:
        return body()
    except ToolError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
