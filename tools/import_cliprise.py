"""Draft catalog YAML for Cliprise models from the parsed API reference.

``python -m tools.import_cliprise DOC [--model ID ...] --out DIR`` writes one
``<id>.yaml`` per model page. Drafts are for review: choices the importer could
not make safely carry a ``# TODO review`` comment, and every self-contradiction
of the document becomes a ``notes:`` line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from genwire.catalog._drafting import (
    AUDIO_WIRES,
    CANONICAL_SCALAR_TYPES,
    DESCRIPTIONS,
    IMAGE_WIRES,
    VIDEO_WIRES,
    normalize_enum,
    normalize_name,
    render_yaml,
    snake_case,
)
from tools._cli import ToolError, guard
from tools.cliprise_doc import Discrepancy, DocModel, DocParam, DocVariant, find_discrepancies, read_doc

__all__ = [
    "CANONICAL_SCALAR_TYPES",
    "DESCRIPTIONS",
    "Draft",
    "draft_model",
    "draft_models",
    "main",
    "normalize_enum",
    "normalize_name",
    "render_yaml",
    "snake_case",
]

_SPEC_ORDER = ("wire", "type", "items", "transform", "description", "required", "enum", "wire_values",
               "minimum", "maximum", "max_length", "min_items", "max_items", "notes")
_TASK_DOC = {"TEXT_2_VIDEO": "text-to-video", "FIRST_AND_LAST_FRAMES_2_VIDEO": "frames-to-video",
             "REFERENCE_2_VIDEO": "reference-to-video"}
# Page (title, Model ID) -> catalog id. The two ElevenLabs TTS pages' Model IDs look
# swapped: each page's title and model value name the other page's Model ID.
_ID_OVERRIDES = {("ElevenLabs TTS Turbo", "elevenlabs-tts"): "elevenlabs-tts-turbo",
                 ("ElevenLabs TTS Multi Lang", "elevenlabs-tts-turbo"): "elevenlabs-tts"}
# Model ID -> wire model value, where the page's own value looks copied from another page.
_WIRE_MODEL_OVERRIDES = {"seedance-2": "seedance-2"}

Draft = tuple[dict[str, Any], dict[tuple[str, ...], str]]   # data, comments by key path


# --- names and values --------------------------------------------------------

def _number_type(p: DocParam) -> str:
    nums = [x for x in (p.minimum, p.maximum, p.step) if x is not None]
    if p.step is not None and all(float(x).is_integer() for x in nums):
        return "integer"
    return "number"


# --- one parameter -----------------------------------------------------------

def _param(p: DocParam, sample: Any) -> tuple[str, dict[str, Any], list[str]]:
    """(normalized name, spec, TODO remarks) for one table row."""
    name = normalize_name(p.wire, p.enum or ())
    spec: dict[str, Any] = {}
    todo: list[str] = []
    if name != p.wire:
        spec["wire"] = p.wire
    media = name in ("image_urls", "video_urls", "audio_urls")
    if media:
        spec["type"] = "array"
        spec["items"] = {"type": "url"}
        if p.type != "array" and (p.max_items or 1) <= 1:
            spec["transform"] = "first"
            spec["max_items"] = 1
    elif name in CANONICAL_SCALAR_TYPES:
        spec["type"] = CANONICAL_SCALAR_TYPES[name]
    elif p.type in ("number", "integer"):
        spec["type"] = "number" if p.enum else _number_type(p)
    elif p.type == "string" and p.enum and {str(e) for e in p.enum} <= {"true", "false"}:
        spec["type"] = "boolean"
        todo.append(f"{p.wire} typed string on the wire")
    else:
        spec["type"] = p.type
    if p.type == "string" and spec["type"] in ("integer", "number"):
        spec["transform"] = "to_string"
    if name == "style" and spec["type"] == "number":
        spec["description"] = "Style strength."
    elif desc := DESCRIPTIONS.get(name) or DESCRIPTIONS.get(snake_case(p.wire)):
        spec["description"] = desc
    if p.required:
        spec["required"] = True
    if p.enum and not p.item_enum_key:
        values = [e == "true" if spec["type"] == "boolean" and isinstance(e, str) else e for e in p.enum]
        if spec["type"] != "boolean" or len(set(values)) < 2:
            enum, wire_values = normalize_enum(name, values)
            spec["enum"] = enum
            if wire_values:
                spec["wire_values"] = wire_values
    for key in ("minimum", "maximum"):
        if getattr(p, key) is not None:
            spec[key] = getattr(p, key)
    if p.max_length is not None and spec["type"] == "string":
        spec["max_length"] = p.max_length
    if spec["type"] == "array":
        if p.min_items is not None or p.required:
            spec["min_items"] = p.min_items if p.min_items is not None else 1
        if p.max_items is not None:
            spec["max_items"] = p.max_items
    if spec["type"] == "array" and not media:
        spec["items"] = _object_items(p, sample)
        if p.max_length is not None:
            spec["notes"] = f"doc: at most {p.max_length} characters across all items"
    order = {k: i for i, k in enumerate(_SPEC_ORDER)}
    return name, dict(sorted(spec.items(), key=lambda kv: order[kv[0]])), todo


def _object_items(p: DocParam, sample: Any) -> dict[str, Any]:
    first = sample[0] if isinstance(sample, list) and sample and isinstance(sample[0], dict) else {}
    props: dict[str, Any] = {}
    for key, value in first.items():
        if isinstance(value, list):
            props[key] = {"type": "array", "items": {"type": "url" if key.endswith("urls") else "string"}}
        else:
            props[key] = {"type": "string"}
        if p.item_enum_key:
            props[key]["required"] = True
        if key == p.item_enum_key and p.enum:
            props[key]["enum"] = list(p.enum)
    return {"type": "object", "properties": props}


# --- tasks -------------------------------------------------------------------

def infer_task(model: DocModel, v: DocVariant) -> str:
    wires = {p.wire for p in v.params if p.path not in ("model", "callBackUrl")}
    if gen := v.fixed.get("generationType"):
        return _TASK_DOC.get(str(gen), snake_case(str(gen)).replace("_", "-"))
    if model.kind == "audio":
        if "dialogue" in wires:
            return "dialogue"
        if "voice" in wires:
            return "text-to-speech"
        if "text" in wires:
            return "text-to-sound"
        return "speech-to-text" if wires & {"language_code", "tag_audio_events"} else "audio-isolation"
    if "remove-bg" in model.model_id:
        return "remove-background"
    if "upscal" in model.model_id:
        return "upscale"
    images = wires & IMAGE_WIRES
    if model.kind == "image":
        return "image-to-image" if images else "text-to-image"
    if wires & {"first_frame_url", "firstFrameUrl"}:
        return "frames-to-video"
    if any(w.startswith("reference_") for w in wires):
        return "reference-to-video"
    if wires & AUDIO_WIRES and images:
        return "speech-to-video"
    if wires & VIDEO_WIRES:
        return "motion-control" if any("reference" not in w.lower() for w in images) else "video-to-video"
    return "image-to-video" if images else "text-to-video"


_CHOICES = {
    "model-id": "a tier choice, the first value is the default",
    "no-callback": "the provider's callBackUrl is still sent",
    "placement": "sent under input like the rest (no per-parameter placement)",
    "sample-enum": "the listed values", "sample-range": "the table's range",
    "sample-url": "a URL", "sample-type": "the table's type", "enum-odd": "kept as listed",
    "sample-missing": "the table's parameter", "sample-extra": "the table only",
    "model-row": "the table's model values",
}


def _note(d: Discrepancy, cid: str, page_id: str, wire_model: str | None, slotted: set[str]) -> str:
    if d.kind == "model-id" and cid != page_id:
        choice = f"id {cid}, matching the model field (the two TTS pages' Model IDs look swapped)"
    elif d.kind == "model-id" and wire_model:
        choice = f"sends {wire_model} (the page looks copied from another)"
    elif d.kind == "model-id" and "(one of" not in d.detail:
        choice = "sends the model field's value"
    elif d.kind == "type" and d.path in slotted:
        choice = f"first_frame_url and last_frame_url sent as {d.path}[0] and {d.path}[1]"
    elif d.kind == "type":
        choice = "boolean" if "true/false" in d.detail else "an array of URLs"
    else:
        choice = _CHOICES.get(d.kind, "see review")
    return f"doc: {d.detail}; catalog: {choice}"


# --- one model ---------------------------------------------------------------

def draft_model(model: DocModel) -> Draft:
    """Catalog data for one page, plus ``# TODO review`` comments by key path."""
    cid = _ID_OVERRIDES.get((model.title, model.model_id), model.model_id)
    wire_model = _WIRE_MODEL_OVERRIDES.get(model.model_id)
    comments: dict[tuple[str, ...], str] = {}
    if cid != model.model_id:
        comments[("id",)] = f"TODO review: the page's Model ID is {model.model_id}"
    discrepancies = find_discrepancies(model)
    tasks: dict[str, dict[str, Any]] = {}
    task_params: dict[str, dict[str, dict[str, Any]]] = {}
    for v in model.variants:
        name = infer_task(model, v)
        if name in tasks:
            name = f"{name}-{v.index}"
            comments[("tasks", name)] = "TODO review: two variants map to the same task"
        task: dict[str, Any] = {}
        values = v.model_values or [cid]
        if wire_model:
            task["model"] = wire_model
            comments[("tasks", name, "model")] = f"TODO review: doc sends {', '.join(values)}"
        elif len(values) > 1:
            task["model"] = {"param": "tier", "values": values, "description": "Model tier."}
            comments[("tasks", name, "model")] = "TODO review: tier choice from the model field"
        elif values[0] != cid:
            task["model"] = values[0]
        if v.fixed:
            task["fixed"] = dict(v.fixed)
        samples = v.sample_values()
        params: dict[str, dict[str, Any]] = {}
        slotted: set[str] = set()
        for p in v.params:
            if p.path in ("model", "callBackUrl") or p.wire in v.fixed:
                continue
            pname, spec, todo = _param(p, samples.get(p.path))
            if name == "frames-to-video" and pname == "image_urls" and p.min_items == p.max_items == 2:
                # One wire list of exactly two frames: address its slots.
                for i, frame in enumerate(("first_frame_url", "last_frame_url")):
                    params[frame] = {"wire": f"{p.wire}[{i}]", "type": "url",
                                     "description": DESCRIPTIONS[frame], "required": p.required}
                slotted.add(p.wire)
                continue
            if p.type == "string" and (p.max_items or 0) > 1:
                comments[("tasks", name)] = "TODO review: the doc types this image list as a string"
            if todo:
                comments[("tasks", name)] = "TODO review: " + "; ".join(todo)
            params[pname] = spec
        if v.nesting == "mixed":
            comments[("tasks", name)] = "TODO review: some parameters sit outside input"
        if any(spec.get("wire") in ("imageUrl",) and not spec.get("required") for spec in params.values()):
            comments[("tasks", name)] = "TODO review: the image is optional in this variant"
        notes = [_note(d, cid, model.model_id, wire_model, slotted)
                 for d in discrepancies if d.variant == v.index]
        if notes:
            task["notes"] = list(dict.fromkeys(notes))
        tasks[name] = task
        task_params[name] = params
    return _assemble(model, cid, tasks, task_params, comments)


