"""Clipia's published model JSON (``GET /v1/models/:model``) -> catalog model data.

The output is the same data a catalog YAML file holds; ``genwire.live`` compiles it with
the catalog compiler, ``tools/import_clipia`` and ``genwire catalog pull`` render it as
YAML for review. Two ``input_schema`` shapes are read: the key -> descriptor map of
reference 003, and ``{"parameters": [{"name": ...}, ...]}`` as the SDK 1.5.0 types it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ._drafting import CANONICAL_SCALAR_TYPES, DESCRIPTIONS, MEDIA_PARAMS, normalize_enum, normalize_name

__all__ = ["GENERATION_KINDS", "clipia_to_catalog", "is_generation_model", "param_spec", "schema_entries"]

#: catalog entries of these types are generation models; the unified catalog also lists text (LLM) models
GENERATION_KINDS = ("image", "video", "audio")

_TYPES = {"string": "string", "str": "string", "text": "string", "number": "number", "float": "number",
          "integer": "integer", "int": "integer", "boolean": "boolean", "bool": "boolean",
          "array": "array", "list": "array", "object": "object", "url": "url"}
_SPEC_ORDER = ("wire", "type", "items", "transform", "description", "required", "default", "enum",
               "wire_values", "minimum", "maximum", "min_length", "max_length", "min_items", "max_items")
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")
_ARRAYS = ("image_urls", "video_urls", "audio_urls")


def is_generation_model(data: Any) -> bool:
    """An entry genwire can submit to: a slug and an image, video or audio type."""
    return (isinstance(data, Mapping) and isinstance(data.get("slug"), str) and bool(data["slug"])
            and data.get("type") in GENERATION_KINDS)


def schema_entries(schema: Any) -> list[tuple[str, dict[str, Any]]]:
    """(wire name, descriptor) pairs from either ``input_schema`` shape, in order."""
    if isinstance(schema, Mapping) and isinstance(schema.get("parameters"), list):
        out = []
        for item in schema["parameters"]:
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                continue
            desc = dict(item)
            if isinstance(desc.get("options"), list):
                desc["enum"] = [o.get("value") if isinstance(o, Mapping) else o for o in desc.pop("options")]
            out.append((str(desc.pop("name")), desc))
        return out
    if isinstance(schema, Mapping):
        return [(str(k), dict(v)) for k, v in schema.items() if isinstance(v, Mapping)]
    raise ValueError("input_schema is neither a descriptor map nor {'parameters': [...]}")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def param_spec(wire: str, desc: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Normalized name and catalog spec for one Clipia input descriptor."""
    enum = desc.get("enum") if isinstance(desc.get("enum"), list) and desc.get("enum") else None
    name = normalize_name(wire, enum or ())
    wire_type = _TYPES.get(str(desc.get("type", "string")).lower(), "string")
    spec: dict[str, Any] = {}
    if name != wire:
        spec["wire"] = wire
    if name in _ARRAYS:
        spec["type"] = "array"
        spec["items"] = {"type": "url"}
        if wire_type != "array":
            spec.update(transform="first", max_items=1)
    elif name in CANONICAL_SCALAR_TYPES:
        canonical = CANONICAL_SCALAR_TYPES[name]
        # a whole-number duration stays an integer (a number the vocabulary allows)
        spec["type"] = "integer" if canonical == "number" and wire_type == "integer" else canonical
    else:
        spec["type"] = wire_type
    numeric_strings = wire_type == "string" and bool(enum) and all(_NUMERIC.match(str(e)) for e in enum or [])
    if spec["type"] in ("number", "integer") and (numeric_strings or (wire_type == "string" and not enum)):
        spec["transform"] = "to_string"
    label = desc.get("label")
    if description := DESCRIPTIONS.get(name) or (label if isinstance(label, str) and label else None):
        spec["description"] = description
    if desc.get("required") is True:
        spec["required"] = True
    if enum:
        values = [json.loads(str(e)) if numeric_strings and spec["type"] != "string" else e for e in enum]
        norm, wire_values = normalize_enum(name, values)
        spec["enum"] = norm
        if wire_values:
            spec["wire_values"] = wire_values
    if desc.get("default") is not None and spec.get("transform") != "first":
        default = desc["default"]
        if spec["type"] in ("number", "integer") and isinstance(default, str) and _NUMERIC.match(default):
            default = json.loads(default)
        reverse = {v: k for k, v in (spec.get("wire_values") or {}).items()}
        spec["default"] = reverse.get(default, default)
    for src, dst in (("min", "minimum"), ("minimum", "minimum"), ("max", "maximum"), ("maximum", "maximum"),
                     ("minLength", "min_length"), ("maxLength", "max_length"),
                     ("minItems", "min_items"), ("maxItems", "max_items")):
        if _number(desc.get(src)) and dst not in spec:
            if dst in ("min_items", "max_items") and spec["type"] != "array":
                continue
            if dst in ("min_length", "max_length") and spec["type"] != "string":
                continue
            spec[dst] = desc[src]
    if spec["type"] == "array" and spec.get("required") and "min_items" not in spec:
        spec["min_items"] = 1
    order = {k: i for i, k in enumerate(_SPEC_ORDER)}
    return name, dict(sorted(spec.items(), key=lambda kv: order.get(kv[0], len(order))))


