"""Hypothesis strategies drawn from the catalog's schemas.

Needs the ``testing`` extra: ``pip install genwire[testing]``::

    from genwire.testing.strategies import invalid_inputs, requests, valid_inputs

    @given(valid_inputs("cliprise", "veo-3-fast", "text-to-video"))
    def test_accepts(input): ...

    @given(invalid_inputs("cliprise", "veo-3-fast", "text-to-video"))
    def test_refuses(case):
        input, path = case        # path: the JSON path the violation is reported at
"""

from __future__ import annotations

from typing import Any, cast

try:
    from hypothesis import strategies as st
    from hypothesis_jsonschema import from_schema
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "genwire.testing.strategies needs Hypothesis and hypothesis-jsonschema: pip install genwire[testing]"
    ) from exc

from ..catalog import Catalog
from ..errors import InvalidInputError
from ..models import GenerationRequest

__all__ = ["invalid_inputs", "requests", "valid_inputs"]


def _accepts(catalog: Catalog, provider: str, model: str, task: str, value: dict[str, Any]) -> bool:
    try:
        catalog.validate(provider, model, task, value)
    except InvalidInputError:
        return False
    return True


def valid_inputs(provider: str, model: str, task: str,
                 catalog: Catalog | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Normalized inputs the model's task accepts (defaults not filled in)."""
    cat = catalog or Catalog.default()
    schema = cat.input_schema(provider, model, task)
    # from_schema honours the schema; the filter keeps the catalog's own validator the judge
    objects = cast("st.SearchStrategy[dict[str, Any]]", from_schema(schema))
    return objects.filter(lambda value: _accepts(cat, provider, model, task, value))


def requests(provider: str | None = None, kind: str | None = None,
             catalog: Catalog | None = None) -> st.SearchStrategy[GenerationRequest]:
    """Valid ``GenerationRequest``s across the catalog's models and tasks."""
    cat = catalog or Catalog.default()
    targets = [(s.provider, s.id, t) for s in cat.models(provider=provider, kind=kind) for t in s.tasks]
    if not targets:
        raise ValueError(f"the catalog has no model for provider={provider!r}, kind={kind!r}")

    def build(target: tuple[str, str, str]) -> st.SearchStrategy[GenerationRequest]:
        p, m, t = target
        return valid_inputs(p, m, t, cat).map(
            lambda value: GenerationRequest(provider=p, model=m, task=t, input=value))

    return st.sampled_from(targets).flatmap(build)


def _off_enum(values: list[Any]) -> st.SearchStrategy[Any] | None:
    """Values of the enum's own type that it does not list."""
    if values and all(isinstance(v, str) for v in values):
        return st.text(min_size=1, max_size=12).filter(lambda v: v not in values)
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return st.integers(-10**6, 10**6).filter(lambda v: v not in values)
    return None


def invalid_inputs(provider: str, model: str, task: str,
                   catalog: Catalog | None = None) -> st.SearchStrategy[tuple[dict[str, Any], str]]:
    """``(input, path)`` pairs: a valid input broken in one known way, and the JSON
    path (``$.name``) of the violation ``Catalog.validate`` reports for it.

    The ways: a required parameter dropped, an enum parameter given a value it
    does not list, an unknown parameter added.
    """
    cat = catalog or Catalog.default()
    schema = cat.input_schema(provider, model, task)
    base = valid_inputs(provider, model, task, cat)
    props: dict[str, Any] = schema.get("properties", {})
    ways: list[st.SearchStrategy[tuple[dict[str, Any], str]]] = []

    required = sorted(schema.get("required", []))
    if required:
        ways.append(st.tuples(base, st.sampled_from(required)).map(
            lambda pair: ({k: v for k, v in pair[0].items() if k != pair[1]}, f"$.{pair[1]}")))

    off = {name: s for name, p in props.items()
           if isinstance(p, dict) and isinstance(p.get("enum"), list) and (s := _off_enum(p["enum"])) is not None}
    if off:
        def bad_value(name: str) -> st.SearchStrategy[tuple[dict[str, Any], str]]:
            return st.tuples(base, off[name]).map(lambda pair: ({**pair[0], name: pair[1]}, f"$.{name}"))

        ways.append(st.sampled_from(sorted(off)).flatmap(bad_value))

    if schema.get("additionalProperties") is False:
        unknown = st.from_regex(r"[a-z]{1,8}", fullmatch=True).map(lambda s: f"unknown_{s}").filter(
            lambda name: name not in props)
        ways.append(st.tuples(base, unknown).map(lambda pair: ({**pair[0], pair[1]: True}, f"$.{pair[1]}")))

    if not ways:
        raise ValueError(f"{provider}/{model} {task}: the schema leaves no known way to break an input")
    return st.one_of(ways)
