"""The model catalog: look models up, hand out their schemas, validate input."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .._util.record import record
from ..errors import CatalogError, InvalidInputError, UnknownNameError, UnsupportedParameterError, Violation
from ..specs import ModelSpec, TaskSpec
from ._family_map import resolve_family
from ._plan import TaskPlan
from ._validation import Check, ValidateFn, compile_checked, is_sendable, json_violations

if TYPE_CHECKING:  # the compiler (PyYAML, jsonschema) and pydantic models stay off the lookup path
    from ..models import GenerationRequest, InputWarning
    from ._compile import CompiledCatalog

__all__ = ["Catalog", "Resolved", "bundled_paths"]

Unsupported = Literal["error", "warn"]


def bundled_paths() -> tuple[Path, Path]:
    """(catalog YAML dir, compiled schemas dir) shipped with the package.

    A wheel carries them under ``genwire/_data``; a source checkout (editable
    install) has them at the repository root.
    """
    here = Path(__file__).resolve().parent.parent  # the genwire package
    for base in (here / "_data", here.parent):
        if (base / "schemas" / "index.json").is_file():
            return base / "catalog", base / "schemas"
    raise CatalogError("the bundled catalog is missing: reinstall genwire")


@record
class Resolved:
    """A request matched to one provider model and task, its input validated."""

    spec: ModelSpec
    task: TaskSpec
    input: dict[str, Any]
    warnings: tuple[InputWarning, ...] = ()

    def __init__(self, spec: ModelSpec, task: TaskSpec, input: dict[str, Any],
                 warnings: tuple[InputWarning, ...] = ()) -> None:
        object.__setattr__(self, "spec", spec)
        object.__setattr__(self, "task", task)
        object.__setattr__(self, "input", input)
        object.__setattr__(self, "warnings", warnings)


class Catalog:
    """Models by provider, their JSON Schemas, and input validation.

    Schemas are read and validators compiled on first use, then cached.
    """

    def __init__(self, index: Mapping[str, Any], load_schema: Callable[[str], dict[str, Any]]) -> None:
        self._index = index
        self._load_schema = load_schema
        #: index entries by (provider, id); each becomes a ModelSpec when first looked up. The
        #: table is replaced, never changed in place, so lookups need no lock.
        self._entries: dict[tuple[str, str], Mapping[str, Any]] = {(e["provider"], e["id"]): e
                                                                   for e in index.get("models", ())}
        #: providers whose model lists are not read yet (the bundled catalog reads one on first use)
        self._unread: dict[str, Callable[[], list[Mapping[str, Any]]]] = {}
        self._specs: dict[tuple[str, str], ModelSpec] = {}
        self._schemas: dict[str, dict[str, Any]] = {}
        self._validators: dict[tuple[str, str, str], tuple[Check | None, ValidateFn]] = {}
        self._plans: dict[tuple[str, str, str], TaskPlan] = {}
        #: each plan's fast path, by the same key: what ``validate`` calls first
        self._fast: dict[tuple[str, str, str], Callable[[Any], dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    # -- construction -------------------------------------------------------------
    @classmethod
    def _with_model_lists(cls, head: Mapping[str, Any], lists: Mapping[str, Callable[[], list[Mapping[str, Any]]]],
                          load_schema: Callable[[str], dict[str, Any]]) -> Catalog:
        """A catalog whose models are read per provider, on the first lookup that needs them
        (``head`` is the index without ``models``)."""
        catalog = cls(head, load_schema)
        catalog._unread = dict(lists)
        return catalog

    @classmethod
    def default(cls) -> Catalog:
        """The bundled catalog (one shared instance)."""
        return _default_catalog()

    @classmethod
    def from_compiled(cls, compiled: CompiledCatalog) -> Catalog:
        schemas = compiled.schemas
        return cls(compiled.index, lambda rel: schemas[rel])

    @classmethod
    def load(cls, path: str | Path, *, merge: bool = True) -> Catalog:
        """Compile a YAML catalog directory (``<provider>/<model>.yaml``).

        With ``merge`` (the default) its models are laid over the bundled ones,
        replacing any with the same provider and id; otherwise it stands alone.
        Raises ``CatalogError`` naming file, model and field of every problem.
        """
        root = Path(path)
        if not root.is_dir():
            raise CatalogError("not a directory", file=str(root))
        from ._compile import compile_catalog

        base = cls.default()
        base._read_all()
        compiled, problems = compile_catalog(
            root, vocabulary=base._index["vocabulary"], providers=base._index["providers"],
            known_models=list(base._entries.values()),
        )
        if problems:
            first = problems[0]
            err = CatalogError(
                f"{len(problems)} problem(s):\n" + "\n".join(f"  {p}" for p in problems),
                file=first.file, model=first.model, field=first.field, line=first.line,
            )
            err.problems = problems  # type: ignore[attr-defined]
            raise err
        if not merge:
            return cls.from_compiled(compiled)
        return base.overlaid(compiled)

    def overlaid(self, compiled: CompiledCatalog) -> Catalog:
        """A new catalog: this one with ``compiled``'s models laid over it (same provider and id replaced)."""
        own = {(m["provider"], m["id"]) for m in compiled.index["models"]}
        self._read_all()
        models = [m for m in self._entries.values() if (m["provider"], m["id"]) not in own]
        models += compiled.index["models"]
        providers = {**self._index["providers"], **compiled.index["providers"]}
        families = {**self._index.get("families", {}), **compiled.index.get("families", {})}
        index = {**self._index, "providers": providers, "models": models, "families": families}
        mine = compiled.schemas
        base = self

        def load_schema(rel: str) -> dict[str, Any]:
            return mine[rel] if rel in mine else base._schema(rel)

        return type(self)(index, load_schema)

    # -- lookup -----------------------------------------------------------------
    def _read(self, provider: str) -> None:
        with self._lock:
            read = self._unread.get(provider)
            if read is not None:
                self._entries = {**self._entries, **{(e["provider"], e["id"]): e for e in read()}}
                del self._unread[provider]

    def _read_all(self) -> None:
        if self._unread:
            for provider in list(self._unread):
                self._read(provider)
            order = {p: i for i, p in enumerate(self._index["providers"])}
            with self._lock:  # index order: providers in turn, each list as written
                self._entries = dict(sorted(self._entries.items(), key=lambda kv: order.get(kv[0][0], len(order))))

    def _spec(self, key: tuple[str, str]) -> ModelSpec | None:
        spec = self._specs.get(key)
        if spec is None:
            if key[0] in self._unread:
                self._read(key[0])
            entry = self._entries.get(key)
            if entry is not None:
                spec = self._specs.setdefault(key, ModelSpec.from_entry(entry))  # one instance per model
        return spec

    def _all_specs(self) -> list[ModelSpec]:
        self._read_all()
        specs = self._specs
        return [specs.get(key) or specs.setdefault(key, ModelSpec.from_entry(entry))
                for key, entry in self._entries.items()]

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(self._index["providers"])

    def envelope(self, provider: str) -> Mapping[str, Any]:
        """How a provider's request body is laid out (model, input and webhook keys)."""
        try:
            return self._index["providers"][provider]  # type: ignore[no-any-return]
        except KeyError:
            raise UnknownNameError(f"unknown provider {provider!r}", code="unknown_provider") from None

    def models(
        self, provider: str | None = None, kind: str | None = None, task: str | None = None,
        family: str | None = None,
    ) -> list[ModelSpec]:
        return [
            s for s in self._all_specs()
            if (provider is None or s.provider == provider)
            and (kind is None or s.kind == kind)
            and (task is None or task in s.tasks)
            and (family is None or s.family == family)
        ]

    def families(self) -> dict[str, list[ModelSpec]]:
        out: dict[str, list[ModelSpec]] = {}
        for s in self._all_specs():
            if s.family:
                out.setdefault(s.family, []).append(s)
        return out

    def family_tasks(self, family: str) -> list[str]:
        """The tasks ``family`` declares a common input for (``catalog/families.yaml``)."""
        return list(self._family(family))

    def family_input_schema(self, family: str, task: str) -> dict[str, Any]:
        """The family's common input JSON Schema for ``task`` (a copy): an input valid under it is
        accepted by every member offering the task."""
        return copy.deepcopy(self._schema(self._family_task(family, task)["schema"]))

    def validate_family(self, family: str, task: str, input: Mapping[str, Any]) -> dict[str, Any]:
        """``input`` checked against the family's common input (every violation listed)."""
        key = ("families", family, task)
        fn = self._validators.get(key)
        if fn is None:
            fn = self._validators[key] = compile_checked(self._schema(self._family_task(family, task)["schema"]))
        violations = fn[1](input)
        if violations:
            raise InvalidInputError(f"input for family {family} {task} is not portable", violations,
                                    code="invalid_input")
        return dict(input)

    def _family(self, family: str) -> Mapping[str, Any]:
        found = self._index.get("families", {}).get(family)
        if found is None:
            raise UnknownNameError(f"family {family!r} declares no common input (catalog/families.yaml)",
                                   code="unknown_family")
        return found  # type: ignore[no-any-return]

    def _family_task(self, family: str, task: str) -> Mapping[str, Any]:
        tasks = self._family(family)
        if task not in tasks:
            raise UnknownNameError(f"family {family!r} has no task {task!r}; tasks: {', '.join(tasks)}",
                                   code="unknown_task")
        return tasks[task]  # type: ignore[no-any-return]

    def get(self, provider: str, model: str) -> ModelSpec:
        spec = self._spec((provider, model))
        if spec is not None:
            return spec
        if provider not in self._index["providers"]:
            raise UnknownNameError(f"unknown provider {provider!r}; known: {', '.join(self.providers)}",
                                provider=provider, code="unknown_model")
        import difflib

        ids = [i for p, i in self._entries if p == provider]
        close = difflib.get_close_matches(model, ids, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownNameError(f"{provider} has no model {model!r}{hint}", provider=provider, code="unknown_model")

    def find(self, provider: str, model: str) -> ModelSpec | None:
        """The model with this catalog id or wire model value, or None."""
        spec = self._spec((provider, model))
        if spec is not None or not model:
            return spec
        for candidate in self._all_specs():
            if candidate.provider == provider and any(
                t.model == model or (t.choice is not None and model in t.choice.values)
                for t in candidate.tasks.values()
            ):
                return candidate
        return None

    def task(self, provider: str, model: str, task: str) -> TaskSpec:
        spec = self.get(provider, model)
        try:
            return spec.tasks[task]
        except KeyError:
            raise UnknownNameError(
                f"{provider}/{model} has no task {task!r}; it offers: {', '.join(spec.tasks)}",
                provider=provider, code="unknown_task",
            ) from None

    # -- schemas and validation -----------------------------------------------------
    def _schema(self, rel: str) -> dict[str, Any]:
        schema = self._schemas.get(rel)
        if schema is None:
            schema = self._load_schema(rel)
            self._schemas[rel] = schema
        return schema

    def input_schema(self, provider: str, model: str, task: str) -> dict[str, Any]:
        """The normalized input JSON Schema (Draft 2020-12) of one task (a copy)."""
        self.task(provider, model, task)
        return copy.deepcopy(self._schema(f"{provider}/{model}/{task}.input.json"))

    def wire_schema(self, provider: str, model: str, task: str) -> dict[str, Any]:
        """The JSON Schema of the exact request body sent to the provider (a copy)."""
        self.task(provider, model, task)
        return copy.deepcopy(self._schema(f"{provider}/{model}/{task}.wire.json"))

    def _validator(self, provider: str, model: str, task: str) -> ValidateFn:
        return self._compiled(provider, model, task)[1]

    def _compiled(self, provider: str, model: str, task: str) -> tuple[Check | None, ValidateFn]:
        key = (provider, model, task)
        fn = self._validators.get(key)
        if fn is None:
            with self._lock:
                fn = self._validators.get(key)
                if fn is None:
                    fn = compile_checked(self._schema(f"{provider}/{model}/{task}.input.json"))
                    self._validators[key] = fn
        return fn

    def validate(
        self, provider: str, model: str, task: str | None, input: Mapping[str, Any],
        *, unsupported: Unsupported = "error",
    ) -> dict[str, Any]:
        """Return ``input`` with defaults applied, or raise ``InvalidInputError`` listing every violation."""
        fast = self._fast.get((provider, model, task))  # type: ignore[arg-type]
        if fast is not None:
            values = fast(input)
            if values is not None:
                return values
        return self._checked(self.get(provider, model), task, input, unsupported)[1]

    def resolve_task(self, provider: str, model: str, input: Mapping[str, Any]) -> str:
        """The task an input implies when the request names none."""
        return self._infer_task(self.get(provider, model), input).name

    def _infer_task(self, spec: ModelSpec, input: Mapping[str, Any]) -> TaskSpec:
        tasks = list(spec.tasks.values())
        if len(tasks) == 1:
            return tasks[0]
        # a parameter no task takes says nothing about the task; _check refuses or drops it.
        known = frozenset().union(*(t.accepted for t in tasks))
        keys = set(input) & known
        fits = [t for t in tasks if t.required <= keys and keys <= t.accepted]
        if not fits and keys:
            # a required parameter is missing: pick the task closest to what was given,
            # so validation can name what is missing
            fits = [t for t in tasks if keys <= t.accepted]
        if len(fits) > 1:
            # the task missing the fewest required parameters, then using the most of the given ones
            def rank(t: TaskSpec) -> tuple[int, int]:
                return (len(t.required - keys), -len(t.required & keys))

            best = min(map(rank, fits))
            fits = [t for t in fits if rank(t) == best]
        if len(fits) == 1:
            return fits[0]
        names = ", ".join(t.name for t in (fits or tasks))
        why = "several tasks fit" if fits else "no task takes exactly these parameters"
        raise InvalidInputError(
            f"{spec.provider}/{spec.id}: cannot tell the task from the input ({why}); name one of: {names}",
            provider=spec.provider, code="ambiguous_task",
        )

    def _infer_or_none(self, spec: ModelSpec, input: Any) -> str | None:
        if len(spec.tasks) == 1:
            return next(iter(spec.tasks))
        try:
            return self._infer_task(spec, input).name
        except (InvalidInputError, UnknownNameError):
            return None

    def _check(self, spec: ModelSpec, task: str | None, input: Mapping[str, Any],
               unsupported: Unsupported) -> Resolved:
        return Resolved(spec, *self._checked(spec, task, input, unsupported))

    def _checked(self, spec: ModelSpec, task: str | None, input: Mapping[str, Any],
                 unsupported: Unsupported) -> tuple[TaskSpec, dict[str, Any], tuple[InputWarning, ...]]:
        """The task, the input with defaults applied and the warnings; ``InvalidInputError`` listing
        every violation."""
        plan = self._plans.get((spec.provider, spec.id, task))  # type: ignore[arg-type]
        if plan is not None:
            values = plan.fast(input)
            if values is not None:
                return plan.task, values, ()
        if type(input) is not dict and not isinstance(input, Mapping):
            raise InvalidInputError("input must be an object", [Violation("$", "is not an object")])
        if not is_sendable(input):
            unsendable = json_violations(input)
            if unsendable:
                raise InvalidInputError(f"input for {spec.provider}/{spec.id} is not JSON", unsendable,
                                        provider=spec.provider, code="invalid_input")
        if task is None:
            tspec = self._infer_task(spec, input)
        else:
            found = spec.tasks.get(task)
            tspec = found if found is not None else self.task(spec.provider, spec.id, task)
        key = (spec.provider, spec.id, tspec.name)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plan(key, tspec)
        validator, defaults = plan.validate, plan.defaults
        warnings: tuple[InputWarning, ...] = ()
        if not tspec.accepted.issuperset(input):
            extra = [k for k in input if k not in tspec.accepted]
            where = f"{spec.provider}/{spec.id} {tspec.name}"
            if unsupported == "warn":
                from ..models import InputWarning

                warnings = tuple(InputWarning(code="unsupported_parameter", parameter=k,
                                              message=f"parameter {k!r} is not taken by {where}; not sent")
                                 for k in extra)
                input = {k: v for k, v in input.items() if k in tspec.accepted}
            else:
                raise UnsupportedParameterError(
                    f"{where} does not take {', '.join(map(repr, extra))}", validator(input),
                    provider=spec.provider, code="unsupported_parameter",
                )
        violations = validator(input)
        if violations:
            raise InvalidInputError(
                f"invalid input for {spec.provider}/{spec.id} {tspec.name}", violations,
                provider=spec.provider, code="invalid_input",
            )
        values = dict(input)
        for name, default, mutable in defaults:
            if name not in values:
                values[name] = copy.deepcopy(default) if mutable else default
        return tspec, values, warnings

    def _plan(self, key: tuple[str, str, str], tspec: TaskSpec) -> TaskPlan:
        schema = self._schema(f"{key[0]}/{key[1]}/{key[2]}.input.json")
        closed = (schema.get("additionalProperties") is False
                  and tspec.accepted.issuperset(schema.get("properties", {})))
        plan = self._plans[key] = TaskPlan(tspec, *self._compiled(*key), closed=closed)
        self._fast[key] = plan.fast
        return plan

    def resolve(self, request: GenerationRequest, providers: Iterable[str] | None = None) -> list[Resolved]:
        """Match a request to provider models, validating its input for each.

        A request naming a provider model yields one candidate. A ``family``
        request yields one per provider offering the task, in ``providers``
        order (default: catalog order); candidates whose schema refuses the
        input are left out, and if none remains the first refusal is raised.
        """
        if request.family is None:
            # a GenerationRequest names a provider model or a family (checked when it is made)
            spec = self.get(request.provider or "", request.model or "")
            return [self._check(spec, request.task, request.input, request.unsupported)]
        return resolve_family(self, request, providers)

    def plan(self, request: GenerationRequest,
             providers: Iterable[str] | None = None) -> list[tuple[Resolved, Mapping[str, Any]]]:
        """Everything a submit needs from the catalog, in one call: for each candidate (as
        ``resolve``: model found, task inferred, input validated, defaults applied) its
        provider's body envelope (``envelope``)."""
        envelopes: dict[str, Mapping[str, Any]] = {}
        out = []
        for resolved in self.resolve(request, providers):
            provider = resolved.spec.provider
            envelope = envelopes.get(provider)
            if envelope is None:
                envelope = envelopes[provider] = self.envelope(provider)
            out.append((resolved, envelope))
        return out


@cache
def _default_catalog() -> Catalog:
    _, schemas_dir = bundled_paths()

    def load_schema(rel: str) -> dict[str, Any]:
        return json.loads((schemas_dir / rel).read_text(encoding="utf-8"))  # type: ignore[no-any-return]

    def reader(rel: str) -> Callable[[], list[Mapping[str, Any]]]:
        return lambda: json.loads((schemas_dir / rel).read_text(encoding="utf-8"))

    head = load_schema("index.json")
    lists = head.pop("model_lists")
    return Catalog._with_model_lists(head, {provider: reader(rel) for provider, rel in lists.items()}, load_schema)
