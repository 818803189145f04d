"""A compiled yes/no check for the JSON Schema subset the catalog compiler emits.

Validation runs on every submit. python-jsonschema walks the schema on every
call; this module turns the schema into nested closures once, so checking a
valid input costs a few microseconds. It only answers "valid or not": when the
answer is no, the caller asks jsonschema for the full list of violations, so
messages and paths stay jsonschema's. A schema using any keyword outside the
subset is not compiled (``compile_check`` returns None) and jsonschema does all
the work; ``tests/test_fastcheck.py`` holds the two to the same answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Check", "compile_check"]

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "default", "examples", "format"})
_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


class _Unsupported(Exception):
    pass


def _same(a: Any, b: Any) -> bool:
    """JSON equality as jsonschema sees it: 1 == 1.0, but True is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def _enum(values: list[Any]) -> Check:
    if all(isinstance(v, str) for v in values):
        allowed = frozenset(values)
        return lambda v: isinstance(v, str) and v in allowed
    if all(_is_number(v) for v in values):
        numbers = frozenset(values)  # 5 and 5.0 hash alike, as JSON equality wants
        return lambda v: _is_number(v) and v in numbers
    return lambda v: any(_same(v, x) for x in values)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _type(name: Any) -> Check:
    if not isinstance(name, str) or name not in _TYPES:
        raise _Unsupported
    return _TYPES[name]


def _const(value: Any) -> Check:
    return lambda v: _same(v, value)


def _minimum(bound: float) -> Check:
    return lambda v: not _is_number(v) or v >= bound


def _maximum(bound: float) -> Check:
    return lambda v: not _is_number(v) or v <= bound


def _min_length(n: int) -> Check:
    return lambda v: not isinstance(v, str) or len(v) >= n


def _max_length(n: int) -> Check:
    return lambda v: not isinstance(v, str) or len(v) <= n


def _pattern(regex: str) -> Check:
    search = re.compile(regex).search
    return lambda v: not isinstance(v, str) or search(v) is not None


def _min_items(n: int) -> Check:
    return lambda v: not isinstance(v, list) or len(v) >= n


def _max_items(n: int) -> Check:
    return lambda v: not isinstance(v, list) or len(v) <= n


# keyword -> factory of its check; array and object keywords are compiled together below
_KEYWORDS: dict[str, Callable[[Any], Check]] = {
    "type": _type,
    "enum": lambda values: _enum(list(values)),
    "const": _const,
    "minimum": _minimum,
    "maximum": _maximum,
    "minLength": _min_length,
    "maxLength": _max_length,
    "pattern": _pattern,
    "minItems": _min_items,
    "maxItems": _max_items,
}
_ARRAY = frozenset({"items", "prefixItems"})
_OBJECT = frozenset({"properties", "required", "additionalProperties"})


def _compile(schema: Any) -> Check:
    if schema is True:
        return lambda v: True
    if schema is False:
        return lambda v: False
    if not isinstance(schema, Mapping):
        raise _Unsupported
    checks: list[Check] = []
    for key, value in schema.items():
        if key == "type" and _implied_by_enum(value, schema.get("enum")):
            continue  # the enum check already tests the type
        factory = _KEYWORDS.get(key)
        if factory is not None:
            checks.append(factory(value))
        elif key not in _ANNOTATIONS and key not in _ARRAY and key not in _OBJECT:
            raise _Unsupported
    if _ARRAY.intersection(schema):
        checks.append(_array(schema))
    if _OBJECT.intersection(schema):
        checks.append(_object(schema))
    return _all(checks)


def _implied_by_enum(kind: Any, values: Any) -> bool:
    """``type`` is redundant beside an enum whose values all have that type."""
    if not isinstance(values, list) or not values:
        return False
    if kind == "string":
        return all(isinstance(v, str) for v in values)
    if kind == "number":
        return all(_is_number(v) for v in values)
    return False


def _all(checks: list[Check]) -> Check:
    # unrolled for the common short lists: a generator per value costs more than the checks
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        a, b = checks
        return lambda v: a(v) and b(v)
    if len(checks) == 3:
        a, b, c = checks
        return lambda v: a(v) and b(v) and c(v)

    return lambda v: all(check(v) for check in checks)


def _array(schema: Mapping[str, Any]) -> Check:
    prefix = [_compile(s) for s in schema.get("prefixItems", ())]
    rest = _compile(schema["items"]) if "items" in schema else None

    def check(v: Any) -> bool:
        if not isinstance(v, list):
            return True
        for i, item in enumerate(v):
            if i < len(prefix):
                if not prefix[i](item):
                    return False
            elif rest is not None and not rest(item):
                return False
        return True

    return check


def _object(schema: Mapping[str, Any]) -> Check:
    props = {name: _compile(s) for name, s in schema.get("properties", {}).items()}
    required = tuple(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    if extra is not False and extra is not True:
        raise _Unsupported
    closed = extra is False

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for name in required:
            if name not in v:
                return False
        for name, item in v.items():
            sub = props.get(name)
            if sub is None:
                if closed:
                    return False
            elif not sub(item):
                return False
        return True

    return check


def compile_check(schema: Mapping[str, Any]) -> Check | None:
    """A fast validity check for ``schema``, or None when it uses keywords outside the subset."""
    try:
        return _compile(schema)
    except _Unsupported:
        return None