def _price(pricing: Any, notes: list[str]) -> dict[str, Any] | None:
    if not isinstance(pricing, Mapping):
        return None
    credits = pricing.get("credits")
    per = ""
    if _number(pricing.get("unit_size")) and isinstance(pricing.get("billing_unit"), str):
        per = f"per {pricing['unit_size']:g} {pricing['billing_unit']}"
    if not isinstance(credits, (int, float)) or isinstance(credits, bool) or credits < 0:
        if pricing.get("estimate_required"):
            notes.append("live: the price depends on the input; ask estimate()")
        return None
    note = "; ".join(x for x in (per, pricing.get("note") if isinstance(pricing.get("note"), str) else "") if x)
    return {"credits": credits, **({"note": note} if note else {})}


def _text_limits(limits: Any, params: dict[str, Any]) -> None:
    """TTS ``text_limits`` bound the narration text, which travels in ``input.prompt``."""
    prompt = params.get("prompt")
    if not isinstance(limits, Mapping) or prompt is None or prompt.get("type") != "string":
        return
    for src, dst in (("min_chars", "min_length"), ("max_chars", "max_length")):
        value = limits.get(src)
        if isinstance(value, int) and not isinstance(value, bool) and value >= (0 if src == "min_chars" else 1):
            prompt[dst] = value


def _tasks(caps: list[str], params: dict[str, Any], comments: dict[tuple[str, ...], str]) -> dict[str, Any]:
    """One task per capability. A text-to-X task takes no media input; an image-to-X task
    needs its images (the published schema is shared by every capability of a model)."""
    tasks: dict[str, Any] = {}
    media = [n for n in params if n in MEDIA_PARAMS]
    for cap in caps:
        task: dict[str, Any] = {}
        if len(caps) > 1 and cap.startswith("text-to-") and media:
            task["params"] = {n: None for n in media}
            if any(params[n].get("required") for n in media):
                comments[("tasks", cap)] = "TODO review: the shared schema requires a media input"
        elif len(caps) > 1 and cap.startswith("image-to-") and "image_urls" in params \
                and not params["image_urls"].get("required"):
            spec = dict(params["image_urls"], required=True)
            spec.setdefault("min_items", 1)
            task["params"] = {"image_urls": spec}
        tasks[cap] = task
    return tasks


def clipia_to_catalog(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """Catalog model data (and review comments by key path) for one model's JSON.

    Raises ``ValueError`` for an entry that is not a generation model or has no readable schema.
    """
    if not is_generation_model(data):
        raise ValueError(f"not an image, video or audio model: {str(data.get('slug') or data.get('id'))!r}")
    slug = str(data["slug"])
    kind = str(data["type"])
    params: dict[str, Any] = {}
    comments: dict[tuple[str, ...], str] = {}
    notes: list[str] = []
    for wire, desc in schema_entries(data.get("input_schema") or {}):
        name, spec = param_spec(wire, desc)
        if name in params:
            comments[("params", name)] = f"TODO review: {wire} and {params[name].get('wire', name)} share a name"
            name = re.sub(r"[^a-z0-9_]", "_", wire.lower())
        params[name] = spec
    _text_limits(data.get("text_limits"), params)
    out: dict[str, Any] = {"id": slug, "name": str(data.get("name") or slug), "kind": kind,
                           "output": {"kind": kind}}
    price = _price(data.get("pricing"), notes)
    if price is not None:
        out["price"] = price
    if notes:
        out["notes"] = notes
    if params:
        out["params"] = params
    caps = [str(c) for c in data.get("capabilities") or [] if isinstance(c, str)] or [f"text-to-{kind}"]
    out["tasks"] = _tasks(caps, params, comments)
    return out, comments
