"""Compile catalog YAML into JSON Schemas and the runtime index.

``tools/compile`` writes the result to ``schemas/``; ``Catalog.load`` runs the same
compiler in memory over a maintainer's directory. Output is deterministic: the same
YAML always renders to byte-identical files.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ._lint import lint_model, member
from ._meta import MODEL_FILE_SCHEMA, PROVIDER_FILE_SCHEMA, VOCABULARY_FILE_SCHEMA
from ._schema import input_schema, wire_schema
from .errors import CatalogError

__all__ = [
    "CompiledCatalog",
    "compile_models",
    "INDEX_FORMAT",
    "Problem",
    "compile_catalog",
    "render",
]

INDEX_FORMAT = 1
SCHEMA_BASE = "https://genwire.dev/schemas"


@dataclass(frozen=True)
class Problem:
    file: str
    model: str | None
    field: str
    message: str

    def __str__(self) -> str:
        model = f" model {self.model}" if self.model else ""
        return f"{self.file}:{model} field {self.field}: {self.message}"


@dataclass
class CompiledCatalog:
    index: dict[str, Any]
    #: relative path (``clipia/nano-banana-2/text-to-image.input.json``) -> schema
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)


def _load_yaml(path: Path, problems: list[Problem], file: str | None = None, model: str | None = None) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append(Problem(file or str(path), model, "$", f"not valid YAML: {exc}"))
        return None


def _check(schema: Mapping[str, Any], data: Any, file: str, model: str | None,
           problems: list[Problem]) -> bool:
    found = [where for err in Draft202012Validator(schema).iter_errors(data) for where in _locate(err)]
    for path, message in sorted(found):
        problems.append(Problem(file, model, path, message))
    return not found


def _locate(err: ValidationError) -> list[tuple[str, str]]:
    """(JSON path, message) of one meta-schema error, pointing at the offending field."""
    # anyOf failures (param or null, slug or choice) hide the useful sub-error: take the
    # deepest one, preferring a specific complaint over "is not of type 'null'".
    if err.validator == "anyOf" and err.context:
        return _locate(max(err.context, key=lambda e: (len(e.absolute_path), e.validator != "type")))
    if err.validator == "additionalProperties" and isinstance(err.instance, Mapping):
        schema = err.schema if isinstance(err.schema, Mapping) else {}
        allowed = sorted(schema.get("properties", {}))
        out = []
        for key in err.instance:
            if key in allowed:
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(allowed)})"
            out.append((f"{err.json_path}{member(str(key))}", f"unknown field {key!r}{hint}"))
        if out:
            return out
    return [(err.json_path, str(err.message))]


def _merge_params(common: Mapping[str, Any] | None, own: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = dict(common or {})
    for name, spec in (own or {}).items():
        if spec is None:
            merged.pop(name, None)
        else:
            merged[name] = spec
    return {k: v for k, v in merged.items() if v is not None}


def _resolve_model(provider: str, raw: dict[str, Any]) -> dict[str, Any]:
    """One model file -> the index entry: tasks with merged, explicit parameter specs."""
    tasks: dict[str, Any] = {}
    for task_name, task in raw["tasks"].items():
        task = task or {}
        params = {}
        for name, spec in _merge_params(raw.get("params"), task.get("params")).items():
            params[name] = {"wire": spec.get("wire", name), **{k: v for k, v in spec.items() if k != "wire"}}
        model = task.get("model", raw["id"])
        tasks[task_name] = {
            "model": model,
            "placement": task.get("placement", raw.get("placement", "input")),
            "fixed": task.get("fixed", {}),
            "params": params,
            "description": task.get("description"),
            "notes": task.get("notes", []),
        }
    entry: dict[str, Any] = {
        "provider": provider,
        "id": raw["id"],
        "name": raw["name"],
        "kind": raw["kind"],
        "family": raw.get("family"),
        "output": raw["output"],
        "price": raw.get("price"),
        "notes": raw.get("notes", []),
        "tasks": tasks,
    }
    return entry


def read_vocabulary(path: Path) -> dict[str, Any]:
    problems: list[Problem] = []
    data = _load_yaml(path, problems)
    if data is not None:
        _check(VOCABULARY_FILE_SCHEMA, data, str(path), None, problems)
    if problems:
        raise CatalogError("\n".join(map(str, problems)), file=str(path))
    return dict(data)


def compile_catalog(
    root: Path,
    *,
    vocabulary: Mapping[str, Any] | None = None,
    providers: Mapping[str, Mapping[str, Any]] | None = None,
    relative_to: Path | None = None,
) -> tuple[CompiledCatalog, list[Problem]]:
    """Compile every model under ``root`` (``<provider>/<id>.yaml``).

    ``vocabulary`` and ``providers`` fill in what ``root`` lacks (a maintainer's
    own directory uses the bundled ones). Returns the compiled catalog and every
    problem found; callers decide whether problems are fatal.
    """
    problems: list[Problem] = []
    rel = relative_to or root

    def name_of(p: Path) -> str:
        try:
            return p.relative_to(rel).as_posix()
        except ValueError:
            return str(p)

    vocab_path = root / "vocabulary.yaml"
    if vocab_path.exists():
        vocab = read_vocabulary(vocab_path)
    elif vocabulary is not None:
        vocab = dict(vocabulary)
    else:
        raise CatalogError("no vocabulary.yaml found", file=str(vocab_path))

    envelopes: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (providers or {}).items()}
    models: list[dict[str, Any]] = []
    files: dict[tuple[str, str], str] = {}
    schemas: dict[str, dict[str, Any]] = {}
    for provider_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        provider = provider_dir.name
        settings = provider_dir / "_provider.yaml"
        if settings.exists():
            data = _load_yaml(settings, problems, name_of(settings))
            if data is not None and _check(PROVIDER_FILE_SCHEMA, data, name_of(settings), None, problems):
                if data["provider"] != provider:
                    problems.append(Problem(name_of(settings), None, "$.provider",
                                            f"must equal the folder name {provider!r}"))
                envelopes[provider] = {"name": data["name"], **data["envelope"],
                                       **{k: data[k] for k in ("sources", "notes") if k in data}}
        if provider not in envelopes:
            problems.append(Problem(name_of(provider_dir), None, "$", "no _provider.yaml for this provider"))
            continue
        for path in sorted(provider_dir.glob("*.yaml")):
            if path.name.startswith("_"):
                continue
            file = name_of(path)
            raw = _load_yaml(path, problems, file, path.stem)
            if raw is None:
                continue
            if isinstance(raw, dict) and "id" in raw and path.stem != raw["id"]:
                problems.append(Problem(file, str(raw["id"]), "$.id", f"must equal the file name {path.stem!r}"))
            entry = _compile_model(provider, raw, file, vocab, envelopes[provider], schemas, problems)
            if entry is not None:
                models.append(entry)
                files[(provider, entry["id"])] = file
    problems.extend(_lint_families(models, files))
    index = {
        "format": INDEX_FORMAT,
        "providers": {k: envelopes[k] for k in sorted(envelopes)},
        "vocabulary": vocab,
        "models": models,
    }
    return CompiledCatalog(index=index, schemas=schemas), problems


def _compile_model(provider: str, raw: Any, file: str, vocab: Mapping[str, Any], envelope: Mapping[str, Any],
                   schemas: dict[str, dict[str, Any]], problems: list[Problem]) -> dict[str, Any] | None:
    """Check, lint and compile one model's data; its schemas go into ``schemas``."""
    model_id = raw.get("id") if isinstance(raw, dict) else None
    if not _check(MODEL_FILE_SCHEMA, raw, file, model_id, problems):
        return None
    entry = _resolve_model(provider, raw)
    lint_problems = lint_model(entry, vocab)
    problems.extend(Problem(file, model_id, f, m) for f, m in lint_problems)
    if lint_problems:
        return None
    for task_name, task in entry["tasks"].items():
        base = f"{provider}/{entry['id']}/{task_name}"
        schemas[f"{base}.input.json"] = input_schema(entry, task_name, task, f"{SCHEMA_BASE}/{base}.input.json")
        schemas[f"{base}.wire.json"] = wire_schema(
            entry, task_name, task, envelope, f"{SCHEMA_BASE}/{base}.wire.json")
    return entry


