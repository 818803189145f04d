"""A compiled yes/no check for the JSON Schema subset the catalog compiler emits.

Validation runs on every submit. python-jsonschema walks the schema on every
call; this module turns the schema into nested closures once, so checking a
valid input costs a few microseconds. It only answers "valid or not": when the
answer is no, the caller asks jsonschema for the full list of violations, so
messages and paths stay jsonschema's. A schema using any keyword outside the
subset is not compiled (``compile_check`` returns None) and jsonschema does all
the work; ``tests/test_fastcheck.py`` holds the two to the same answers.

The catalog's meta-schemas (``_meta.py``) also use ``anyOf``, ``propertyNames``,
``minProperties``, ``uniqueItems``, a list of types, a schema as ``additionalProperties``
and local ``$ref``s into ``$defs`` (recursive ones too), so the compiler checks catalog
files here as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Check", "compile_check"]

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "default", "examples", "format", "$defs"})
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
    if isinstance(name, list) and name and all(isinstance(n, str) and n in _TYPES for n in name):
        kinds = [_TYPES[n] for n in name]
        return lambda v: any(kind(v) for kind in kinds)
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


def _min_properties(n: int) -> Check:
    return lambda v: not isinstance(v, dict) or len(v) >= n


def _unique_items(on: Any) -> Check:
    if on is not True:
        return lambda v: True

    def check(v: Any) -> bool:
        if not isinstance(v, list):
            return True
        if all(isinstance(x, str) for x in v):
            return len(set(v)) == len(v)
        return not any(_same(v[i], v[j]) for i in range(len(v)) for j in range(i + 1, len(v)))

    return check


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
    "minProperties": _min_properties,
    "uniqueItems": _unique_items,
}
_ARRAY = frozenset({"items", "prefixItems"})
_OBJECT = frozenset({"properties", "required", "additionalProperties", "propertyNames"})


class _Root:
    """The document a schema's ``$ref``s point into; each target is compiled once, lazily,
    so a recursive definition (an item whose items are items) compiles."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        self.targets: dict[str, Check] = {}

    def ref(self, ref: Any) -> Check:
        if not isinstance(ref, str) or not ref.startswith("#/$defs/") or "~" in ref or "%" in ref:
            raise _Unsupported
        name = ref[len("#/$defs/"):]
        defs = self.schema.get("$defs")
        if not isinstance(defs, Mapping) or name not in defs or "/" in name:
            raise _Unsupported
        targets = self.targets
        if ref not in targets:
            targets[ref] = _never  # a cycle met while compiling looks the target up when called
            targets[ref] = _compile(defs[name], self)
        return lambda v: targets[ref](v)


def _never(v: Any) -> bool:
    raise AssertionError("a $ref target was called before it was compiled")


def _compile(schema: Any, root: _Root | None = None) -> Check:
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
        elif key == "anyOf":
            if not isinstance(value, list) or not value:
                raise _Unsupported
            checks.append(_any_of([_compile(s, root) for s in value]))
        elif key == "$ref":
            if root is None:
                raise _Unsupported
            checks.append(root.ref(value))
        elif key not in _ANNOTATIONS and key not in _ARRAY and key not in _OBJECT:
            raise _Unsupported
    if _ARRAY.intersection(schema):
        checks.append(_array(schema, root))
    if _OBJECT.intersection(schema):
        checks.append(_object(schema, root))
    return _all(checks)


def _any_of(options: list[Check]) -> Check:
    return lambda v: any(option(v) for option in options)


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


def _array(schema: Mapping[str, Any], root: _Root | None) -> Check:
    prefix = [_compile(s, root) for s in schema.get("prefixItems", ())]
    rest = _compile(schema["items"], root) if "items" in schema else None

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


def _object(schema: Mapping[str, Any], root: _Root | None) -> Check:
    props = {name: _compile(s, root) for name, s in schema.get("properties", {}).items()}
    required = tuple(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    closed = extra is False
    other = None if extra is True or extra is False else _compile(extra, root)
    names = _compile(schema["propertyNames"], root) if "propertyNames" in schema else None

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

    if other is None and names is None:
        return check  # what request schemas use: the loop on the hot path stays this short

    def general(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for name in required:
            if name not in v:
                return False
        for name, item in v.items():
            if names is not None and not names(name):
                return False
            sub = props.get(name)
            if sub is None:
                if closed or (other is not None and not other(item)):
                    return False
            elif not sub(item):
                return False
        return True

    return general


def compile_check(schema: Mapping[str, Any]) -> Check | None:
    """A fast validity check for ``schema``, or None when it uses keywords outside the subset."""
    try:
        return _compile(schema, _Root(schema))
    except _Unsupported:
        return None
