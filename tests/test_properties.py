"""The core property: for every model and task, schema-valid input yields a wire-valid body.

Parametrised over ``Catalog.default()``, so a model added to the catalog is covered
without touching this file.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator
from support import per_task

from genwire import Catalog, InvalidInputError, UnsupportedParameterError
from genwire._translate import build_body

CATALOG = Catalog.default()
KEYS = [(m.provider, m.id, t) for m in CATALOG.models() for t in m.tasks]
#: every task; outside a representative subset they are marked slow (CI runs them all)
TASKS = per_task(CATALOG)
HOOKS = st.none() | st.just("https://hooks.example.com/genwire?job=1")

_QUIET = [HealthCheck.too_slow, HealthCheck.filter_too_much]
#: the core property gets more examples; the secondary ones fewer, to keep the suite fast
FAST = settings(max_examples=15, deadline=None, suppress_health_check=_QUIET)
FASTER = settings(max_examples=6, deadline=None, suppress_health_check=_QUIET)


@cache
def _inputs(key: tuple[str, str, str]) -> st.SearchStrategy[dict[str, Any]]:
    # input schemas are objects, so every drawn value is a dict
    return from_schema(CATALOG.input_schema(*key)).map(_as_dict)


def _as_dict(value: Any) -> dict[str, Any]:
    assert isinstance(value, dict)
    return value


@cache
def _bad_inputs(key: tuple[str, str, str]) -> st.SearchStrategy[dict[str, Any]]:
    return from_schema({"not": CATALOG.input_schema(*key), "type": "object"}).map(_as_dict)


@cache
def _wire_validator(key: tuple[str, str, str]) -> Draft202012Validator:
    return Draft202012Validator(CATALOG.wire_schema(*key))


def test_catalog_is_not_empty() -> None:
    assert len(KEYS) >= 10


@pytest.mark.parametrize("key", TASKS)
@FAST
@given(data=st.data())
def test_schema_valid_input_builds_a_wire_valid_body(key: tuple[str, str, str], data: st.DataObject) -> None:
    provider, model, task = key
    given_input = data.draw(_inputs(key), label="input")
    webhook = data.draw(HOOKS, label="webhook")
    values = CATALOG.validate(provider, model, task, given_input)
    body = build_body(CATALOG.envelope(provider), CATALOG.task(provider, model, task), values, webhook)
    errors = [f"{e.json_path}: {e.message}" for e in _wire_validator(key).iter_errors(body)]
    assert errors == []


@pytest.mark.parametrize("key", TASKS)
@FASTER
@given(data=st.data())
def test_validation_only_adds_defaults(key: tuple[str, str, str], data: st.DataObject) -> None:
    provider, model, task = key
    given_input = data.draw(_inputs(key), label="input")
    values = CATALOG.validate(provider, model, task, given_input)
    assert {k: values[k] for k in given_input} == given_input
    schema = CATALOG.input_schema(*key)
    for name in set(values) - set(given_input):
        assert values[name] == schema["properties"][name]["default"]


@pytest.mark.parametrize("key", TASKS)
@FASTER
@given(data=st.data())
def test_an_unknown_parameter_is_always_refused(key: tuple[str, str, str], data: st.DataObject) -> None:
    provider, model, task = key
    given_input = data.draw(_inputs(key), label="input")
    schema = CATALOG.input_schema(*key)
    name = data.draw(st.from_regex(r"\A[a-z][a-z_]{2,12}\Z").filter(lambda n: n not in schema["properties"]),
                     label="unknown")
    with pytest.raises(UnsupportedParameterError) as info:
        CATALOG.validate(provider, model, task, {**given_input, name: 1})
    assert f"$.{name}" in [v.path for v in info.value.violations]


@pytest.mark.parametrize("key", TASKS)
@FASTER
@given(data=st.data())
def test_invalid_input_is_refused_before_building(key: tuple[str, str, str], data: st.DataObject) -> None:
    # anything the input schema rejects, validate rejects too, with at least one violation
    bad = data.draw(_bad_inputs(key), label="bad input")
    with pytest.raises(InvalidInputError) as info:
        CATALOG.validate(*key, bad)
    assert info.value.violations
