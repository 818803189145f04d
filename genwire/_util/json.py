"""Reading JSON from a provider or a webhook: total, and only values a ``Job`` can hold.

``loads`` raises ``ValueError`` for anything that is not plain JSON: ``NaN``,
``Infinity``, numbers that overflow to infinity, integers too long to convert
and documents nested more than ``MAX_DEPTH`` deep (pydantic cannot serialize a
``Job`` holding a deeper value, and the redaction walks would hit Python's
recursion limit).
Lone surrogate escapes (``"\\ud800"``) become U+FFFD, so every string read here
can be written back as JSON (``Job.model_dump_json()`` refuses surrogates).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_DEPTH", "loads"]

#: the deepest nesting read (the document itself is depth 1)
MAX_DEPTH = 200

# a \uD800-\uDFFF escape: the only way JSON text can spell a lone surrogate
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 overflows to inf
        raise ValueError(f"{text} is out of range")
    return value


def _fix(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_fix(k): _fix(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fix(v) for v in value]
    return value


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
# byte values: ``92 in data`` is a plain memchr, ``b"\\" in data`` is not
_BACKSLASH, _NUL, _OPEN_LIST, _OPEN_OBJECT = b"\\\x00[{"
_WHITESPACE = " \t\n\r"  # JSON's, not str.isspace's


def loads(data: bytes | str) -> Any:
    """Parse JSON strictly (see the module docs); ``ValueError`` (``UnicodeDecodeError``
    included) for anything else."""
    if type(data) is bytes and _BACKSLASH not in data and _NUL not in data:
        # The common reply: UTF-8 (no BOM, no NUL, so json.detect_encoding would say so too)
        # and no escape, so no string can hold a surrogate: decode strictly and parse,
        # skipping detect_encoding, the surrogate scans and JSONDecoder.decode's wrapper.
        # Raw surrogate bytes fail the decode, and leading whitespace or a BOM the scan
        # (StopIteration): both take the long way.
        try:
            text = data.decode()
            value, end = _SCAN(text, 0)  # what JSONDecoder.raw_decode calls
        except (UnicodeDecodeError, StopIteration):
            return _loads(data)
        except RecursionError:
            raise ValueError("the document is nested too deeply") from None
        if end != len(text) and text[end:].strip(_WHITESPACE):
            raise ValueError("extra data after the JSON document")
        # nesting deeper than MAX_DEPTH takes more than MAX_DEPTH openers, and as many closers
        if len(data) > 2 * MAX_DEPTH and data.count(_OPEN_LIST) + data.count(_OPEN_OBJECT) > MAX_DEPTH:
            _check_depth(value)
        return value
    return _loads(data)


def _check_depth(value: Any) -> None:
    """``ValueError`` for a value nested more than ``MAX_DEPTH`` deep (a loop: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"the document is nested more than {MAX_DEPTH} deep")
        inner = item.values() if type(item) is dict else item if type(item) is list else ()
        stack.extend((sub, depth + 1) for sub in inner if type(sub) is dict or type(sub) is list)


def _loads(data: bytes | str) -> Any:
    """``loads`` for any input: what json.loads does with bytes, minus building a decoder per call."""
    encoding = "utf-8" if isinstance(data, str) else json.detect_encoding(data)
    text = data if isinstance(data, str) else data.decode(encoding, "surrogatepass")
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise ValueError("the document is nested too deeply") from None
    if text.count("[") + text.count("{") > MAX_DEPTH:
        _check_depth(value)  # before _fix, which recurses
    if isinstance(data, str) or encoding != "utf-8":
        suspect = _SURROGATE.search(text) is not None or "\\u" in text
    else:  # an escape, or raw surrogate bytes (0xED 0xA0-0xBF) let through by "surrogatepass"
        suspect = _SURROGATE_ESCAPE.search(data) is not None or b"\xed" in data
    return _fix(value) if suspect else value
