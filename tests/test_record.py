"""``@record`` classes behave as the ``@dataclass(frozen=True)`` they replace."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any

import pytest

from genwire._util.record import record


@dataclass(frozen=True)
class Plain:
    a: int
    b: str = "x"
    c: tuple[Any, ...] = field(default_factory=tuple, repr=False)
    d: tuple[int, ...] = field(default=(), compare=False)


@record
class PlainRecord:
    a: int
    b: str = "x"
    c: tuple[Any, ...] = field(default_factory=tuple, repr=False)
    d: tuple[int, ...] = field(default=(), compare=False)

    def __init__(self, a: int, b: str = "x", c: tuple[Any, ...] | None = None, d: tuple[int, ...] = ()) -> None:
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "c", () if c is None else c)
        object.__setattr__(self, "d", d)


@dataclass(frozen=True, slots=True)
class Slotted:
    a: int
    b: tuple[str, ...] = ()


@record(slots=True)
class SlottedRecord:
    a: int
    b: tuple[str, ...] = ()

    def __init__(self, a: int, b: tuple[str, ...] = ()) -> None:
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)


PAIRS = [(Plain, PlainRecord), (Slotted, SlottedRecord)]


def _renamed(text: str, cls: type) -> str:
    return text.replace(cls.__name__ + "(", "X(")


@pytest.mark.parametrize(("dc", "rec"), PAIRS, ids=["plain", "slots"])
def test_repr_equality_and_hash_match_the_dataclass(dc: type, rec: type) -> None:
    a, b = dc(1), rec(1)
    assert _renamed(repr(a), dc) == _renamed(repr(b), rec)
    assert b == rec(1) and b != rec(2) and hash(b) == hash(rec(1)) == hash(a)
    assert b != a and (b == a) is (a == b)  # another class: NotImplemented both ways, like a dataclass
    assert rec.__match_args__ == dc.__match_args__


def test_compare_false_fields_are_left_out_of_equality_and_hash() -> None:
    assert PlainRecord(1, d=(1,)) == PlainRecord(1, d=(2,))
    assert hash(PlainRecord(1, d=(1,))) == hash(PlainRecord(1, d=(2,))) == hash(Plain(1, d=(3,)))


@pytest.mark.parametrize(("dc", "rec"), PAIRS, ids=["plain", "slots"])
def test_fields_cannot_be_assigned_or_deleted(dc: type, rec: type) -> None:
    obj = rec(1)
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'a'"):
        obj.a = 2
    with pytest.raises(FrozenInstanceError, match="cannot delete field 'a'"):
        del obj.a
    with pytest.raises(FrozenInstanceError):
        obj.other = 1
    assert obj.a == 1


@pytest.mark.parametrize(("dc", "rec"), PAIRS, ids=["plain", "slots"])
def test_dataclass_functions_pickle_and_copy_work(dc: type, rec: type) -> None:
    obj = rec(1, b=("y",) if rec is SlottedRecord else "y")
    assert [f.name for f in dataclasses.fields(obj)] == [f.name for f in dataclasses.fields(dc)]
    assert [(f.default, f.default_factory) for f in dataclasses.fields(obj)] == \
           [(f.default, f.default_factory) for f in dataclasses.fields(dc)]
    assert dataclasses.replace(obj, a=5) == rec(5, obj.b)
    assert dataclasses.asdict(obj)["a"] == 1
    for clone in (pickle.loads(pickle.dumps(obj)), copy.copy(obj), copy.deepcopy(obj)):
        assert clone == obj and type(clone) is rec
    assert hasattr(obj, "__dict__") is hasattr(dc(1), "__dict__")
    assert dataclasses.is_dataclass(obj)


def test_a_record_must_write_its_own_init() -> None:
    with pytest.raises(TypeError, match="must define __init__"):
        @record
        class NoInit:
            a: int
