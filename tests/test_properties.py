"""The core property: for every model and task, valid input yields a wire-valid body, and
invalid input is refused at the path the strategy names.

Inputs come from ``genwire.testing.strategies`` (the public strategies, drawn from the
catalog's parameter specs); the input JSON Schema is the independent judge of what they
draw. Parametrised over ``Catalog.default()``, so a model added to the catalog is covered
without touching this file.
"""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from support import per_task

from genwire import Catalog, InvalidInputError, UnsupportedParameterError
from genwire.catalog._translate import build_body
from genwire.testing.strategies import invalid_inputs, valid_inputs

CATALOG = Catalog.default()
KEYS = [(m.provider, m.id, t) for m in CATALOG.models() for t in m.tasks]
#: every task; outside a representative subset they are marked slow (CI runs them all)
TASKS = per_task(CATALOG)
HOOKS = st.none() | st.just("https://hooks.example.com/genwire?job=1")

_QUIET = [HealthCheck.too_slow]
#: the core property gets more examples; the secondary ones fewer, to keep the suite fast
FAST = settings(max_examples=25, deadline=None, suppress_health_check=_QUIET)
FASTER = settings(max_examples=10, deadline=None, suppress_health_check=_QUIET)


@cache
def _validator(key: tuple[str, str, str], kind: str) -> Draft202012Validator:
    get = CATALOG.input_schema if kind == "input" else CATALOG.wire_schema
    return Draft202012Validator(get(*key))


def _errors(key: tuple[str, str, str], kind: str, instance: object) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in _validator(key, kind).iter_errors(instance)]


def test_catalog_is_not_empty() -> None:
    assert len(KEYS) >= 10


@pytest.mark.parametrize("key", TASKS)
@FAST
@given(data=st.data())
def test_valid_input_is_accepted_and_builds_a_wire_valid_body(key: tuple[str, str, str],
                                                              data: st.DataObject) -> None:
    provider, model, task = key
    given_input = data.draw(valid_inputs(*key), label="input")
    webhook = data.draw(HOOKS, label="webhook")
    assert _errors(key, "input", given_input) == []
    values = CATALOG.validate(provider, model, task, given_input)
    body = build_body(CATALOG.envelope(provider), CATALOG.task(provider, model, task), values, webhook)
    assert _errors(key, "wire", body) == []


@pytest.mark.parametrize("key", TASKS)
@FAST
@given(data=st.data())
def test_invalid_input_is_refused_at_the_reported_path(key: tuple[str, str, str], data: st.DataObject) -> None:
    bad, path = data.draw(invalid_inputs(*key), label="bad input")
    assert _errors(key, "input", bad) != [], "the input schema accepts what the strategy calls invalid"
    with pytest.raises(InvalidInputError) as info:
        CATALOG.validate(*key, bad)
    assert path in [v.path for v in info.value.violations]


@pytest.mark.parametrize("key", TASKS)
@FASTER
@given(data=st.data())
def test_validation_only_adds_defaults(key: tuple[str, str, str], data: st.DataObject) -> None:
    provider, model, task = key
    given_input = data.draw(valid_inputs(*key), label="input")
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
    given_input = data.draw(valid_inputs(*key), label="input")
    schema = CATALOG.input_schema(*key)
    name = data.draw(st.from_regex(r"\A[a-z][a-z_]{2,12}\Z").filter(lambda n: n not in schema["properties"]),
                     label="unknown")
    with pytest.raises(UnsupportedParameterError) as info:
        CATALOG.validate(provider, model, task, {**given_input, name: 1})
    assert f"$.{name}" in [v.path for v in info.value.violations]