def _assemble(model: DocModel, cid: str, tasks: dict[str, dict[str, Any]],
              task_params: dict[str, dict[str, dict[str, Any]]],
              comments: dict[tuple[str, ...], str]) -> Draft:
    names = list(tasks)
    first = task_params[names[0]]
    shared = {k: s for k, s in first.items() if all(task_params[t].get(k) == s for t in names)}
    model_notes = [n for n in tasks[names[0]].get("notes", []) if all(n in tasks[t].get("notes", []) for t in names)]
    kinds = {infer_task(model, v) for v in model.variants}
    out_kind = "text" if kinds == {"speech-to-text"} else model.kind
    formats = [] if out_kind == "text" else [f.lower() for f in model.output_formats]
    if out_kind == "text" and model.output_formats:
        model_notes.append(f"doc: catalog table lists {' / '.join(model.output_formats)} output; catalog: text")
    data: dict[str, Any] = {"id": cid, "name": model.title, "kind": model.kind}
    nestings = {v.nesting for v in model.variants}
    if nestings == {"top"}:
        data["placement"] = "top"
    data["output"] = {"kind": out_kind, **({"formats": formats} if formats else {})}
    if model_notes:
        data["notes"] = model_notes
    if shared:
        data["params"] = shared
    data["tasks"] = {}
    for t in names:
        task = dict(tasks[t])
        notes = [n for n in task.pop("notes", []) if n not in model_notes]
        own = {k: s for k, s in task_params[t].items() if k not in shared}
        if own:
            task["params"] = own
        if notes:
            task["notes"] = notes
        data["tasks"][t] = task
    return data, comments


