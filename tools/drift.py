"""Compare the Cliprise catalog YAML with the provider's API reference.

``python -m tools.drift DOC [--catalog catalog/cliprise]`` lists every difference
between the documented request variants and the catalog's tasks. A difference is
*explained* when a note in the catalog speaks to it (see ``_explained``); the exit
status is 1 while any difference is unexplained.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from genwire.catalog._yaml import YamlProblem, load_json_yaml
from genwire.errors import CatalogError
from tools._cli import ToolError, guard
from tools.cliprise_doc import DocModel, DocParam, DocVariant, parse_document, read_doc

__all__ = ["Difference", "Report", "drift_report", "load_catalog", "main"]

# Words that, in a parameter's own note, speak to a kind of difference.
_TOPICS = {
    "required": ("required", "optional"), "enum": ("values", "enum", "lists"),
    "range": ("range", "minimum", "maximum", "outside"), "length": ("characters", "length"),
    "items": ("items", "images", "urls", "array"), "placement": ("top level", "outside input"),
}


@dataclass(frozen=True)
class Difference:
    model: str
    kind: str
    detail: str
    task: str | None = None          # catalog task name
    variant: int | None = None       # doc variant index
    wire: str | None = None
    explained: bool = False

    def __str__(self) -> str:
        where = " ".join(x for x in (
            self.model, f"task {self.task}" if self.task else "",
            f"variant {self.variant}" if self.variant is not None else "", self.wire or "") if x)
        return f"{where}: {self.kind}: {self.detail}"


@dataclass
class Report:
    differences: list[Difference] = field(default_factory=list)

    @property
    def explained(self) -> list[Difference]:
        return [d for d in self.differences if d.explained]

    @property
    def unexplained(self) -> list[Difference]:
        return [d for d in self.differences if not d.explained]

    def format(self) -> str:
        lines = [f"unexplained: {len(self.unexplained)}"]
        lines += [f"  {d}" for d in self.unexplained]
        lines.append(f"explained: {len(self.explained)}")
        lines += [f"  {d}" for d in self.explained]
        return "\n".join(lines) + "\n"


@dataclass
class _CatTask:
    name: str
    models: frozenset[str]
    fixed: dict[str, Any]
    placement: str
    params: dict[str, dict[str, Any]]    # wire name -> merged spec
    notes: list[str]


# --- catalog side ----------------------------------------------------------

def load_catalog(catalog_dir: Path) -> dict[str, dict[str, Any]]:
    """id -> raw model data, for every ``*.yaml`` not starting with ``_``."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(catalog_dir.glob("*.yaml")):
        if not path.name.startswith("_"):
            try:
                data = load_json_yaml(path.read_text(encoding="utf-8")).data
            except (YamlProblem, OSError, UnicodeDecodeError) as exc:
                line = getattr(exc, "line", None)
                raise CatalogError(str(exc), file=str(path), line=line) from None
            if not isinstance(data, dict):
                raise CatalogError("not a model file (a YAML mapping)", file=str(path))
            out[str(data.get("id", path.stem))] = data
    return out


def _tasks(raw: dict[str, Any]) -> list[_CatTask]:
    out = []
    for name, task in (raw.get("tasks") or {}).items():
        task = task or {}
        merged = dict(raw.get("params") or {})
        for key, spec in (task.get("params") or {}).items():
            if spec is None:
                merged.pop(key, None)
            else:
                merged[key] = spec
        model = task.get("model", raw["id"])
        models = frozenset(model["values"]) if isinstance(model, dict) else frozenset([model])
        params: dict[str, dict[str, Any]] = {}
        slots: dict[str, list[dict[str, Any]]] = {}
        for key, spec in merged.items():
            wire = str(spec.get("wire", key))
            if m := re.fullmatch(r"(.+)\[(\d+)\]", wire):
                slots.setdefault(m.group(1), []).append(spec)
            else:
                params[wire] = spec
        for wire, specs in slots.items():
            # Slots of one wire list (imageUrls[0], imageUrls[1]) compare as that list.
            n_required = sum(bool(x.get("required")) for x in specs)
            params[wire] = {"type": "array", "required": n_required > 0, "max_items": len(specs),
                            **({"min_items": n_required} if n_required else {})}
        out.append(_CatTask(name, models, dict(task.get("fixed") or {}),
                            task.get("placement", raw.get("placement", "input")), params,
                            list(task.get("notes") or [])))
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _wire_enum(spec: dict[str, Any]) -> set[str] | None:
    if "enum" not in spec:
        return None
    mapping = spec.get("wire_values") or {}
    return {_text(mapping.get(v, v)) for v in spec["enum"]}


