"""A family input as one member takes it: the mapping ``catalog/families.yaml`` states for it
(see ``genwire.catalog._families``), applied at run time. Plain data in, plain data out."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError, UnknownNameError, Violation

if TYPE_CHECKING:
    from ..models import GenerationRequest
    from ._catalog import Catalog, Resolved

__all__ = ["map_input", "resolve_family"]


def map_input(mapping: Mapping[str, Any], input: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A family input as one member takes it, and the reasons it cannot (empty when it can)."""
    values = dict(input)
    reasons = []
    for name, behaves_as in mapping.get("absent", {}).items():
        if name in values:
            if values[name] == behaves_as:
                del values[name]
            else:
                reasons.append(f"it has no {name!r} (it behaves as {name}={_show(behaves_as)}), "
                               f"asked for {_show(values[name])}")
    for name, value in mapping.get("defaults", {}).items():
        values.setdefault(name, copy.deepcopy(value))
    return values, reasons


def _show(value: Any) -> str:
    return json.dumps(value)


def resolve_family(catalog: Catalog, request: GenerationRequest, providers: Iterable[str] | None) -> list[Resolved]:
    """``Catalog.resolve`` of a family request: every member that takes the input (mapped as
    ``families.yaml`` says), in ``providers`` order; the others named with their reasons."""
    members = catalog.families().get(request.family or "")
    if not members:
        raise UnknownNameError(f"no catalog model belongs to family {request.family!r}", code="unknown_family")
    order = list(providers) if providers is not None else list(catalog.providers)
    members = sorted((m for m in members if m.provider in order), key=lambda m: order.index(m.provider))
    mappings = catalog._index.get("families", {}).get(request.family, {})
    out: list[Resolved] = []
    skipped: list[tuple[str, InvalidInputError]] = []
    for spec in members:
        name = f"{spec.provider}/{spec.id}"
        if request.task is not None and request.task not in spec.tasks:
            continue
        task = request.task if request.task is not None else catalog._infer_or_none(spec, request.input)
        mapping = mappings.get(task, {}).get("members", {}).get(name, {}) if task is not None else {}
        values, reasons = map_input(mapping, request.input) if isinstance(request.input, Mapping) else (
            request.input, [])
        if reasons:
            skipped.append((name, InvalidInputError(f"{name} skipped", [Violation("$", r) for r in reasons],
                                                    provider=spec.provider, code="invalid_input")))
            continue
        try:
            out.append(catalog._check(spec, request.task, values, request.unsupported))
        except InvalidInputError as exc:
            skipped.append((name, exc))
    if not out:
        if skipped:
            if len(skipped) == 1:
                raise skipped[0][1]
            raise InvalidInputError(
                f"no member of family {request.family!r} accepts this input",
                [Violation(v.path, f"{name}: {v.message}") for name, exc in skipped
                 for v in (exc.violations or [Violation("$", exc.message)])],
                code="invalid_input")
        raise UnknownNameError(f"no provider in {order} offers family {request.family!r}"
                               f" with task {request.task!r}", code="unknown_family")
    if skipped:
        from ..models import InputWarning

        notes = tuple(InputWarning(code="member_skipped", parameter=None, message=f"{name} skipped: " + "; ".join(
            str(v) for v in (exc.violations or [Violation("$", exc.message)]))) for name, exc in skipped)
        out = [type(r)(r.spec, r.task, r.input, r.warnings + notes) for r in out]
    return out
