"""Hypothesis strategies drawn from the catalog's own parameter specs.

Needs Hypothesis (any current release): ``pip install genwire[testing]``::

    from genwire.testing.strategies import invalid_inputs, requests, valid_inputs

    @given(valid_inputs("cliprise", "veo-3-fast", "text-to-video"))
    def test_accepts(input): ...

    @given(invalid_inputs("cliprise", "veo-3-fast", "text-to-video"))
    def test_refuses(case):
        input, path = case        # path: the JSON path the violation is reported at

Values come from each parameter's spec (type, enum, bounds, lengths, items,
properties, list slots, tier choice), so every valid input is accepted by
``Catalog.validate`` and every invalid one is refused at the path given with it.
Examples shrink toward the required parameters only, each at its simplest
realistic value (a short prompt, an ``https://`` URL, the first enum value).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("genwire.testing.strategies needs Hypothesis: pip install genwire[testing]") from exc

# Test-time only: load what explains invalid input now, not inside the first example
# (the client imports it on demand, which would count against Hypothesis's deadline).
import jsonschema  # noqa: F401

from ..catalog import Catalog
from ..models import GenerationRequest
from ..specs import ParamSpec, TaskSpec

__all__ = ["family_inputs", "invalid_inputs", "requests", "valid_inputs", "value_of"]

Spec = Mapping[str, Any]
Case = tuple[dict[str, Any], str]

#: what a prompt looks like; the first is the shrink target
_PHRASES = (
    "a red fox running through snow",
    "a lighthouse on a cliff at dusk",
    "cinematic close-up",
    "watercolor",
    "slow camera pan to the left",
    "neon city street in the rain",
    "an old sailor telling a story",
    "soft morning light",
)
_HOSTS = ("example.com", "cdn.example.org", "media.example.net")
#: integers and numbers without bounds stay in a range every provider takes
_INT_RANGE = (-(2**31), 2**31 - 1)
_NUM_RANGE = (-1e6, 1e6)


# -- valid values -----------------------------------------------------------------


def _text(spec: Spec) -> st.SearchStrategy[str]:
    low = spec.get("min_length", 0)
    high = spec.get("max_length")

    def fit(text: str) -> str:
        while len(text) < low:
            text = f"{text}, {text}"
        return text if high is None else text[:high]

    phrases = st.lists(st.sampled_from(_PHRASES), min_size=1, max_size=4).map(", ".join)
    # prompt-like text, sometimes with any Unicode after it (never a lone surrogate); shrinks to the first phrase
    tail = st.just("") | st.text(min_size=1, max_size=24)
    return st.builds(str.__add__, phrases, tail).map(fit)


def _url(spec: Spec) -> st.SearchStrategy[str]:
    return st.builds("https://{}/media/{}.{}".format, st.sampled_from(_HOSTS), st.integers(1, 9999),
                     st.sampled_from(("png", "jpg", "webp", "mp4", "mp3")))


def _integer(spec: Spec) -> st.SearchStrategy[int]:
    low = math.ceil(spec["minimum"]) if "minimum" in spec else _INT_RANGE[0]
    high = math.floor(spec["maximum"]) if "maximum" in spec else _INT_RANGE[1]
    if "minimum" not in spec and "maximum" not in spec:
        return st.integers(0, high) | st.integers(low, high)  # shrinks to 0, reaches negatives
    return st.integers(low, high)


def _number(spec: Spec) -> st.SearchStrategy[float | int]:
    low = spec.get("minimum", _NUM_RANGE[0])
    high = spec.get("maximum", _NUM_RANGE[1])
    floats = st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    if spec.get("transform") == "to_string":
        # sent as a decimal string: keep a plain decimal form ("0.5", not "1e-07")
        floats = floats.map(lambda v: round(v, 4)).filter(lambda v: low <= v <= high)
    ints = st.integers(math.ceil(low), math.floor(high)) if math.ceil(low) <= math.floor(high) else st.nothing()
    return ints | floats


def _array(spec: Spec) -> st.SearchStrategy[list[Any]]:
    low = spec.get("min_items", 0)
    if spec.get("transform") == "first":
        low = max(low, 1)
    high = spec.get("max_items", low + 3)
    return st.lists(value_of(spec.get("items", {"type": "string"})), min_size=low, max_size=min(high, low + 3))


def _object(spec: Spec) -> st.SearchStrategy[dict[str, Any]]:
    props: Mapping[str, Spec] = spec.get("properties", {})
    required = {n: value_of(p) for n, p in props.items() if p.get("required")}
    optional = {n: value_of(p) for n, p in props.items() if not p.get("required")}
    return st.fixed_dictionaries(required, optional=optional)


_BY_TYPE: dict[str, Callable[[Spec], st.SearchStrategy[Any]]] = {
    "string": _text,
    "url": _url,
    "integer": _integer,
    "number": _number,
    "boolean": lambda spec: st.booleans(),
    "array": _array,
    "object": _object,
}


def value_of(spec: Spec) -> st.SearchStrategy[Any]:
    """Valid values of one catalog parameter spec (``ParamSpec.spec``, an array's ``items``, ...)."""
    if spec.get("enum"):
        return st.sampled_from(list(spec["enum"]))
    if "properties" in spec:
        return _object(spec)
    return _BY_TYPE[spec["type"]](spec)


# -- valid inputs -------------------------------------------------------------------


def _slot_order(task: TaskSpec) -> dict[str, str]:
    """Parameter -> the parameter filling the previous position of the same wire list."""
    slots: dict[str, list[tuple[int, str]]] = {}
    for p in task.params.values():
        if p.wire_slot is not None:
            slots.setdefault(p.wire_slot[0], []).append((p.wire_slot[1], p.name))
    before: dict[str, str] = {}
    for positions in slots.values():
        ordered = [name for _, name in sorted(positions)]
        before.update(zip(ordered[1:], ordered[:-1], strict=True))
    return before


def _inputs(task: TaskSpec) -> st.SearchStrategy[dict[str, Any]]:
    values = {name: value_of(p.spec) for name, p in task.params.items()}
    if task.choice is not None:
        values[task.choice.param] = st.sampled_from(task.choice.values)
    required = [n for n in values if n in task.required]
    optional = [n for n in values if n not in task.required]
    before = _slot_order(task)

    @st.composite
    def draw(data: st.DrawFn) -> dict[str, Any]:
        out = {name: data(values[name]) for name in required}
        for name in optional:
            # a later position of a wire list only after the earlier one (no hole in the list)
            if (name not in before or before[name] in out) and data(st.booleans()):
                out[name] = data(values[name])
        return out

    return draw()


def valid_inputs(provider: str, model: str, task: str,
                 catalog: Catalog | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Normalized inputs the model's task accepts (defaults not filled in)."""
    return _valid(catalog or Catalog.default(), provider, model, task)


@lru_cache(maxsize=1024)
def _valid(catalog: Catalog, provider: str, model: str, task: str) -> st.SearchStrategy[dict[str, Any]]:
    return _inputs(catalog.task(provider, model, task))


def family_inputs(family: str, task: str, catalog: Catalog | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Inputs valid under a family's common input (``Catalog.family_input_schema``): every member
    offering ``task`` accepts each of them."""
    params: Mapping[str, Spec] = (catalog or Catalog.default())._family_task(family, task)["params"]
    values = {name: value_of(spec) for name, spec in params.items()}
    required = [n for n, spec in params.items() if spec.get("required")]
    optional = [n for n in params if n not in required]

    @st.composite
    def draw(data: st.DrawFn) -> dict[str, Any]:
        out = {name: data(values[name]) for name in required}
        for name in optional:
            if data(st.booleans()):
                out[name] = data(values[name])
        return out

    return draw()


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


# -- invalid values -----------------------------------------------------------------


def _without(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda value: {k: v for k, v in value.items() if k != name}


def _setting(name: str) -> Callable[[tuple[dict[str, Any], Any]], dict[str, Any]]:
    return lambda pair: {**pair[0], name: pair[1]}


def _at(path: str) -> Callable[[dict[str, Any]], Case]:
    return lambda value: (value, path)

_WRONG_TYPE: dict[str, tuple[Any, ...]] = {
    "string": (5, True, ["a fox"]),
    "url": (5, ["https://example.com/a.png"]),
    "integer": ("5", 2.5, True, None),
    "number": ("0.5", True, None),
    "boolean": ("true", 1, None),
    "array": ("https://example.com/a.png", {"url": "x"}),
    "object": ("x", [1]),
}


def _broken(spec: Spec) -> list[tuple[str, st.SearchStrategy[Any]]]:
    """(relative path, values breaking ``spec``) pairs; the path is "" for the value itself,
    ``[0]`` or ``.name`` for a part of it."""
    kind = spec["type"]
    ways: list[tuple[str, st.SearchStrategy[Any]]] = [("", st.sampled_from(_WRONG_TYPE[kind]))]
    enum = spec.get("enum")
    if enum:
        if kind == "string":
            ways.append(("", st.sampled_from(_PHRASES).filter(lambda v: v not in enum)))
        elif kind in ("integer", "number"):
            ways.append(("", st.integers(-1000, 10**6).filter(lambda v: v not in enum)))
    step = 1 if kind == "integer" else 0.5
    if "minimum" in spec:
        ways.append(("", st.integers(1, 1000).map(lambda d: spec["minimum"] - d * step)))
    if "maximum" in spec:
        ways.append(("", st.integers(1, 1000).map(lambda d: spec["maximum"] + d * step)))
    if "max_length" in spec:
        ways.append(("", st.integers(1, 50).map(lambda d: "x" * (spec["max_length"] + d))))
    if spec.get("min_length", 0) > 0:
        ways.append(("", st.integers(0, spec["min_length"] - 1).map(lambda n: "x" * n)))
    if kind == "url":
        ways.append(("", st.sampled_from(("example.com/a.png", "ftp://example.com/a.png", "https://", "a fox"))))
    if kind == "array":
        item = spec.get("items", {"type": "string"})
        low = max(spec.get("min_items", 0), 1 if spec.get("transform") == "first" else 0)
        if "max_items" in spec:
            ways.append(("", st.lists(value_of(item), min_size=spec["max_items"] + 1,
                                      max_size=spec["max_items"] + 2)))
        if low > 0:
            ways.append(("", st.lists(value_of(item), max_size=low - 1)))
        # one item broken, the others valid
        for sub, bad in _broken(item):
            ways.append((f"[0]{sub}", st.tuples(bad, st.lists(value_of(item), min_size=max(low - 1, 0),
                                                                max_size=max(low - 1, 0)))
                         .map(lambda pair: [pair[0], *pair[1]])))
    if "properties" in spec:
        whole = _object(spec)
        for name, prop in spec["properties"].items():
            if prop.get("required"):
                ways.append((f".{name}", whole.map(_without(name))))
            for sub, bad in _broken(prop):
                ways.append((f".{name}{sub}", st.tuples(whole, bad).map(_setting(name))))
        ways.append((".unknown_field", whole.map(lambda obj: {**obj, "unknown_field": 1})))
    return ways


def _param_cases(p: ParamSpec, base: st.SearchStrategy[dict[str, Any]]) -> list[st.SearchStrategy[Case]]:
    return [st.tuples(base, bad).map(_setting(p.name)).map(_at(f"$.{p.name}{sub}")) for sub, bad in _broken(p.spec)]


def invalid_inputs(provider: str, model: str, task: str,
                   catalog: Catalog | None = None) -> st.SearchStrategy[Case]:
    """``(input, path)`` pairs: a valid input broken in one way, and the JSON path
    (``$.name``, ``$.name[0]``, ``$.name[0].field``) of the violation ``Catalog.validate``
    reports for it.

    The ways, each from the parameter's spec: a required parameter dropped, a value of
    the wrong JSON type, a value outside the enum, below the minimum or above the
    maximum, a string too short or too long, a URL that is not ``http(s)://``, too few or
    too many items, one item or object field broken in any of these ways (or a required
    field dropped, an unknown one added), an unknown parameter added, a tier outside its
    choices.
    """
    return _invalid(catalog or Catalog.default(), provider, model, task)


@lru_cache(maxsize=1024)
def _invalid(catalog: Catalog, provider: str, model: str, task: str) -> st.SearchStrategy[Case]:
    spec = catalog.task(provider, model, task)
    base = _valid(catalog, provider, model, task)
    ways: list[st.SearchStrategy[Case]] = []
    for name in sorted(spec.required):
        ways.append(base.map(_without(name)).map(_at(f"$.{name}")))
    for p in spec.params.values():
        ways.extend(_param_cases(p, base))
    if spec.choice is not None:
        tier = spec.choice.param
        ways.append(st.tuples(base, st.just("not-a-tier")).map(_setting(tier)).map(_at(f"$.{tier}")))
    unknown = st.sampled_from(("unknown_param", "aspect_ration", "promt", "image_url_list")).filter(
        lambda name: name not in spec.accepted)
    ways.append(st.tuples(base, unknown).map(lambda pair: ({**pair[0], pair[1]: True}, f"$.{pair[1]}")))
    return st.one_of(ways)
