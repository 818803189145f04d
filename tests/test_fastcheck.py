"""The compiled check must give jsonschema's answer on every schema the catalog emits."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from support import per_task

from genwire import Catalog
from genwire.catalog._families import FAMILIES_FILE_SCHEMA
from genwire.catalog._fastcheck import compile_check
from genwire.catalog._meta import MODEL_FILE_SCHEMA, PROVIDER_FILE_SCHEMA, VOCABULARY_FILE_SCHEMA
from genwire.catalog._translate import build_body
from genwire.catalog._yaml import load_json_yaml
from genwire.testing.strategies import invalid_inputs, valid_inputs

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


@cache
def _instances(kind: str, provider: str, model: str, task: str) -> st.SearchStrategy[Any]:
    """Valid instances, valid ones with one property changed, arbitrary JSON, invalid inputs."""
    valid = _valid(kind, provider, model, task)
    broken = invalid_inputs(provider, model, task).map(lambda case: case[0])
    return st.one_of(valid, _mutations(valid), json_values, broken)


def _valid(kind: str, provider: str, model: str, task: str) -> st.SearchStrategy[Any]:
    """Instances of the schema: valid inputs, or the wire bodies built from them."""
    inputs = valid_inputs(provider, model, task)
    if kind == "input":
        return inputs

    def body(value: dict[str, Any]) -> dict[str, Any]:
        values = CATALOG.validate(provider, model, task, value)
        return build_body(CATALOG.envelope(provider), CATALOG.task(provider, model, task), values,
                          "https://hooks.example.com/x")

    return inputs.map(body)


def _mutations(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid instances with one property, at any depth, replaced, removed or added."""

    def objects(value: Any) -> list[dict[str, Any]]:
        found = [value] if isinstance(value, dict) and value else []
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        for child in children:
            found += objects(child)
        return found

    def mutate(pair: tuple[dict[str, Any], Any, int]) -> Any:
        instance, junk, choice = pair
        changed = copy.deepcopy(instance)
        nodes = objects(changed)
        if not nodes:
            return junk
        node = nodes[choice % len(nodes)]
        key = sorted(node)[choice % len(node)]
        if choice % 3 == 0:
            node[key] = junk
        elif choice % 3 == 1:
            del node[key]
        else:
            node[f"{key}_x"] = junk
        return changed

    return st.tuples(valid, json_values, st.integers(0, 99)).map(mutate)