def compile_models(provider: str, raws: Iterable[tuple[str, Any]], *, vocabulary: Mapping[str, Any],
                   providers: Mapping[str, Mapping[str, Any]]) -> tuple[CompiledCatalog, list[Problem]]:
    """Compile model data held in memory (a live catalog), each as if it were the file named
    with it, by the same checks, lint and schema generation as ``compile_catalog``."""
    problems: list[Problem] = []
    schemas: dict[str, dict[str, Any]] = {}
    models = []
    for file, raw in raws:
        entry = _compile_model(provider, raw, file, vocabulary, providers[provider], schemas, problems)
        if entry is not None:
            models.append(entry)
    index = {"format": INDEX_FORMAT, "providers": {k: dict(v) for k, v in providers.items()},
             "vocabulary": dict(vocabulary), "models": models}
    return CompiledCatalog(index=index, schemas=schemas), problems


def _lint_families(models: Iterable[Mapping[str, Any]], files: Mapping[tuple[str, str], str]) -> list[Problem]:
    kinds: dict[str, tuple[str, str]] = {}
    out = []
    for m in models:
        fam = m.get("family")
        if not fam:
            continue
        seen = kinds.setdefault(fam, (m["kind"], f"{m['provider']}/{m['id']}"))
        if seen[0] != m["kind"]:
            out.append(Problem(files[(m["provider"], m["id"])], m["id"], "$.family",
                               f"family {fam!r} is {seen[0]} in {seen[1]} but {m['kind']} here"))
    return out


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render(compiled: CompiledCatalog) -> dict[str, str]:
    """Relative path -> file text, for everything under ``schemas/``."""
    files = {path: dumps(schema) for path, schema in sorted(compiled.schemas.items())}
    files["index.json"] = dumps(compiled.index)
    return files
