"""Building pydantic models from values already checked, without running validation again.

Adapters build a ``Job`` from a reply they have just read and checked field by
field (a ``str`` id, a known ``JobStatus``, an ``int`` or ``None``...). Running
pydantic's validator over those values again costs more than the rest of the
reply parsing. ``trusted(Model, "a", "b")`` returns a constructor taking exactly
those fields as keyword arguments, which lays the instance out the way validation
would (every field in declaration order, the others at their defaults,
``model_fields_set`` the names given) and sets it the way pydantic's own
``BaseModel.model_construct`` does. Like ``dataclasses``, it is generated once
per shape, so Python itself checks the arguments (a missing or misspelt name is a
``TypeError``) and a call costs a fraction of validation (bench/README.md).

Exact only for values validation would keep unchanged: exact types (``float``
for a ``float`` field, a ``tuple`` for a tuple field, model instances for nested
models) that pass the model's field validators. ``tests/test_construct.py`` holds
the trusted and the validated path to the same result for arbitrary such values,
and fails if pydantic's internal layout changes; a model whose layout this module
does not know (private attributes, ``model_post_init``, extra="allow", a root
model, aliases, a default that is not an immutable constant) gets its validating
constructor instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["LAYOUT", "trusted", "trusted_update", "updater"]

M = TypeVar("M", bound=BaseModel)

#: the instance slots ``BaseModel.model_construct`` sets; anything else means pydantic changed
LAYOUT = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")

# defaults validation hands out as they are (it deep-copies others)
_CONSTANTS = (type(None), bool, int, float, str, Enum)


def _setters() -> dict[str, Any]:
    """BaseModel's instance slots' setters (what object.__setattr__ finds and calls, minus the lookup)."""
    return {f"_set_{short}": BaseModel.__dict__[slot].__set__
            for short, slot in (("dict", "__dict__"), ("fields_set", "__pydantic_fields_set__"),
                                ("extra", "__pydantic_extra__"), ("private", "__pydantic_private__"))}


def _plain(cls: type[BaseModel]) -> bool:
    """Whether instances of ``cls`` are exactly what ``trusted`` lays out."""
    return (tuple(BaseModel.__slots__) == LAYOUT and not cls.__pydantic_root_model__
            and not cls.__pydantic_post_init__ and not cls.__private_attributes__
            and cls.model_config.get("extra") != "allow"
            and all(f.alias is None and f.validation_alias is None and f.default_factory is None
                    and (f.is_required() or isinstance(f.default, _CONSTANTS) or f.default == ())
                    for f in cls.__pydantic_fields__.values()))


def trusted(cls: type[M], *names: str, **fixed: Any) -> Callable[..., M]:
    """A constructor of ``cls`` taking exactly the fields ``names`` as keyword arguments,
    for values that need no validation (see the module docs). ``fixed`` fields are given too,
    always with these values (immutable constants, e.g. an adapter's provider name)."""
    fields = cls.__pydantic_fields__
    given = (*names, *fixed)
    unknown = [n for n in given if n not in fields]
    missing = [n for n, f in fields.items() if f.is_required() and n not in given]
    if unknown or missing or len(set(given)) != len(given):
        raise TypeError(f"{cls.__name__}: unknown fields {unknown}, missing {missing}, or a name given twice")
    if not all(isinstance(v, _CONSTANTS) for v in fixed.values()):
        raise TypeError(f"{cls.__name__}: a fixed value must be an immutable constant")
    if not _plain(cls):
        return functools.partial(cls, **fixed) if fixed else cls
    # The instance dict is a copy of a template in field order (the given fields' slots hold
    # None until set): copying a dict is cheaper than building one from a literal.
    template = {name: fixed.get(name, None if name in names else field.default)
                for name, field in fields.items()}
    namespace: dict[str, Any] = {"_cls": cls, "_new": object.__new__, "_copy": template.copy,
                                 "_given": frozenset(given), **_setters()}
    stores = "".join(f"    _values[{name!r}] = {name}\n" for name in names)
    source = (f"def build(*, {', '.join(names)}):\n" if names else "def build():\n") + (
        "    _instance = _new(_cls)\n"
        "    _values = _copy()\n"
        f"{stores}"
        "    _set_dict(_instance, _values)\n"
        "    _set_fields_set(_instance, set(_given))\n"
        "    _set_extra(_instance, None)\n"
        "    _set_private(_instance, None)\n"
        "    return _instance\n")
    exec(source, namespace)  # the names are the model's own field names, checked above
    build: Callable[..., M] = namespace["build"]
    build.__qualname__ = f"trusted({cls.__name__})"
    return build


def trusted_update(cls: type[M], *names: str) -> Callable[..., M]:
    """``update(instance, **values)`` taking exactly the fields ``names``: what
    ``instance.model_copy(update=values)`` returns (no validation either way), generated once
    per shape like ``trusted``, so no update dict is built or walked per call. For a model
    ``trusted`` does not lay out, it is ``model_copy`` itself."""
    fields = cls.__pydantic_fields__
    unknown = [n for n in names if n not in fields]
    if unknown or len(set(names)) != len(names) or not names:
        raise TypeError(f"{cls.__name__}: unknown fields {unknown}, no field, or a name given twice")
    if not _plain(cls):
        def copied(instance: M, **update: Any) -> M:
            return instance.model_copy(update=update)

        return copied
    namespace: dict[str, Any] = {"_new": object.__new__, "_names": frozenset(names), **_setters()}
    stores = "".join(f"    _values[{name!r}] = {name}\n" for name in names)
    source = (
        f"def update(_instance, /, *, {', '.join(names)}):\n"
        "    _copy = _new(type(_instance))\n"
        "    _values = _instance.__dict__.copy()\n"
        f"{stores}"
        "    _set_dict(_copy, _values)\n"
        "    _fields_set = _instance.__pydantic_fields_set__\n"
        # an own set, as model_copy's; a copy is cheaper than a union when nothing is added
        "    _set_fields_set(_copy, _fields_set.copy() if _names <= _fields_set else _fields_set | _names)\n"
        "    _set_extra(_copy, None)\n"
        "    _set_private(_copy, None)\n"
        "    return _copy\n")
    exec(source, namespace)  # the names are the model's own field names, checked above
    update: Callable[..., M] = namespace["update"]
    update.__qualname__ = f"trusted_update({cls.__name__})"
    return update


def updater(cls: type[M]) -> Callable[[M, dict[str, Any]], M]:
    """``updated(instance, update)``: what ``instance.model_copy(update=update)`` returns (no
    validation either way), without pydantic's generic copy; ``update`` holds field names only.
    For a model ``trusted`` does not lay out, it is ``model_copy`` itself."""
    if not _plain(cls):
        return lambda instance, update: instance.model_copy(update=update)
    new = object.__new__
    setters = _setters()
    set_dict, set_fields_set = setters["_set_dict"], setters["_set_fields_set"]
    set_extra, set_private = setters["_set_extra"], setters["_set_private"]

    def updated(instance: M, update: dict[str, Any]) -> M:
        copy = new(type(instance))
        values = instance.__dict__.copy()
        values.update(update)
        set_dict(copy, values)
        fields_set = instance.__pydantic_fields_set__.copy()  # a copy grows cheaper than a union builds
        fields_set.update(update)
        set_fields_set(copy, fields_set)
        set_extra(copy, None)
        set_private(copy, None)
        return copy

    return updated
