"""Replicate's published model JSON (``GET /v1/models/{owner}/{name}``) -> catalog model data.

The input schema is the latest version's ``openapi_schema.components.schemas.Input``, as
Cog writes it: properties ordered by ``x-order``, file inputs as ``format: uri`` strings,
choices as ``allOf: [{"$ref": "#/components/schemas/<name>"}]`` pointing at an enum
component (older Cog versions), outputs of streaming models marked ``x-cog-array-type:
iterator``. Each property becomes the descriptor ``_from_clipia.param_spec`` reads, so a
live Replicate model gets the same names, transforms and bounds a live Clipia one does.
Replicate publishes no media kind: it comes from the bundled model serving the same
``owner/name`` (else from the output's shape, image when it cannot tell).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._drafting import MEDIA_PARAMS
from ._from_clipia import param_spec

__all__ = ["input_descriptors", "replicate_to_catalog"]

_REF = re.compile(r"^#/components/schemas/(?P<name>[^/]+)$")
_KINDS = ("image", "video", "audio")
#: the task of a model whose bundled twin does not name one
_TASK = {"image": "text-to-image", "video": "text-to-video", "audio": "text-to-sound"}


def _resolve(prop: Mapping[str, Any], components: Mapping[str, Any]) -> dict[str, Any]:
    """A property with ``allOf``/``$ref`` enum components inlined (Cog's choices)."""
    out = {k: v for k, v in prop.items() if k not in ("allOf", "$ref")}
    refs = [prop] if "$ref" in prop else [p for p in prop.get("allOf") or [] if isinstance(p, Mapping)]
    for ref in refs:
        match = _REF.match(str(ref.get("$ref", "")))
        target = components.get(match["name"]) if match else None
        if not isinstance(target, Mapping):
            raise ValueError(f"unresolvable reference {ref.get('$ref')!r}")
        for key, value in target.items():
            if key not in ("title", "description"):
                out.setdefault(key, value)
    return out


def _descriptor(prop: Mapping[str, Any], required: bool) -> dict[str, Any]:
    """An OpenAPI property as the descriptor ``param_spec`` reads."""
    kind = prop.get("type", "string")
    desc: dict[str, Any] = {"type": "url" if kind == "string" and prop.get("format") == "uri" else kind,
                            "required": required}
    for key in ("enum", "default", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"):
        if key in prop:
            desc[key] = prop[key]
    if isinstance(prop.get("description"), str):
        desc["label"] = prop["description"].strip().split("\n", 1)[0][:200]
    return desc


def input_descriptors(schema: Mapping[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(wire name, descriptor, resolved property) per Input property, in ``x-order``."""
    components = schema.get("components", {}).get("schemas", {}) if isinstance(schema, Mapping) else {}
    inp = components.get("Input") if isinstance(components, Mapping) else None
    if not isinstance(inp, Mapping) or not isinstance(inp.get("properties"), Mapping):
        raise ValueError("the version's openapi_schema has no components.schemas.Input")
    required = {str(r) for r in inp.get("required") or []}
    props = [(str(k), _resolve(v, components)) for k, v in inp["properties"].items() if isinstance(v, Mapping)]
    props.sort(key=lambda kv: kv[1].get("x-order", 1_000_000))
    return [(wire, _descriptor(prop, wire in required), prop) for wire, prop in props]


def _output_kind(schema: Mapping[str, Any]) -> str | None:
    """What the Output schema says about the media kind: nothing but "a URI" in practice."""
    out = schema.get("components", {}).get("schemas", {}).get("Output", {})
    title = str(out.get("title", "")).lower() if isinstance(out, Mapping) else ""
    return next((k for k in _KINDS if k in title), None)


def replicate_to_catalog(model: Mapping[str, Any], *, bundled_id: str | None = None, kind: str | None = None,
                         task: str | None = None, pinned: bool = True,
                         ) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """Catalog model data (and review comments by key path) for one model's JSON.

    ``bundled_id``/``kind``/``task``: the catalog id, media kind and first task of the bundled
    model serving this ``owner/name``, when there is one (Replicate publishes none of them).
    ``pinned``: send the latest version (``owner/name:version`` on ``/v1/predictions``) rather
    than the model endpoint (official models). Raises
    ``ValueError`` for JSON without an owner, a name or a readable latest version.
    """
    owner, name = model.get("owner"), model.get("name")
    latest = model.get("latest_version")
    if not isinstance(owner, str) or not isinstance(name, str) or not owner or not name:
        raise ValueError("the model JSON names no owner/name")
    if not isinstance(latest, Mapping) or not isinstance(latest.get("openapi_schema"), Mapping):
        raise ValueError(f"{owner}/{name}: no latest version with an openapi_schema")
    version = latest.get("id")
    if pinned and not (isinstance(version, str) and re.fullmatch(r"[0-9A-Za-z]+", version)):
        raise ValueError(f"{owner}/{name}: the latest version has no id to pin")
    schema = latest["openapi_schema"]
    comments: dict[tuple[str, ...], str] = {}
    notes = [f"live: GET /v1/models/{owner}/{name}, version {version}"]
    found = kind or _output_kind(schema)
    if found is None:
        found = "image"
        comments[("kind",)] = "TODO review: Replicate publishes no media kind; assumed image"
        notes.append("live: Replicate publishes no media kind; assumed image")
    params: dict[str, Any] = {}
    for wire, desc, prop in input_descriptors(schema):
        pname, spec = param_spec(wire, desc)
        if pname in params:
            comments[("params", pname)] = f"TODO review: {wire} and {params[pname].get('wire', pname)} share a name"
            pname = re.sub(r"[^a-z0-9_]", "_", wire.lower())
        if spec["type"] == "array" and "items" not in spec:
            raw_items = prop.get("items")
            items: Mapping[str, Any] = raw_items if isinstance(raw_items, Mapping) else {}
            item_type = "url" if items.get("format") == "uri" else str(items.get("type") or "string")
            spec = {**spec, "items": {"type": item_type}}
        params[pname] = spec
    media = [n for n in params if n in MEDIA_PARAMS and params[n].get("required")]
    if task is None:
        task = f"image-to-{found}" if media and found in ("video", "image") else _TASK[found]
    model_ref = f"{owner}/{name}:{version}" if pinned else f"{owner}/{name}"
    out: dict[str, Any] = {"id": bundled_id or re.sub(r"[^A-Za-z0-9._-]", "-", name), "name": str(name),
                           "kind": found, "output": {"kind": found}, "notes": notes,
                           "tasks": {task: {"model": model_ref, **({"params": params} if params else {})}}}
    return out, comments
