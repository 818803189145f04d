"""``@record``: a frozen dataclass whose methods cost nothing at import.

``@dataclass(frozen=True)`` writes the source of ``__init__``, ``__repr__``,
``__eq__``, ``__hash__``, ``__setattr__`` and ``__delattr__`` for each class and
``exec``s it when the module is imported, over ten times the cost of a ``@record``
class, and a first submit imports over a dozen of them (``bench/bench_record.py``; the
figures, and why genwire keeps this module, are in bench/README.md). A ``@record`` class
writes its ``__init__`` by hand (so it is compiled into the module's bytecode, like any function) and shares one
implementation of the others, with the same behaviour as the generated ones:
equality and hash over the fields, the dataclass ``repr``, ``FrozenInstanceError``
on assignment, pickling. It is registered as a dataclass, so ``dataclasses.fields``,
``replace`` and ``asdict`` work on it as before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import FrozenInstanceError
from operator import attrgetter
from reprlib import recursive_repr
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_: Any) -> Callable[[Any], Any]:
        return lambda decorated: decorated

__all__ = ["record"]

C = TypeVar("C", bound=type)


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    if not names:
        return lambda obj: ()
    return attrgetter(*names)


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        return self.__record_compare__(self) == self.__record_compare__(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self.__record_hash__(self))


@recursive_repr()
def _repr(self: Any) -> str:
    values = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_repr__)
    return f"{self.__class__.__qualname__}({values})"


def _setattr(self: Any, name: str, value: Any) -> None:
    cls = self.__record_class__
    if type(self) is cls or name in self.__record_fields__:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")
    super(cls, self).__setattr__(name, value)


def _delattr(self: Any, name: str) -> None:
    cls = self.__record_class__
    if type(self) is cls or name in self.__record_fields__:
        raise FrozenInstanceError(f"cannot delete field {name!r}")
    super(cls, self).__delattr__(name)


def _getstate(self: Any) -> list[Any]:
    return [getattr(self, name) for name in self.__record_fields__]


def _setstate(self: Any, state: list[Any]) -> None:
    for name, value in zip(self.__record_fields__, state, strict=True):
        object.__setattr__(self, name, value)


@overload
def record(cls: C, /) -> C: ...
@overload
def record(*, slots: bool = False) -> Callable[[C], C]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def record(cls: C | None = None, /, *, slots: bool = False) -> C | Callable[[C], C]:
    """Like ``@dataclass(frozen=True[, slots=True])`` on a class that defines its own ``__init__``.

    The ``__init__`` sets every field with ``object.__setattr__`` (defaults and
    ``default_factory`` are the ``__init__``'s to apply; ``__post_init__`` is not called).
    Give the class a docstring: without one, ``dataclass`` computes one from its signature.
    """

    def wrap(decorated: C) -> C:
        if "__init__" not in decorated.__dict__:
            raise TypeError(f"@record class {decorated.__qualname__} must define __init__")
        own = decorated.__dict__
        if "__setattr__" in own or "__delattr__" in own:
            raise TypeError(f"@record class {decorated.__qualname__} is frozen: no __setattr__/__delattr__")
        cls: Any = dataclasses.dataclass(init=False, repr=False, eq=False, slots=slots)(decorated)
        fields = dataclasses.fields(cls)
        names = tuple(f.name for f in fields)
        shared: dict[str, Any] = {
            "__record_class__": cls,
            "__record_fields__": names,
            "__record_compare__": _getter(tuple(f.name for f in fields if f.compare)),
            "__record_hash__": _getter(tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))),
            "__record_repr__": tuple(f.name for f in fields if f.repr),
            "__setattr__": _setattr,
            "__delattr__": _delattr,
        }
        if "__repr__" not in own:
            shared["__repr__"] = _repr
        if "__eq__" not in own:
            shared["__eq__"] = _eq
        # as dataclass decides: a class body that defines __eq__ gets __hash__ = None, which is not a choice
        if "__hash__" not in own or (own["__hash__"] is None and "__eq__" in own):
            shared["__hash__"] = _hash
        if slots:  # as dataclass does for frozen slotted classes: unpickling sets fields past __setattr__
            shared["__getstate__"] = _getstate
            shared["__setstate__"] = _setstate
        for name, value in shared.items():
            setattr(cls, name, value)
        return cls  # type: ignore[no-any-return]

    return wrap if cls is None else wrap(cls)
