"""For every model and task in the catalog: the compiled example validates, every required
field is required, and every constrained parameter refuses a value outside its limits."""

from __future__ import annotations

from typing import Any

import pytest

from genwire import Catalog, InvalidInputError

CATALOG = Catalog.default()
KEYS = [(m.provider, m.id, t) for m in CATALOG.models() for t in m.tasks]


def _example(key: tuple[str, str, str]) -> dict[str, Any]:
    return dict(CATALOG.input_schema(*key)["examples"][0])


def _bad_value(prop: dict[str, Any]) -> Any:
    """A value of the right JSON type that breaks the property's constraint, or None if unconstrained."""
    kind = prop.get("type")
    if "enum" in prop:
        values = prop["enum"]
        if kind == "string":
            return "not-" + "-".join(map(str, values))
        if kind in ("integer", "number"):
            return max(values) + (1 if kind == "integer" else 0.25)
    if "maximum" in prop:
        return prop["maximum"] + 1
    if "minimum" in prop:
        return prop["minimum"] - 1
    if "maxLength" in prop:
        return "x" * (prop["maxLength"] + 1)
    if prop.get("minLength", 0) > 0:
        return ""
    if "maxItems" in prop:
        return [_item(prop)] * (prop["maxItems"] + 1)
    if prop.get("minItems", 0) > 0:
        return []
    if "pattern" in prop:
        return "not a url"
    return None


def _item(prop: dict[str, Any]) -> Any:
    item = prop.get("items", {})
    if item.get("format") == "uri":
        return "https://example.com/item.png"
    if item.get("type") == "object":
        return {k: "x" for k in item.get("required", [])}
    return "x"


REQUIRED = [(key, name) for key in KEYS for name in CATALOG.input_schema(*key).get("required", [])]
CONSTRAINED = [
    (key, name, bad)
    for key in KEYS
    for name, prop in CATALOG.input_schema(*key)["properties"].items()
    if (bad := _bad_value(prop)) is not None
]


@pytest.mark.parametrize("key", KEYS, ids="/".join)
def test_example_input_validates(key: tuple[str, str, str]) -> None:
    example = _example(key)
    assert CATALOG.validate(*key, example).items() >= example.items()


@pytest.mark.parametrize("key", KEYS, ids="/".join)
def test_example_input_holds_exactly_the_required_fields(key: tuple[str, str, str]) -> None:
    assert set(_example(key)) == set(CATALOG.input_schema(*key).get("required", []))


@pytest.mark.parametrize(("key", "name"), REQUIRED, ids=[f"{'/'.join(k)}:{n}" for k, n in REQUIRED])
def test_dropping_a_required_field_is_refused(key: tuple[str, str, str], name: str) -> None:
    example = _example(key)
    del example[name]
    with pytest.raises(InvalidInputError) as info:
        CATALOG.validate(*key, example)
    assert [(v.path, v.message) for v in info.value.violations] == [(f"$.{name}", "is required")]


@pytest.mark.parametrize(("key", "name", "bad"), CONSTRAINED,
                         ids=[f"{'/'.join(k)}:{n}" for k, n, _ in CONSTRAINED])
def test_out_of_range_value_is_refused_with_its_path(key: tuple[str, str, str], name: str, bad: Any) -> None:
    with pytest.raises(InvalidInputError) as info:
        CATALOG.validate(*key, {**_example(key), name: bad})
    assert [v.path for v in info.value.violations] == [f"$.{name}"]


def test_every_constrained_kind_is_exercised() -> None:
    # guards _bad_value against silently skipping: the catalog has enums, ranges, lengths and item limits
    names = {name for _, name, _ in CONSTRAINED}
    assert {"duration", "seed", "prompt", "image_urls", "aspect_ratio", "tier", "dialogue"} <= names