@pytest.mark.parametrize(("kind", "provider", "model", "task"), SCHEMAS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_compiled_check_agrees_with_jsonschema(kind: str, provider: str, model: str, task: str,
                                               data: st.DataObject) -> None:
    schema = _schema(kind, provider, model, task)
    check = compile_check(schema)
    assert check is not None, "the compiler emitted a keyword outside the fast subset"
    reference = Draft202012Validator(schema).is_valid
    instance = data.draw(_instances(kind, provider, model, task))
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
        ({"type": "string", "enum": ["a", "b"]}, 1, False),  # the type check folds into the enum's
        ({"type": "number", "enum": [1, 2.5]}, True, False),
        ({"type": "integer", "enum": [1, 2.5]}, 2.5, False),
        ({"type": "string", "enum": ["a", 1]}, 1, False),
        ({"type": "string", "minLength": 2, "maxLength": 3, "pattern": "^a"}, "abcd", False),
        ({"type": "string", "minLength": 2, "maxLength": 3, "pattern": "^a"}, "abc", True),
        ({"type": ["string", "null"]}, None, True),
        ({"type": ["string", "null"]}, 0, False),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, 1, False),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, "a", True),
        ({"type": "object", "minProperties": 1}, {}, False),
        ({"type": "object", "minProperties": 1}, {"a": 1}, True),
        ({"type": "array", "uniqueItems": True}, ["a", "b", "a"], False),
        ({"type": "array", "uniqueItems": True}, [1, 1.0], False),
        ({"type": "array", "uniqueItems": True}, [1, True], True),
        ({"type": "array", "uniqueItems": True}, [{"a": [1]}, {"a": [1.0]}], False),
        ({"type": "array", "uniqueItems": False}, ["a", "a"], True),
        ({"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}}, {"ok": 1, "Bad": 2}, False),
        ({"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}}, {"ok": 1}, True),
        ({"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "string"}}, {"a": 1, "b": 1},
         False),
        ({"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "string"}}, {"a": 1, "b": "x"},
         True),
        ({"$defs": {"n": {"type": "integer"}}, "items": {"$ref": "#/$defs/n"}}, [1, "x"], False),
        ({"$defs": {"n": {"type": "integer"}}, "items": {"$ref": "#/$defs/n"}}, [1, 2], True),
        # a recursive definition: a tree of integers
        ({"$defs": {"t": {"type": ["integer", "array"], "items": {"$ref": "#/$defs/t"}}}, "$ref": "#/$defs/t"},
         [1, [2, [3, "x"]]], False),
        ({"$defs": {"t": {"type": ["integer", "array"], "items": {"$ref": "#/$defs/t"}}}, "$ref": "#/$defs/t"},
         [1, [2, [3, 4]]], True),
    ],
)
def test_compiled_check_edge_cases_match_jsonschema(schema: dict[str, Any], instance: Any, valid: bool) -> None:
    check = compile_check(schema)
    assert check is not None
    assert check(instance) is valid
    assert Draft202012Validator(schema).is_valid(instance) is valid


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "patternProperties": {"^x": {}}},
        {"$ref": "https://example.com/other.json"},
        {"$ref": "#/$defs/missing", "$defs": {}},
        {"type": ["string", "url"]},
    ],
)
def test_schema_outside_the_subset_falls_back_to_jsonschema(schema: dict[str, Any]) -> None:
    assert compile_check(schema) is None


#: every catalog file with the meta-schema it is checked against at compile time
_ROOT = Path(__file__).resolve().parent.parent / "catalog"
CATALOG_FILES = [
    pytest.param(path, VOCABULARY_FILE_SCHEMA if path.name == "vocabulary.yaml"
                 else PROVIDER_FILE_SCHEMA if path.name == "_provider.yaml"
                 else FAMILIES_FILE_SCHEMA if path.name == "families.yaml" else MODEL_FILE_SCHEMA,
                 id=path.relative_to(_ROOT).as_posix())
    for path in sorted(_ROOT.rglob("*.yaml"))
]


@pytest.mark.parametrize(("path", "schema"), CATALOG_FILES[:7] + CATALOG_FILES[-1:])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_compiled_meta_schema_check_agrees_with_jsonschema(path: Path, schema: dict[str, Any],
                                                           data: st.DataObject) -> None:
    check = compile_check(schema)
    assert check is not None, "the catalog meta-schema left the fast subset: compiling falls back to jsonschema"
    document = load_json_yaml(path.read_text(encoding="utf-8")).data
    instance = data.draw(_mutations(st.just(document)) | _renamings(document) | json_values)
    assert check(instance) == Draft202012Validator(schema).is_valid(instance)


def _renamings(document: Any) -> st.SearchStrategy[Any]:
    """The document with one of its objects' entries copied under another name (a parameter
    or task named outside ``propertyNames``, a list entry repeated for ``uniqueItems``)."""

    def nodes(value: Any) -> list[Any]:
        found = [value] if isinstance(value, (dict, list)) and value else []
        for child in value.values() if isinstance(value, dict) else value if isinstance(value, list) else []:
            found += nodes(child)
        return found

    def rename(pair: tuple[str, int]) -> Any:
        name, choice = pair
        changed = copy.deepcopy(document)
        node = nodes(changed)[choice % len(nodes(changed))]
        if isinstance(node, list):
            node.append(copy.deepcopy(node[choice % len(node)]))
        else:
            node[name] = copy.deepcopy(node[sorted(node)[choice % len(node)]])
        return changed

    return st.tuples(st.text(max_size=6), st.integers(0, 999)).map(rename)


@pytest.mark.parametrize(("path", "schema"), CATALOG_FILES)
def test_every_catalog_file_passes_the_compiled_meta_schema_check(path: Path, schema: dict[str, Any]) -> None:
    check = compile_check(schema)
    assert check is not None
    assert check(load_json_yaml(path.read_text(encoding="utf-8")).data)
