"""Read-only views of compiled catalog entries: ModelSpec, TaskSpec, ParamSpec."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from types import MappingProxyType
from typing import Any

from ._util.record import record

__all__ = ["ModelChoice", "ModelSpec", "ParamSpec", "Price", "TaskSpec", "split_slot"]


def split_slot(wire: str) -> tuple[str, int] | None:
    """``"imageUrls[1]"`` -> ``("imageUrls", 1)``; a plain name -> None."""
    if not wire.endswith("]") or "[" not in wire:
        return None
    base, _, index = wire[:-1].partition("[")
    return (base, int(index)) if index.isdigit() else None


_set = object.__setattr__


@record(slots=True)
class ParamSpec:
    """One normalized parameter of a task and how it travels on the wire."""

    name: str
    wire: str
    type: str
    required: bool = False
    description: str | None = None
    #: the full catalog entry (enum, ranges, transform, wire_values, ...)
    spec: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __init__(self, name: str, wire: str, type: str, required: bool = False, description: str | None = None,
                 spec: Mapping[str, Any] | None = None) -> None:
        _set(self, "name", name)
        _set(self, "wire", wire)
        _set(self, "type", type)
        _set(self, "required", required)
        _set(self, "description", description)
        _set(self, "spec", {} if spec is None else spec)

    @property
    def wire_slot(self) -> tuple[str, int] | None:
        """For a wire name such as ``imageUrls[1]``: the list it fills and its position."""
        return split_slot(self.wire)

    @property
    def has_default(self) -> bool:
        return "default" in self.spec

    @property
    def default(self) -> Any:
        return self.spec.get("default")

    @property
    def enum(self) -> tuple[Any, ...] | None:
        values = self.spec.get("enum")
        return tuple(values) if values is not None else None


@record(slots=True)
class ModelChoice:
    """A wire ``model`` value chosen by a normalized parameter (a tier); first is the default."""

    param: str
    values: tuple[str, ...]
    description: str | None = None

    def __init__(self, param: str, values: tuple[str, ...], description: str | None = None) -> None:
        _set(self, "param", param)
        _set(self, "values", values)
        _set(self, "description", description)


@record(slots=True)
class TaskSpec:
    """One request variant of a model."""

    name: str
    model: str | None
    choice: ModelChoice | None
    placement: str
    fixed: Mapping[str, Any]
    params: Mapping[str, ParamSpec]
    description: str | None = None
    notes: tuple[str, ...] = ()

    #: names of the required parameters
    required: frozenset[str] = field(init=False)
    #: every parameter name the task takes (the tier choice included)
    accepted: frozenset[str] = field(init=False)

    def __init__(self, name: str, model: str | None, choice: ModelChoice | None, placement: str,
                 fixed: Mapping[str, Any], params: Mapping[str, ParamSpec], description: str | None = None,
                 notes: tuple[str, ...] = ()) -> None:
        _set(self, "name", name)
        _set(self, "model", model)
        _set(self, "choice", choice)
        _set(self, "placement", placement)
        _set(self, "fixed", fixed)
        _set(self, "params", params)
        _set(self, "description", description)
        _set(self, "notes", notes)
        names = set(params)
        if choice is not None:
            names.add(choice.param)
        _set(self, "required", frozenset(n for n, p in params.items() if p.required))
        _set(self, "accepted", frozenset(names))

    def wire_model(self, values: Mapping[str, Any]) -> str:
        """The value of the body's model field for these (validated) values."""
        if self.choice is not None:
            return str(values.get(self.choice.param, self.choice.values[0]))
        return self.model or ""  # a task has either a fixed model or a choice (checked when compiled)


@record(slots=True)
class Price:
    """What one run of a model costs in provider credits, per the catalog."""

    credits: float
    note: str | None = None

    def __init__(self, credits: float, note: str | None = None) -> None:
        _set(self, "credits", credits)
        _set(self, "note", note)


@record(slots=True)
class ModelSpec:
    """A model as one provider offers it."""

    provider: str
    id: str
    name: str
    kind: str
    tasks: Mapping[str, TaskSpec]
    family: str | None = None
    output_kind: str = "image"
    output_formats: tuple[str, ...] = ()
    price: Price | None = None
    notes: tuple[str, ...] = ()

    def __init__(self, provider: str, id: str, name: str, kind: str, tasks: Mapping[str, TaskSpec],
                 family: str | None = None, output_kind: str = "image", output_formats: tuple[str, ...] = (),
                 price: Price | None = None, notes: tuple[str, ...] = ()) -> None:
        _set(self, "provider", provider)
        _set(self, "id", id)
        _set(self, "name", name)
        _set(self, "kind", kind)
        _set(self, "tasks", tasks)
        _set(self, "family", family)
        _set(self, "output_kind", output_kind)
        _set(self, "output_formats", output_formats)
        _set(self, "price", price)
        _set(self, "notes", notes)

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, self.id)

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> ModelSpec:
        tasks = {}
        for name, task in entry["tasks"].items():
            model = task["model"]
            choice = None
            if isinstance(model, Mapping):
                choice = ModelChoice(model["param"], tuple(model["values"]), model.get("description"))
                model = None
            params = {
                pname: ParamSpec(pname, p["wire"], p["type"], bool(p.get("required")), p.get("description"),
                                 MappingProxyType(dict(p)))
                for pname, p in task["params"].items()
            }
            tasks[name] = TaskSpec(
                name=name, model=model, choice=choice, placement=task["placement"],
                fixed=MappingProxyType(dict(task["fixed"])), params=MappingProxyType(params),
                description=task.get("description"), notes=tuple(task.get("notes", ())),
            )
        price = entry.get("price")
        return cls(
            provider=entry["provider"], id=entry["id"], name=entry["name"], kind=entry["kind"],
            tasks=MappingProxyType(tasks), family=entry.get("family"),
            output_kind=entry["output"]["kind"], output_formats=tuple(entry["output"].get("formats", ())),
            price=Price(price["credits"], price.get("note")) if price else None,
            notes=tuple(entry.get("notes", ())),
        )
