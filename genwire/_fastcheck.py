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
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def _enum(values: list[Any]) -> Check:
    if all(isinstance(v, str) for v in values):
        allowed = frozenset(values)
        return lambda v: isinstance(v, str) and v in allowed
    return lambda v: any(_same(v, x) for x in values)


def _compile(schema: Any) -> Check:
    if schema is True:
        return lambda v: True
    if schema is False:
        return lambda v: False
    if not isinstance(schema, Mapping):
        raise _Unsupported
    checks: list[Check] = []
    for key, value in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key == "type":
            if not isinstance(value, str) or value not in _TYPES:
                raise _Unsupported
            checks.append(_TYPES[value])
        elif key == "enum":
            checks.append(_enum(list(value)))
        elif key == "const":
            checks.append(lambda v, c=value: _same(v, c))
        elif key in ("minimum", "maximum"):
            if key == "minimum":
                checks.append(lambda v, m=value: not _TYPES["number"](v) or v >= m)
            else:
                checks.append(lambda v, m=value: not _TYPES["number"](v) or v <= m)
        elif key in ("minLength", "maxLength"):
            if key == "minLength":
                checks.append(lambda v, n=value: not isinstance(v, str) or len(v) >= n)
            else:
                checks.append(lambda v, n=value: not isinstance(v, str) or len(v) <= n)
        elif key == "pattern":
            search = re.compile(value).search
            checks.append(lambda v, s=search: not isinstance(v, str) or s(v) is not None)
        elif key in ("minItems", "maxItems"):
            if key == "minItems":
                checks.append(lambda v, n=value: not isinstance(v, list) or len(v) >= n)
            else:
                checks.append(lambda v, n=value: not isinstance(v, list) or len(v) <= n)
        elif key in ("items", "prefixItems"):
            continue  # handled together below
        elif key in ("properties", "required", "additionalProperties"):
            continue  # handled together below
        else:
            raise _Unsupported
    if "items" in schema or "prefixItems" in schema:
        checks.append(_array(schema))
    if "properties" in schema or "required" in schema or "additionalProperties" in schema:
        checks.append(_object(schema))
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(c(v) for c in checks)


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
