"""Draft a catalog YAML for one Clipia model from its ``GET /v1/models/:model`` JSON.

``python -m tools.import_clipia [FILE|-] [--out DIR]`` reads the JSON (stdin by
default) and writes ``DIR/<slug>.yaml``, or prints it without ``--out``.
Two ``input_schema`` shapes are understood: a key -> descriptor map, and
``{"parameters": [{"name": ..., ...}]}``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from tools.import_cliprise import CANONICAL_SCALAR_TYPES, DESCRIPTIONS, normalize_enum, normalize_name, render_yaml

__all__ = ["clipia_to_catalog", "main", "param_spec", "schema_entries"]

_TYPES = {"string": "string", "str": "string", "text": "string", "number": "number", "float": "number",
          "integer": "integer", "int": "integer", "boolean": "boolean", "bool": "boolean",
          "array": "array", "list": "array", "object": "object", "url": "url"}
_SPEC_ORDER = ("wire", "type", "items", "transform", "description", "required", "default", "enum",
               "wire_values", "minimum", "maximum", "min_length", "max_length", "min_items", "max_items")
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")


def schema_entries(schema: Any) -> list[tuple[str, dict[str, Any]]]:
    """(wire name, descriptor) pairs from either ``input_schema`` shape, in order."""
    if isinstance(schema, dict) and isinstance(schema.get("parameters"), list):
        out = []
        for item in schema["parameters"]:
            desc = dict(item)
            if "options" in desc:
                desc["enum"] = [o["value"] if isinstance(o, dict) else o for o in desc.pop("options")]
            out.append((str(desc.pop("name")), desc))
        return out
    if isinstance(schema, dict):
        return [(str(k), dict(v)) for k, v in schema.items() if isinstance(v, dict)]
    raise ValueError("input_schema is neither a descriptor map nor {'parameters': [...]}")


def param_spec(wire: str, desc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Normalized name and catalog spec for one Clipia input descriptor."""
    enum = desc.get("enum")
    name = normalize_name(wire, enum or ())
    wire_type = _TYPES.get(str(desc.get("type", "string")).lower(), "string")
    spec: dict[str, Any] = {}
    if name != wire:
        spec["wire"] = wire
    if name in ("image_urls", "video_urls", "audio_urls"):
        spec["type"] = "array"
        spec["items"] = {"type": "url"}
        if wire_type != "array":
            spec.update(transform="first", max_items=1)
    elif name in CANONICAL_SCALAR_TYPES:
        spec["type"] = CANONICAL_SCALAR_TYPES[name]
    else:
        spec["type"] = wire_type
    numeric_strings = wire_type == "string" and bool(enum) and all(_NUMERIC.match(str(e)) for e in enum or [])
    if spec["type"] in ("number", "integer") and (numeric_strings or (wire_type == "string" and not enum)):
        spec["transform"] = "to_string"
    label = desc.get("label")
    if description := DESCRIPTIONS.get(name) or (label if isinstance(label, str) and label else None):
        spec["description"] = description
    if desc.get("required"):
        spec["required"] = True
    if enum:
        values = [json.loads(str(e)) if numeric_strings and spec["type"] != "string" else e for e in enum]
        norm, wire_values = normalize_enum(name, values)
        spec["enum"] = norm
        if wire_values:
            spec["wire_values"] = wire_values
    if "default" in desc and desc["default"] is not None and spec.get("transform") != "first":
        default = desc["default"]
        if spec["type"] in ("number", "integer") and isinstance(default, str) and _NUMERIC.match(default):
            default = json.loads(default)
        reverse = {v: k for k, v in (spec.get("wire_values") or {}).items()}
        spec["default"] = reverse.get(default, default)
    for src, dst in (("min", "minimum"), ("minimum", "minimum"), ("max", "maximum"), ("maximum", "maximum"),
                     ("minLength", "min_length"), ("maxLength", "max_length"),
                     ("minItems", "min_items"), ("maxItems", "max_items")):
        if desc.get(src) is not None and dst not in spec:
            if dst in ("min_items", "max_items") and spec["type"] != "array":
                continue
            spec[dst] = desc[src]
    if spec["type"] == "array" and spec.get("required") and "min_items" not in spec:
        spec["min_items"] = 1
    order = {k: i for i, k in enumerate(_SPEC_ORDER)}
    return name, dict(sorted(spec.items(), key=lambda kv: order.get(kv[0], len(order))))


def clipia_to_catalog(data: dict[str, Any]) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """Catalog data (and review comments by key path) for one model's JSON."""
    slug = str(data["slug"])
    kind = str(data.get("type", "image"))
    params: dict[str, Any] = {}
    comments: dict[tuple[str, ...], str] = {}
    for wire, desc in schema_entries(data.get("input_schema") or {}):
        name, spec = param_spec(wire, desc)
        if name in params:
            comments[("params", name)] = f"TODO review: {wire} and {params[name].get('wire', name)} share a name"
            name = re.sub(r"[^a-z0-9_]", "_", wire.lower())
        params[name] = spec
    out: dict[str, Any] = {"id": slug, "name": str(data.get("name") or slug), "kind": kind,
                           "output": {"kind": kind}}
    pricing = data.get("pricing") or {}
    if isinstance(pricing, dict) and pricing.get("credits") is not None:
        out["price"] = {"credits": pricing["credits"], **({"note": pricing["note"]} if pricing.get("note") else {})}
    if params:
        out["params"] = params
    caps = [str(c) for c in data.get("capabilities") or []] or [f"text-to-{kind}"]
    out["tasks"] = {c: {} for c in caps}
    needs_media = any(s.get("required") and n in ("image_urls", "video_urls", "audio_urls", "first_frame_url")
                      for n, s in params.items())
    for c in caps:
        if c.startswith("text-to-") and needs_media:
            comments[("tasks", c)] = "TODO review: shares a required media input with the other tasks"
    return out, comments


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.import_clipia", description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", default="-", help="model JSON (default: stdin)")
    ap.add_argument("--out", help="directory for <slug>.yaml (default: print)")
    args = ap.parse_args(argv)
    raw = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    data, comments = clipia_to_catalog(json.loads(raw))
    text = render_yaml(data, comments)
    if args.out:
        path = Path(args.out) / f"{data['id']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
