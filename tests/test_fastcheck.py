"""The compiled check must give jsonschema's answer on every schema the catalog emits."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator
from support import per_task

from genwire import Catalog
from genwire._fastcheck import compile_check

CATALOG = Catalog.default()
#: both schemas of every task; outside a representative subset they are marked slow (CI runs them all)
SCHEMAS = [
    pytest.param(kind, *task.values[0], id=f"{task.id}/{kind}", marks=task.marks)
    for task in per_task(CATALOG)
    for kind in ("input", "wire")
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 100_000) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _schema(kind: str, provider: str, model: str, task: str) -> dict[str, Any]:
    get = CATALOG.input_schema if kind == "input" else CATALOG.wire_schema
    return get(provider, model, task)


def _mutations(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Valid instances with one property replaced, removed or added."""

    def mutate(pair: tuple[dict[str, Any], Any, int]) -> Any:
        instance, junk, choice = pair
        if not isinstance(instance, dict) or not instance:
            return junk
        key = sorted(instance)[choice % len(instance)]
        changed = dict(instance)
        if choice % 3 == 0:
            changed[key] = junk
        elif choice % 3 == 1:
            del changed[key]
        else:
            changed[f"{key}_x"] = junk
        return changed

    return st.tuples(from_schema(schema), json_values, st.integers(0, 99)).map(mutate)


@pytest.mark.parametrize(("kind", "provider", "model", "task"), SCHEMAS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_compiled_check_agrees_with_jsonschema(kind: str, provider: str, model: str, task: str,
                                               data: st.DataObject) -> None:
    schema = _schema(kind, provider, model, task)
    check = compile_check(schema)
    assert check is not None, "the compiler emitted a keyword outside the fast subset"
    reference = Draft202012Validator(schema).is_valid
    instance = data.draw(st.one_of(from_schema(schema), _mutations(schema), json_values))
    assert check(instance) == reference(instance)


@pytest.mark.parametrize(
    ("schema", "instance", "valid"),
    [
        ({"enum": [0, 1]}, True, False),
        ({"enum": [True]}, 1, False),
        ({"enum": [5, 10]}, 5.0, True),
        ({"type": "integer"}, 2.0, True),
        ({"type": "integer"}, True, False),
        ({"type": "number"}, False, False),
        ({"const": "x"}, "x", True),
        ({"type": "array", "prefixItems": [{"type": "string"}], "items": False}, ["a", "b"], False),
        ({"type": "array", "prefixItems": [{"type": "string"}], "items": False, "minItems": 1}, [], False),
        ({"type": "string", "pattern": "^a"}, "ba", False),
        ({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}, {"b": 1}, False),
        ({"type": "object", "required": ["a"]}, {}, False),
    ],
)
def test_compiled_check_edge_cases_match_jsonschema(schema: dict[str, Any], instance: Any, valid: bool) -> None:
    check = compile_check(schema)
    assert check is not None
    assert check(instance) is valid
    assert Draft202012Validator(schema).is_valid(instance) is valid


def test_schema_with_unknown_keyword_falls_back_to_jsonschema() -> None:
    assert compile_check({"type": "object", "patternProperties": {"^x": {}}}) is None
