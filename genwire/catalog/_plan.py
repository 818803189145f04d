"""What validating one task's input needs, worked out once per task: ``Catalog._checked``'s
fast path for the common input (a plain dict of accepted, sendable, valid values)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ..specs import TaskSpec
from ._validation import Check, ValidateFn, is_sendable

__all__ = ["TaskPlan"]

# defaults handed out as they are; any other is deep-copied for each input
_IMMUTABLE = (str, int, float, bool, type(None))
_INF = float("inf")


class TaskPlan:
    """What ``Catalog._checked`` needs of one task, worked out once: the task, its validator,
    the defaults it fills in as (name, default, whether to copy it) in parameter order (the tier
    choice last), and ``fast``: the whole check for the common input in one call."""

    __slots__ = ("defaults", "fast", "task", "validate")

    def __init__(self, task: TaskSpec, check: Check | None, validate: ValidateFn, closed: bool = False) -> None:
        defaults = [(name, p.default, type(p.default) not in _IMMUTABLE) for name, p in task.params.items()
                    if p.has_default]
        if task.choice is not None:
            defaults.append((task.choice.param, task.choice.values[0], False))
        self.task, self.validate, self.defaults = task, validate, tuple(defaults)
        self.fast = _fast_path(task.accepted, check, self.defaults, closed)


def _fast_path(accepted: frozenset[str], check: Check | None, defaults: tuple[tuple[str, Any, bool], ...],
               closed: bool = False) -> Callable[[Any], dict[str, Any] | None]:
    """``_checked``'s answer for a plain dict of accepted, sendable and valid values (the input
    with defaults applied), or None: anything else takes the full path, which explains it.
    ``closed``: the check itself refuses a key the task does not accept (its schema's
    ``additionalProperties`` is false and every property is accepted), so the keys are not
    looked at twice."""
    if check is None:
        return lambda input: None
    if closed and not defaults:
        def plain(input: Any) -> dict[str, Any] | None:
            if type(input) is not dict:
                return None
            for item in input.values():  # json_violations' rules, for the values it finds nothing in
                kind = type(item)
                if kind is str:
                    if not item.isascii() and not is_sendable(item):
                        return None
                elif not (kind is int or kind is bool or item is None or (kind is float and -_INF < item < _INF)) \
                        and not is_sendable(item, 1):
                    return None
            # a key the task does not take (or not a str) fails the check
            return input.copy() if check(input) else None

        return plain

    def fast(input: Any) -> dict[str, Any] | None:
        if type(input) is not dict:
            return None
        for key, item in input.items():  # json_violations' rules, for the values it finds nothing in
            if key not in accepted or type(key) is not str:
                return None
            kind = type(item)
            if kind is str:
                if not item.isascii() and not is_sendable(item):
                    return None
            elif not (kind is int or kind is bool or item is None or (kind is float and -_INF < item < _INF)) \
                    and not is_sendable(item, 1):
                return None
        if not check(input):
            return None
        values = input.copy()
        for name, default, mutable in defaults:
            if name not in values:
                values[name] = copy.deepcopy(default) if mutable else default
        return values

    return fast
