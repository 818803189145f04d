"""Parameter specs -> JSON Schema: the normalized input schema and the wire body schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..specs import split_slot
from ._translate import _wire_scalar, to_wire_value

__all__ = ["URL_PATTERN", "example_input", "input_schema", "param_schema", "to_wire_value", "wire_schema"]

DRAFT = "https://json-schema.org/draft/2020-12/schema"
URL_PATTERN = r"^https?://\S+$"

_RANGE_KEYS = (
    ("minimum", "minimum"),
    ("maximum", "maximum"),
    ("min_length", "minLength"),
    ("max_length", "maxLength"),
    ("min_items", "minItems"),
    ("max_items", "maxItems"),
)


def param_schema(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The normalized JSON Schema of one parameter (or array item / object property)."""
    out: dict[str, Any] = {}
    if spec.get("description"):
        out["description"] = spec["description"]
    kind = spec["type"]
    if kind == "url":
        out.update(type="string", format="uri", pattern=URL_PATTERN)
    else:
        out["type"] = kind
    if "enum" in spec:
        out["enum"] = list(spec["enum"])
    for ours, theirs in _RANGE_KEYS:
        if ours in spec:
            out[theirs] = spec[ours]
    if spec.get("transform") == "first" and "min_items" not in spec:
        out["minItems"] = 1  # an empty list has no element to send
    if kind == "array":
        out["items"] = param_schema(spec.get("items", {"type": "string"}))
    if kind == "object" or "properties" in spec:
        props = spec.get("properties", {})
        out["properties"] = {name: param_schema(p) for name, p in props.items()}
        required = [name for name, p in props.items() if p.get("required")]
        if required:
            out["required"] = required
        out["additionalProperties"] = False
    if "default" in spec:
        out["default"] = spec["default"]
    if "examples" in spec:
        out["examples"] = list(spec["examples"])
    return out


def _wire_param_schema(spec: Mapping[str, Any]) -> dict[str, Any]:
    transform = spec.get("transform")
    if transform == "first":
        return _wire_param_schema({**spec.get("items", {"type": "string"}), "description": spec.get("description")})
    base = param_schema({k: v for k, v in spec.items() if k not in ("default", "examples")})
    if "enum" in spec:
        base["enum"] = [to_wire_value({**spec, "transform": None}, v) for v in spec["enum"]]
    if transform == "to_string":
        out: dict[str, Any] = {k: v for k, v in base.items() if k == "description"}
        out["type"] = "string"
        if "enum" in base:
            out["enum"] = [_wire_scalar(v) for v in base["enum"]]
        elif spec["type"] == "boolean":
            out["enum"] = ["true", "false"]
        else:
            out["pattern"] = r"^-?[0-9]+(\.[0-9]+)?$"
        return out
    if transform == "to_list":
        item = {k: v for k, v in base.items() if k != "description"}
        wrapped: dict[str, Any] = {"type": "array", "items": item, "minItems": 1, "maxItems": 1}
        if "description" in base:
            wrapped = {"description": base["description"], **wrapped}
        return wrapped
    return base


def _title(entry: Mapping[str, Any], task_name: str) -> str:
    return f"{entry['name']} ({entry['provider']}/{entry['id']}) {task_name}"


def _model_choice(task: Mapping[str, Any]) -> Mapping[str, Any] | None:
    model = task["model"]
    return model if isinstance(model, Mapping) else None


def input_schema(entry: Mapping[str, Any], task_name: str, task: Mapping[str, Any], schema_id: str) -> dict[str, Any]:
    props = {name: param_schema(spec) for name, spec in task["params"].items()}
    choice = _model_choice(task)
    if choice is not None:
        props[choice["param"]] = {
            **({"description": choice["description"]} if choice.get("description") else {}),
            "type": "string",
            "enum": list(choice["values"]),
            "default": choice["values"][0],
        }
    required = [name for name, spec in task["params"].items() if spec.get("required")]
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": schema_id,
        "title": _title(entry, task_name),
    }
    if task.get("description"):
        schema["description"] = task["description"]
    schema.update(type="object", properties=props)
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    schema["examples"] = [example_input(task)]
    return schema


def wire_schema(
    entry: Mapping[str, Any],
    task_name: str,
    task: Mapping[str, Any],
    envelope: Mapping[str, Any],
    schema_id: str,
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    required: list[str] = []
    for key, value in task["fixed"].items():
        params[key] = {"const": value}
        required.append(key)
    slots: dict[str, dict[int, tuple[dict[str, Any], bool]]] = {}
    top: dict[str, Any] = {}
    top_required: list[str] = []
    for spec in task["params"].values():
        slot = split_slot(spec["wire"])
        if slot is not None:
            slots.setdefault(slot[0], {})[slot[1]] = (_wire_param_schema(spec), bool(spec.get("required")))
            continue
        # a parameter may sit at the top level of an otherwise nested body
        own_top = task["placement"] == "input" and spec.get("placement") == "top"
        (top if own_top else params)[spec["wire"]] = _wire_param_schema(spec)
        if spec.get("required"):
            (top_required if own_top else required).append(spec["wire"])
    for base, by_index in slots.items():
        ordered = [by_index[i] for i in sorted(by_index)]
        params[base] = {
            "type": "array",
            "prefixItems": [schema for schema, _ in ordered],
            "items": False,
            "minItems": sum(1 for _, req in ordered if req),
        }
        if any(req for _, req in ordered):
            required.append(base)
    body_props: dict[str, Any] = {}
    body_required: list[str] = []
    if envelope["model"] is not None:
        choice = _model_choice(task)
        body_props[envelope["model"]] = {"enum": list(choice["values"])} if choice else {"const": task["model"]}
        body_required.append(envelope["model"])
    body_props[envelope["webhook"]] = {"type": "string", "format": "uri", "pattern": URL_PATTERN}
    if task["placement"] == "input":
        nested: dict[str, Any] = {"type": "object", "properties": params}
        if required:
            nested["required"] = required
        nested["additionalProperties"] = False
        body_props[envelope["input"]] = nested
        body_required.append(envelope["input"])
    else:
        body_props.update(params)
        body_required.extend(required)
    body_props.update(top)
    body_required.extend(top_required)
    return {
        "$schema": DRAFT,
        "$id": schema_id,
        "title": f"{_title(entry, task_name)}: request body",
        "type": "object",
        "properties": body_props,
        "required": body_required,
        "additionalProperties": False,
    }


_PLACEHOLDERS: dict[str, Any] = {
    "string": "a red fox running through snow",
    "url": "https://example.com/input.png",
    "boolean": True,
}


def _example(spec: Mapping[str, Any]) -> Any:
    if spec.get("examples"):
        return spec["examples"][0]
    if "default" in spec:
        return spec["default"]
    if spec.get("enum"):
        return spec["enum"][0]
    kind = spec["type"]
    if kind in ("integer", "number"):
        low = spec.get("minimum", 1)
        return int(low) if kind == "integer" else low
    if kind == "array":
        count = max(spec.get("min_items", 1), 1)
        return [_example(spec.get("items", {"type": "string"})) for _ in range(count)]
    if kind == "object":
        props = spec.get("properties", {})
        return {n: _example(p) for n, p in props.items() if p.get("required")}
    text = _PLACEHOLDERS[kind]
    if kind == "string":
        return text[: spec.get("max_length", len(text))].ljust(spec.get("min_length", 0), "x")
    return text


def example_input(task: Mapping[str, Any]) -> dict[str, Any]:
    """A minimal valid input: every required parameter, nothing else."""
    return {name: _example(spec) for name, spec in task["params"].items() if spec.get("required")}
