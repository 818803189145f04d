"""Families: one model offered by several providers, and how a family input travels.

``catalog/families.yaml`` states, per family and task, the family's common input (parameters
in the catalog's parameter format: every member accepts any input valid under it) and how each
member takes an input, as data:

    seedance-2-fast:
      text-to-video:
        params: {prompt: {type: string, required: true}, duration: {type: integer, enum: [4, 8]}}
        members:
          clipia/seedance-2-fast-t2v:
            absent: {generate_audio: false}   # no such parameter: it behaves as false
          cliprise/seedance-2-fast:
            defaults: {duration: 4}           # sent when the input leaves it out

``defaults`` fill a parameter the input leaves out; ``absent`` names a parameter the member
does not have and the value it behaves as (an input giving that value is sent without it;
any other value skips the member, with the reason). The compiler (``compile_families``)
checks the file and the members it names and turns each common input into a JSON Schema;
``genwire.catalog._family_map.map_input`` applies a member's mapping at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._json_schema import input_schema
from ._meta import _PARAM

__all__ = ["FAMILIES_FILE", "FAMILIES_FILE_SCHEMA", "compile_families", "family_schema_path"]

FAMILIES_FILE = "families.yaml"

_MEMBER = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "defaults": {"type": "object"},
        "absent": {"type": "object"},
        "notes": {"type": "array", "items": {"type": "string", "minLength": 1}},
    },
}

FAMILIES_FILE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "genwire catalog families file",
    "type": "object",
    "propertyNames": {"pattern": "^[a-z0-9][a-z0-9.-]*$"},
    "additionalProperties": {
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"pattern": "^[a-z][a-z0-9-]*$"},
        "additionalProperties": {
            "type": "object",
            "additionalProperties": False,
            "required": ["params", "members"],
            "properties": {
                "description": {"type": "string"},
                "params": {"type": "object", "additionalProperties": {"$ref": "#/$defs/param"}},
                "members": {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": {"pattern": "^[a-z0-9]+/[A-Za-z0-9][A-Za-z0-9._-]*$"},
                    "additionalProperties": _MEMBER,
                },
            },
        },
    },
    "$defs": {
        "param": {**_PARAM, "properties": {k: v for k, v in _PARAM["properties"].items()
                                            if k not in ("wire", "transform", "placement", "wire_values")}},
        "item": {**_PARAM, "properties": {k: v for k, v in _PARAM["properties"].items()
                                           if k not in ("wire", "transform", "placement", "wire_values")}},
    },
}


def family_schema_path(family: str, task: str) -> str:
    return f"families/{family}.{task}.input.json"


def compile_families(raw: Mapping[str, Any], models: list[Mapping[str, Any]], schema_base: str,
                     schemas: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The index's ``families`` entry and every problem as ``(field path, message)``; the common
    inputs' JSON Schemas go into ``schemas``."""
    problems: list[tuple[str, str]] = []
    by_family: dict[str, dict[str, Mapping[str, Any]]] = {}
    for m in models:
        if m.get("family"):
            by_family.setdefault(str(m["family"]), {})[f"{m['provider']}/{m['id']}"] = m
    out: dict[str, Any] = {}
    for family, tasks in raw.items():
        members = by_family.get(family)
        if members is None:
            problems.append((f"$.{family}", f"no catalog model belongs to family {family!r}"))
            continue
        entry: dict[str, Any] = {}
        for task_name, task in tasks.items():
            where = f"$.{family}.{task_name}"
            offering = {name for name, m in members.items() if task_name in m["tasks"]}
            named = set(task["members"])
            for name in sorted(named - offering):
                problems.append((f"{where}.members.{name}", f"{name} is not a member of {family!r} offering "
                                                            f"{task_name!r}"))
            for name in sorted(offering - named):
                problems.append((f"{where}.members", f"{name} offers {task_name!r}: say how it takes the input"))
            params = {name: {"wire": name, **spec} for name, spec in task["params"].items()}
            pseudo = {"id": family, "name": "Common input", "provider": "family", "tasks": {}}
            path = family_schema_path(family, task_name)
            schemas[path] = input_schema(pseudo, task_name, {"params": params, "fixed": {}, "model": family},
                                         f"{schema_base}/{path}")
            entry[task_name] = {"schema": path, "params": dict(task["params"]),
                                "members": {name: {"defaults": dict(spec.get("defaults", {})),
                                                   "absent": dict(spec.get("absent", {}))}
                                            for name, spec in task["members"].items()}}
        for name, m in sorted(members.items()):
            for task_name in m["tasks"]:
                if task_name not in entry and not any(p[0].startswith(f"$.{family}.{task_name}") for p in problems):
                    problems.append((f"$.{family}", f"{name} offers {task_name!r}: declare the family's common "
                                                    f"input for it"))
        out[family] = entry
    return out, problems