def draft_models(models: Iterable[DocModel]) -> dict[str, str]:
    """Catalog id -> YAML text."""
    out: dict[str, str] = {}
    for m in models:
        data, comments = draft_model(m)
        out[data["id"]] = render_yaml(data, comments)
    return out


# --- YAML rendering ----------------------------------------------------------


# --- CLI ---------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.import_cliprise", description=__doc__.splitlines()[0])
    ap.add_argument("doc")
    ap.add_argument("--model", action="append", default=[], help="page Model ID or catalog id (repeatable)")
    ap.add_argument("--out", required=True, help="directory for <id>.yaml drafts")
    args = ap.parse_args(argv)
    return guard(ap.prog, lambda: _run(args.doc, args.model, args.out))


def _run(doc: str, wanted_ids: list[str], out_dir: str) -> int:
    models = read_doc(doc)
    if wanted_ids:
        wanted = set(wanted_ids)
        models = [m for m in models if m.model_id in wanted
                  or _ID_OVERRIDES.get((m.title, m.model_id)) in wanted]
        missing = wanted - {m.model_id for m in models} - set(_ID_OVERRIDES.values())
        if missing:
            raise ToolError(f"no such model: {', '.join(sorted(missing))}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for cid, text in draft_models(models).items():
        (out / f"{cid}.yaml").write_text(text, encoding="utf-8")
        print(out / f"{cid}.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
