"""Compile catalog YAML into JSON Schemas and the runtime index.

``tools/compile`` writes the result to ``schemas/``; ``Catalog.load`` runs the same
compiler in memory over a maintainer's directory. Output is deterministic: the same
YAML always renders to byte-identical files.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CatalogError
from ._families import FAMILIES_FILE, FAMILIES_FILE_SCHEMA, compile_families
from ._fastcheck import Check, compile_check
from ._json_schema import input_schema, wire_schema
from ._lint import lint_model, member
from ._meta import MODEL_FILE_SCHEMA, PROVIDER_FILE_SCHEMA, VOCABULARY_FILE_SCHEMA
from ._yaml import Loaded, YamlProblem, load_json_yaml

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

__all__ = [
    "CompiledCatalog",
    "compile_models",
    "INDEX_FORMAT",
    "Problem",
    "compile_catalog",
    "render",
]

INDEX_FORMAT = 2
SCHEMA_BASE = "https://genwire.dev/schemas"


@dataclass(frozen=True)
class Problem:
    file: str
    model: str | None
    field: str
    message: str
    #: 1-based line in ``file`` of the field (or of its nearest enclosing key), when known
    line: int | None = None

    def __str__(self) -> str:
        model = f" model {self.model}" if self.model else ""
        where = f"{self.file}:{self.line}:" if self.line is not None else f"{self.file}:"
        return f"{where}{model} field {self.field}: {self.message}"


@dataclass
class CompiledCatalog:
    index: dict[str, Any]
    #: relative path (``clipia/nano-banana-2/text-to-image.input.json``) -> schema
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)


def _load_yaml(path: Path, problems: list[Problem], file: str | None = None,
               model: str | None = None) -> Loaded | None:
    """The file's data and line marks, or None with the problem recorded (never an exception)."""
    name = file or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except IsADirectoryError:
        problems.append(Problem(name, model, "$", "is a directory, not a YAML file"))
        return None
    except FileNotFoundError:
        problems.append(Problem(name, model, "$", "cannot be read: no such file (a dangling symlink?)"))
        return None
    except OSError as exc:
        problems.append(Problem(name, model, "$", f"cannot be read: {exc.strerror or exc}"))
        return None
    except UnicodeDecodeError as exc:
        problems.append(Problem(name, model, "$", f"not UTF-8 text: {exc.reason} at byte {exc.start}"))
        return None
    try:
        return load_json_yaml(text)
    except YamlProblem as exc:
        problems.append(Problem(name, model, _spell(exc.path), exc.message, exc.line))
        return None


_STEP = re.compile(r"\.([^.\[]+)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")


def _steps(path: str) -> tuple[str | int, ...] | None:
    """``$.tasks['a-b'].params.x[0]`` -> ("tasks", "a-b", "params", "x", 0); None if unparsable."""
    if not path.startswith("$"):
        return None
    out: list[str | int] = []
    at = 1
    while at < len(path):
        found = _STEP.match(path, at)
        if found is None:
            return None
        plain, quoted, index = found.groups()
        out.append(int(index) if index is not None else plain if plain is not None else
                   re.sub(r"\\(.)", r"\1", quoted))
        at = found.end()
    return tuple(out)


