"""Validated normalized input -> the provider's request body, driven by the catalog."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..specs import TaskSpec, split_slot

__all__ = ["build_body", "to_wire_value"]


def _wire_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_wire_value(spec: Mapping[str, Any], value: Any) -> Any:
    """One normalized value -> what the provider expects (value map, then transform)."""
    mapping = spec.get("wire_values")
    if mapping and isinstance(value, (str, int, float, bool)) and str(value) in mapping:
        value = mapping[str(value)]
    transform = spec.get("transform")
    if transform is None:
        return value
    if transform == "to_string":
        return _wire_scalar(value)
    if transform == "first":
        return value[0] if value else None
    return [value]  # to_list


def build_body(
    envelope: Mapping[str, Any],
    task: TaskSpec,
    values: Mapping[str, Any],
    webhook_url: str | None = None,
) -> dict[str, Any]:
    """The JSON body for one task; ``values`` must already be validated."""
    params: dict[str, Any] = dict(task.fixed)
    top: dict[str, Any] = {}
    specs = task.params
    for name, value in values.items():
        p = specs.get(name)
        if p is None:
            continue
        wire_value = to_wire_value(p.spec, value)
        slot = split_slot(p.wire)
        if p.spec.get("placement") == "top":
            top[p.wire] = wire_value
        elif slot is None:
            params[p.wire] = wire_value
        else:  # one position of a wire list, e.g. first/last frame in imageUrls
            base, index = slot
            items = params.setdefault(base, [])
            items.extend([None] * (index + 1 - len(items)))
            items[index] = wire_value
    body: dict[str, Any] = {}
    if envelope["model"] is not None:
        body[envelope["model"]] = task.wire_model(values)
    if webhook_url is not None:
        body[envelope["webhook"]] = webhook_url
    if task.placement == "input":
        body[envelope["input"]] = params
    else:
        body.update(params)
    body.update(top)
    return body
