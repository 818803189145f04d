"""The validator seam: JSON Schema in, a function listing violations out.

Everything that validates user input goes through ``compile_validator`` so the
engine behind it can change (a faster validator of the same schemas) without
touching callers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from itertools import chain
from typing import TYPE_CHECKING, Any

from ..errors import Violation
from ._fastcheck import compile_check

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

__all__ = ["Check", "ValidateFn", "compile_checked", "compile_validator", "is_sendable", "json_violations"]

ValidateFn = Callable[[Any], list[Violation]]
#: True for valid input; no explanation
Check = Callable[[Any], bool]

# long enums (voice ids, language codes) are summarized in messages
_ENUM_SHOWN = 8


def _path(err: ValidationError) -> str:
    return err.json_path


def _violations(err: ValidationError) -> list[Violation]:
    base = _path(err)
    schema = err.schema if isinstance(err.schema, Mapping) else {}
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else "?"
        return [Violation(f"{base}.{missing}" if base != "$" else f"$.{missing}", "is required")]
    if err.validator == "additionalProperties" and isinstance(err.instance, Mapping):
        allowed = set(schema.get("properties", {}))
        extra = sorted(k for k in err.instance if k not in allowed)
        hint = f" (accepted: {', '.join(sorted(allowed))})" if allowed else ""
        return [Violation(f"{base}.{k}" if base != "$" else f"$.{k}", f"is not a parameter here{hint}")
                for k in extra]
    values = err.validator_value
    if err.validator == "enum" and isinstance(values, list) and len(values) > _ENUM_SHOWN:
        shown = ", ".join(repr(v) for v in values[:_ENUM_SHOWN])
        return [Violation(base, f"{err.instance!r} is not one of the {len(values)} allowed values"
                                f" ({shown}, ...; the input schema lists them all)")]
    if err.validator == "pattern" and schema.get("format") == "uri":
        return [Violation(base, f"{err.instance!r} is not an http(s) URL")]
    return [Violation(base, err.message)]


def compile_validator(schema: Mapping[str, Any]) -> ValidateFn:
    """Compile ``schema`` once; the returned function lists every violation, sorted by path.

    The compiled check answers the common case (valid input) fast; python-jsonschema
    explains the rare invalid one, and is imported and built only then, so a client
    submitting valid input never loads it.
    """
    return compile_checked(schema)[1]


def compile_checked(schema: Mapping[str, Any]) -> tuple[Check | None, ValidateFn]:
    """``compile_validator(schema)`` and the compiled check inside it (None for a schema it
    cannot compile, which python-jsonschema then checks)."""
    check = compile_check(schema)
    explainer: list[Any] = []

    def reference() -> Any:
        if not explainer:
            from jsonschema import Draft202012Validator

            explainer.append(Draft202012Validator(schema))
        return explainer[0]

    def validate(instance: Any) -> list[Violation]:
        if check is not None:
            if check(instance):
                return []
        elif reference().is_valid(instance):
            return []
        found: list[Violation] = []
        for err in reference().iter_errors(instance):
            found.extend(_violations(err))
        return sorted(set(found), key=lambda v: (v.path, v.message))

    return check, validate


_MAX_DEPTH = 200


def _is_lone_surrogate_free(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_violations(value: Any, path: str = "$") -> list[Violation]:
    """What keeps ``value`` from being sent as JSON: lone surrogates in a string (keys too),
    ``NaN``/``±inf``, and object keys that are not strings. Schemas cannot say these."""
    found: list[Violation] = []
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > _MAX_DEPTH:  # also ends a container that holds itself
            found.append(Violation(where, f"is nested more than {_MAX_DEPTH} levels deep"))
            continue
        if isinstance(item, str):
            if not _is_lone_surrogate_free(item):
                found.append(Violation(where, "holds a lone surrogate (not valid Unicode text)"))
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                found.append(Violation(where, f"{item!r} is not a JSON number"))
        elif isinstance(item, Mapping):
            for key, sub in item.items():
                if not isinstance(key, str):
                    found.append(Violation(f"{where}[{key!r}]", "object keys must be strings"))
                    continue
                if not _is_lone_surrogate_free(key):
                    found.append(Violation(where, f"the key {key.encode('utf-8', 'backslashreplace')!r} "
                                                  "holds a lone surrogate"))
                    continue
                stack.append((sub, f"{where}.{key}", depth + 1))
        elif isinstance(item, (list, tuple)):
            stack.extend((sub, f"{where}[{i}]", depth + 1) for i, sub in enumerate(item))
    return sorted(found, key=lambda v: (v.path, v.message))



def is_sendable(value: Any, depth: int = 0) -> bool:
    """True when ``json_violations(value)`` would find nothing, answered without building a
    path per value; False means "ask ``json_violations``" (it may still find nothing: a type
    this loop does not know, a str subclass, a document near the depth limit). ``depth`` is
    where ``value`` sits in the document being checked."""
    if type(value) is dict and not depth:  # the common input: a flat object of ASCII text and plain numbers
        for key, item in value.items():
            kind = type(item)
            if type(key) is not str or not key.isascii() or not (
                    (kind is str and item.isascii()) or kind is int or kind is bool or item is None):
                break
        else:
            return True
    level = [value]
    while level:
        # a level of the document at a time, in C, while every value on it has one type (a list of
        # dialogue lines: the lines, then their keys and their texts); a mixed level is walked
        kinds = set(map(type, level))
        if len(kinds) != 1 or len(level) > _LEVEL_MAX:  # (a value that holds itself widens every level)
            return _walk_sendable(level, depth)
        kind = kinds.pop()
        if kind is str:
            return "".join(level).isascii() or all(map(_is_lone_surrogate_free, level))
        if kind is int or kind is bool or kind is NoneType:
            return True
        if kind is float:
            return all(map(math.isfinite, level))
        if depth >= _MAX_DEPTH:
            return False
        if kind is dict:
            keys = list(chain.from_iterable(level))
            if keys and (set(map(type, keys)) != _STR or not (
                    "".join(keys).isascii() or all(map(_is_lone_surrogate_free, keys)))):
                return False
            level = list(chain.from_iterable(map(dict.values, level)))
        elif kind is list or kind is tuple:
            level = list(chain.from_iterable(level))
        else:
            return False
        depth += 1
    return True


_STR = {str}
NoneType = type(None)
_LEVEL_MAX = 4096


def _walk_sendable(values: list[Any], depth: int) -> bool:
    """``is_sendable`` for values at ``depth``, one at a time."""
    stack: list[tuple[Any, int]] = [(value, depth) for value in values]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is str:
            if not item.isascii() and not _is_lone_surrogate_free(item):
                return False
        elif kind is int or kind is bool or item is None:
            continue
        elif kind is float:
            if not math.isfinite(item):
                return False
        elif depth >= _MAX_DEPTH:
            return False
        elif kind is dict:
            for key, sub in item.items():
                if type(key) is not str or not (key.isascii() or _is_lone_surrogate_free(key)):
                    return False
                stack.append((sub, depth + 1))
        elif kind is list or kind is tuple:
            stack.extend((sub, depth + 1) for sub in item)
        else:
            return False
    return True
