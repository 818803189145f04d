"""A family input as one member takes it: the mapping ``catalog/families.yaml`` states for it
(see ``genwire.catalog._families``), applied at run time. Plain data in, plain data out."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["map_input"]


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