# --- comparison ------------------------------------------------------------

def _doc_params(v: DocVariant) -> dict[str, DocParam]:
    return {p.wire: p for p in v.params if p.path not in ("model", "callBackUrl") and p.wire not in v.fixed}


def _doc_models(m: DocModel, v: DocVariant) -> frozenset[str]:
    return frozenset(v.model_values or [v.sample_model or m.model_id])


def _score(m: DocModel, v: DocVariant, t: _CatTask) -> tuple[int, float]:
    a, b = set(_doc_params(v)), set(t.params)
    jaccard = len(a & b) / len(a | b) if a | b else 1.0
    fixed = {k: _text(x) for k, x in v.fixed.items()} == {k: _text(x) for k, x in t.fixed.items()}
    return (2 * fixed + (_doc_models(m, v) == t.models), jaccard)


def _pair(m: DocModel, tasks: list[_CatTask]) -> tuple[list[tuple[DocVariant, _CatTask]], list[DocVariant],
                                                        list[_CatTask]]:
    cands = sorted(((_score(m, v, t), v.index, i) for v in m.variants for i, t in enumerate(tasks)),
                   key=lambda c: (-c[0][0], -c[0][1], c[1], c[2]))
    pairs: list[tuple[DocVariant, _CatTask]] = []
    used_v: set[int] = set()
    used_t: set[int] = set()
    for (fixed_models, jaccard), vi, ti in cands:
        if vi in used_v or ti in used_t or (fixed_models < 2 and jaccard < 0.5):
            continue
        used_v.add(vi)
        used_t.add(ti)
        pairs.append((m.variants[vi], tasks[ti]))
    return (sorted(pairs, key=lambda p: p[0].index), [v for v in m.variants if v.index not in used_v],
            [t for i, t in enumerate(tasks) if i not in used_t])


def _items(spec: dict[str, Any], doc_min: int | None) -> tuple[Any, Any]:
    low = spec.get("min_items")
    if low == 1 and spec.get("required") and doc_min is None:
        low = None        # "required" already implies at least one item
    if spec.get("type") == "array" and spec.get("transform") != "first":
        return low, spec.get("max_items")
    return low, 1


def _compare_param(p: DocParam, s: dict[str, Any], placement: str) -> Iterable[tuple[str, str]]:
    if p.required != bool(s.get("required", False)):
        flags = ["required" if x else "optional" for x in (p.required, s.get("required"))]
        yield "required", f"doc {flags[0]}, catalog {flags[1]}"
    doc_enum = {_text(e) for e in p.enum} if p.enum is not None else None
    if p.item_enum_key:
        prop = ((s.get("items") or {}).get("properties") or {}).get(p.item_enum_key) or {}
        cat_enum = _wire_enum(prop)
    else:
        cat_enum = _wire_enum(s)
    if doc_enum == {"true", "false"} and cat_enum is None and s.get("type") == "boolean":
        doc_enum = None
    if doc_enum != cat_enum:
        extra = sorted((cat_enum or set()) - (doc_enum or set()))
        missing = sorted((doc_enum or set()) - (cat_enum or set()))
        yield "enum", f"doc has {missing or 'no other values'}, catalog has {extra or 'no other values'}" \
            if doc_enum and cat_enum else f"doc enum {sorted(doc_enum or [])}, catalog enum {sorted(cat_enum or [])}"
    for key in ("minimum", "maximum"):
        if getattr(p, key) != s.get(key):
            yield "range", f"{key}: doc {getattr(p, key)}, catalog {s.get(key)}"
    if p.max_length != s.get("max_length"):
        yield "length", f"max_length: doc {p.max_length}, catalog {s.get('max_length')}"
    if p.max_items is not None or p.type == "array" or s.get("type") == "array":
        doc_items = (p.min_items, p.max_items if p.type == "array" or p.max_items else 1)
        if doc_items != _items(s, p.min_items):
            yield "items", f"min/max items: doc {doc_items}, catalog {_items(s, p.min_items)}"
    if p.top_level != (placement == "top"):
        yield "placement", f"doc {'top level' if p.top_level else 'under input'}, catalog placement {placement}"


