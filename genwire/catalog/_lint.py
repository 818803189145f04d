"""Lint rules for one resolved catalog model: what the meta-schema cannot express."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from ..specs import split_slot

__all__ = ["lint_model", "member"]

_PLAIN_KEY = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*$")


def member(key: str) -> str:
    """One JSON path step, spelled as jsonschema spells it: ``.name`` or ``['text-to-image']``."""
    if _PLAIN_KEY.match(key):
        return f".{key}"
    return "['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"


_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "url": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}
# a parameter typed like this is an acceptable spelling of the canonical type
_COMPATIBLE = {"number": {"number", "integer"}, "array": {"array"}, "url": {"url"}}


def _type_ok(kind: str, value: Any) -> bool:
    if isinstance(value, bool) and kind not in ("boolean",):
        return False
    return isinstance(value, _PY_TYPES[kind])


def _check_param(where: str, name: str, spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    kind = spec["type"]
    for value in spec.get("enum", []):
        if not _type_ok(kind, value):
            out.append((f"{where}.enum", f"value {value!r} is not of type {kind}"))
    if len(set(map(repr, spec.get("enum", [])))) != len(spec.get("enum", [])):
        out.append((f"{where}.enum", "repeats a value"))
    if "default" in spec:
        if not _type_ok(kind, spec["default"]):
            out.append((f"{where}.default", f"{spec['default']!r} is not of type {kind}"))
        elif "enum" in spec and spec["default"] not in spec["enum"]:
            out.append((f"{where}.default", f"{spec['default']!r} is not one of the enum values"))
        if spec.get("required"):
            out.append((f"{where}.default", "a required parameter cannot have a default"))
    for key in spec.get("wire_values", {}):
        if "enum" not in spec or key not in map(str, spec["enum"]):
            out.append((f"{where}.wire_values", f"{key!r} is not an enum value"))
    for low, high in (("minimum", "maximum"), ("min_length", "max_length"), ("min_items", "max_items")):
        if low in spec and high in spec and spec[low] > spec[high]:
            out.append((f"{where}.{low}", f"{spec[low]} is above {high} {spec[high]}"))
    if kind not in ("integer", "number") and ("minimum" in spec or "maximum" in spec):
        out.append((f"{where}.minimum", f"a range needs a numeric type, not {kind}"))
    if kind != "array" and ("min_items" in spec or "max_items" in spec or "items" in spec):
        out.append((f"{where}.items", f"item limits need type array, not {kind}"))
    transform = spec.get("transform")
    if transform == "first" and (kind != "array" or spec.get("max_items") != 1):
        out.append((f"{where}.transform", "'first' needs type array with max_items: 1"))
    if transform == "to_string" and kind not in ("integer", "number", "boolean"):
        out.append((f"{where}.transform", f"'to_string' needs a numeric or boolean type, not {kind}"))
    if transform == "to_list" and kind in ("array", "object"):
        out.append((f"{where}.transform", "'to_list' needs a scalar type"))
    return out


def lint_model(entry: Mapping[str, Any], vocab: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every lint problem of a resolved model as (JSON path, message)."""
    out: list[tuple[str, str]] = []
    tasks_known = set(vocab["tasks"])
    canon: Mapping[str, Any] = vocab["params"]
    alias_of = {alias: name for name, c in canon.items() for alias in c.get("aliases", [])}
    for task_name, task in entry["tasks"].items():
        tpath = f"$.tasks{member(task_name)}"
        if task_name not in tasks_known:
            close = difflib.get_close_matches(task_name, sorted(tasks_known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            out.append((tpath, f"task {task_name!r} is not in the vocabulary{hint}"))
        if not task["params"] and not task["fixed"]:
            out.append((f"{tpath}.params", "a task needs at least one parameter"))
        wires: dict[str, str] = {k: "fixed" for k in task["fixed"]}
        choice = task["model"] if isinstance(task["model"], Mapping) else None
        if choice is not None and choice["param"] in task["params"]:
            out.append((f"{tpath}.model.param", f"{choice['param']!r} is also a parameter name"))
        for name, spec in task["params"].items():
            ppath = f"{tpath}.params{member(name)}"
            out.extend(_check_param(ppath, name, spec))
            wire = spec["wire"]
            slot = split_slot(wire)
            if slot is not None and slot[0] in wires:
                out.append((f"{ppath}.wire", f"list {slot[0]!r} is also a plain wire name of {wires[slot[0]]}"))
            if wire in wires:
                out.append((f"{ppath}.wire", f"wire name {wire!r} is also used by {wires[wire]}"))
            wires[wire] = name
            if slot is not None:
                wire = slot[0]
            kind = spec["type"]
            if name in canon:
                want = canon[name]["type"]
                if kind not in _COMPATIBLE.get(want, {want}):
                    out.append((f"{ppath}.type", f"canonical {name!r} is {want}, not {kind}"))
                continue
            near = difflib.get_close_matches(name, list(canon), n=1, cutoff=0.85)
            if near:
                out.append((ppath, f"{name!r} looks like the canonical {near[0]!r}; use it or pick a distinct name"))
            canonical = alias_of.get(wire)
            if canonical is not None:
                want = canon[canonical]["type"]
                compatible = kind in _COMPATIBLE.get(want, {want}) or (
                    want in ("array", "url") and kind in ("url", "string", "array"))
                if compatible:
                    out.append((ppath, f"wire {wire!r} means canonical {canonical!r};"
                                       f" name the parameter {canonical!r}"))
    return out