def _in_file(raw: Any, steps: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Where a compiled-entry path was written: a task parameter inherited from the model's
    ``params`` is reported there, not under a task that does not spell it out."""
    if len(steps) >= 4 and steps[0] == "tasks" and steps[2] == "params" and isinstance(raw, Mapping):
        task = (raw.get("tasks") or {}).get(steps[1])
        own = (task or {}).get("params") if isinstance(task, Mapping) else None
        if not (isinstance(own, Mapping) and steps[3] in own) and steps[3] in (raw.get("params") or {}):
            return ("params", *steps[3:])
    return steps


def _spell(steps: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else member(s) for s in steps)


def _problem(file: str, model: str | None, path: str, message: str, loaded: Loaded | None) -> Problem:
    """A problem at a JSON path of a model's data, moved to where the file wrote it, with its line."""
    steps = _steps(path)
    if loaded is None or steps is None:
        return Problem(file, model, path, message)
    where = _in_file(loaded.data, steps)
    return Problem(file, model, _spell(where) if where != steps else path, message, loaded.line_of(where))


def _check(schema: Mapping[str, Any], data: Any, file: str, model: str | None,
           problems: list[Problem], loaded: Loaded | None = None) -> bool:
    # the compiled check passes a valid file in microseconds; python-jsonschema lists the
    # errors of an invalid one (messages and paths are its own)
    fast = _fast_check(id(schema), schema)
    if fast is not None and fast(data):
        return True
    found = [where for err in _validator(id(schema), schema).iter_errors(data) for where in _locate(err)]
    for path, message in sorted(found):
        problems.append(_problem(file, model, path, message, loaded))
    return not found


# the meta-schemas are module constants: one validator and one check each, not one per file
_VALIDATORS: dict[int, Draft202012Validator] = {}
_FAST: dict[int, Check | None] = {}


def _validator(key: int, schema: Mapping[str, Any]) -> Draft202012Validator:
    validator = _VALIDATORS.get(key)
    if validator is None:
        from jsonschema import Draft202012Validator

        validator = _VALIDATORS[key] = Draft202012Validator(schema)
    return validator


def _fast_check(key: int, schema: Mapping[str, Any]) -> Check | None:
    if key not in _FAST:
        _FAST[key] = compile_check(schema)
    return _FAST[key]


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
    loaded = _load_yaml(path, problems)
    if loaded is not None:
        _check(VOCABULARY_FILE_SCHEMA, loaded.data, str(path), None, problems, loaded)
    if problems or loaded is None:
        raise CatalogError("\n".join(map(str, problems)), file=str(path), line=problems[0].line if problems else None)
    return dict(loaded.data)


def compile_catalog(
    root: Path,
    *,
    vocabulary: Mapping[str, Any] | None = None,
    providers: Mapping[str, Mapping[str, Any]] | None = None,
    relative_to: Path | None = None,
    known_models: Iterable[Mapping[str, Any]] = (),
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
    if vocab_path.exists() or vocab_path.is_symlink():
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
        if settings.exists() or settings.is_symlink():
            loaded = _load_yaml(settings, problems, name_of(settings))
            data: Any = loaded.data if loaded is not None else None
            if loaded is not None and _check(PROVIDER_FILE_SCHEMA, data, name_of(settings), None, problems, loaded):
                if data["provider"] != provider:
                    problems.append(_problem(name_of(settings), None, "$.provider",
                                             f"must equal the folder name {provider!r}", loaded))
                envelopes[provider] = {"name": data["name"], **data["envelope"],
                                       **{k: data[k] for k in ("sources", "notes") if k in data}}
        if provider not in envelopes:
            problems.append(Problem(name_of(provider_dir), None, "$", "no _provider.yaml for this provider"))
            continue
        for path in sorted(provider_dir.glob("*.yaml")):
            if path.name.startswith("_"):
                continue
            file = name_of(path)
            loaded = _load_yaml(path, problems, file, path.stem)
            if loaded is None:
                continue
            raw = loaded.data
            if isinstance(raw, dict) and "id" in raw and path.stem != raw["id"]:
                problems.append(_problem(file, str(raw["id"]), "$.id", f"must equal the file name {path.stem!r}",
                                         loaded))
            entry = _compile_model(provider, raw, file, vocab, envelopes[provider], schemas, problems, loaded)
            if entry is not None:
                models.append(entry)
                files[(provider, entry["id"])] = file
    problems.extend(_lint_families(models, files))
    index: dict[str, Any] = {
        "format": INDEX_FORMAT,
        "providers": {k: envelopes[k] for k in sorted(envelopes)},
        "vocabulary": vocab,
        "models": models,
    }
    families_path = root / FAMILIES_FILE
    if families_path.exists() or families_path.is_symlink():
        file = name_of(families_path)
        loaded = _load_yaml(families_path, problems, file)
        if loaded is not None and _check(FAMILIES_FILE_SCHEMA, loaded.data, file, None, problems, loaded):
            own = {(m["provider"], m["id"]) for m in models}
            members = [*models, *(m for m in known_models if (m["provider"], m["id"]) not in own)]
            families, found = compile_families(loaded.data, members, SCHEMA_BASE, schemas)
            problems.extend(_problem(file, None, path, message, loaded) for path, message in found)
            index["families"] = families
    return CompiledCatalog(index=index, schemas=schemas), problems


def _compile_model(provider: str, raw: Any, file: str, vocab: Mapping[str, Any], envelope: Mapping[str, Any],
                   schemas: dict[str, dict[str, Any]], problems: list[Problem],
                   loaded: Loaded | None = None) -> dict[str, Any] | None:
    """Check, lint and compile one model's data; its schemas go into ``schemas``."""
    model_id = raw.get("id") if isinstance(raw, dict) else None
    if not _check(MODEL_FILE_SCHEMA, raw, file, model_id, problems, loaded):
        return None
    entry = _resolve_model(provider, raw)
    lint_problems = lint_model(entry, vocab)
    # a model-level parameter's mistake shows once, where it is written, not once per task
    found = dict.fromkeys(_problem(file, model_id, f, m, loaded) for f, m in lint_problems)
    problems.extend(found)
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
    """Relative path -> file text, for everything under ``schemas/``.

    ``index.json`` holds the index without its models, and ``model_lists`` naming one
    ``<provider>/models.json`` per provider with that provider's entries in index order:
    a process that uses one provider reads (and parses) only that provider's list.
    """
    files = {path: dumps(schema) for path, schema in sorted(compiled.schemas.items())}
    index = compiled.index
    lists = {provider: f"{provider}/models.json" for provider in index["providers"]}
    by_provider: dict[str, list[Any]] = {provider: [] for provider in lists}
    for model in index["models"]:
        by_provider[model["provider"]].append(model)
    files["index.json"] = dumps({**{k: v for k, v in index.items() if k != "models"}, "model_lists": lists})
    files.update({lists[provider]: dumps(models) for provider, models in by_provider.items()})
    return files