def _compare_pair(m: DocModel, v: DocVariant, t: _CatTask) -> Iterable[Difference]:
    base = Difference(m.model_id, "", "", task=t.name, variant=v.index)
    if _doc_models(m, v) != t.models:
        yield replace(base, kind="model-value", wire="model",
                      detail=f"doc {sorted(_doc_models(m, v))}, catalog {sorted(t.models)}")
    doc_fixed = {k: _text(x) for k, x in v.fixed.items()}
    cat_fixed = {k: _text(x) for k, x in t.fixed.items()}
    for key in sorted(doc_fixed.keys() | cat_fixed.keys()):
        if doc_fixed.get(key) != cat_fixed.get(key):
            yield replace(base, kind="fixed", wire=key,
                          detail=f"doc {doc_fixed.get(key)}, catalog {cat_fixed.get(key)}")
    doc = _doc_params(v)
    for wire in sorted(doc.keys() - t.params.keys()):
        yield replace(base, kind="param-missing", wire=wire, detail="documented, not in the catalog")
    for wire in sorted(t.params.keys() - doc.keys()):
        yield replace(base, kind="param-extra", wire=wire, detail="in the catalog, not documented")
    for wire in sorted(doc.keys() & t.params.keys()):
        for kind, detail in _compare_param(doc[wire], t.params[wire], t.params[wire].get("placement", t.placement)):
            yield replace(base, kind=kind, wire=wire, detail=detail)


# --- explanations ----------------------------------------------------------

def _mentions(notes: Iterable[str], words: Iterable[str]) -> bool:
    text = "\n".join(notes)
    return any(re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text, re.I) for w in words if w)


def _explained(d: Difference, raw: dict[str, Any] | None, task: _CatTask | None, keys: list[str]) -> bool:
    """True when the model's or task's notes name the wire parameter (or ``keys``),
    or the parameter's own note speaks to the topic of the difference."""
    if raw is None:
        return False
    notes = list(raw.get("notes") or []) + (task.notes if task else [])
    if _mentions(notes, [d.wire or "", *keys]):
        return True
    spec = task.params.get(d.wire or "") if task else None
    own = [str(spec["notes"])] if spec and spec.get("notes") else []
    return bool(own) and _mentions(own, [d.wire or "", *_TOPICS.get(d.kind, ())])


def drift_report(doc: str | list[DocModel], catalog_dir: Path | str) -> Report:
    """Every difference between the document (its text, or its parsed models) and the catalog folder."""
    parsed = parse_document(doc) if isinstance(doc, str) else doc
    by_id = {m.model_id: m for m in parsed}
    catalog = load_catalog(Path(catalog_dir))
    out: list[Difference] = []
    for mid in sorted(by_id.keys() - catalog.keys()):
        out.append(Difference(mid, "model-missing", "documented, no catalog file"))
    for mid in sorted(catalog.keys() - by_id.keys()):
        d = Difference(mid, "model-extra", "in the catalog, not documented")
        out.append(replace(d, explained=_explained(d, catalog[mid], None, ["not documented", "not in the doc"])))
    for mid in sorted(by_id.keys() & catalog.keys()):
        m, raw = by_id[mid], catalog[mid]
        tasks = _tasks(raw)
        pairs, lone_variants, lone_tasks = _pair(m, tasks)
        for v, t in pairs:
            item_keys = {p.wire: [p.item_enum_key] for p in v.params if p.item_enum_key}
            for d in _compare_pair(m, v, t):
                keys = [*_doc_models(m, v), *t.models] if d.kind == "model-value" else (
                    item_keys.get(d.wire or "", []) if d.kind == "enum" else [])
                out.append(replace(d, explained=_explained(d, raw, t, keys)))
        for v in lone_variants:
            own = [str(x) for x in v.fixed.values()] + sorted(set(_doc_params(v)) - set().union(
                *(set(_doc_params(o)) for o in m.variants if o is not v)))
            d = Difference(mid, "variant-missing", f"documented variant with {sorted(_doc_params(v))}",
                           variant=v.index)
            out.append(replace(d, explained=_explained(d, raw, None, own)))
        for t in lone_tasks:
            d = Difference(mid, "variant-extra", f"catalog task with {sorted(t.params)}", task=t.name)
            out.append(replace(d, explained=_explained(d, raw, t, [t.name])))
    return Report(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.drift", description=__doc__.splitlines()[0])
    ap.add_argument("doc")
    ap.add_argument("--catalog", default="catalog/cliprise")
    args = ap.parse_args(argv)
    return guard(ap.prog, lambda: _run(args.doc, args.catalog))


def _run(doc: str, catalog: str) -> int:
    if not Path(catalog).is_dir():
        raise ToolError(f"{catalog}: no such catalog directory")
    models = read_doc(doc)
    try:
        report = drift_report(models, catalog)
    except CatalogError as exc:
        raise ToolError(str(exc)) from None
    sys.stdout.write(report.format())
    return 1 if report.unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
