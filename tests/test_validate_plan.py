"""``Catalog.validate``'s per-task fast path answers every input as the full path does: the same
values (defaults applied) when it answers, and it leaves anything it is not sure of to the full
path, which explains it (violations, unsendable values, unknown keys)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from genwire import Catalog, InvalidInputError
from genwire.catalog._validation import is_sendable, json_violations

TASKS = [("clipia", "nano-banana-2", "text-to-image"), ("cliprise", "veo-3-fast", "frames-to-video"),
         ("cliprise", "wan-2-5", "text-to-video"), ("cliprise", "elevenlabs-v3-dialogue", "dialogue"),
         ("clipia", "seedance-2-fast-t2v", "text-to-video"),  # defaults
         ("cliprise", "flux-2", "text-to-image")]  # a tier choice


class Text(str):
    pass


scalars = (st.text(max_size=6) | st.sampled_from(["\ud800", "é", "16:9", "1080p", "720p", "auto", "pro"])
           | st.integers(-3, 20) | st.floats() | st.booleans() | st.none() | st.builds(Text, st.text(max_size=3)))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(["text", "voice", "x", "\udc00"]), inner, max_size=3),
                      max_leaves=6)
names = st.sampled_from(["prompt", "aspect_ratio", "first_frame_url", "last_frame_url", "resolution", "duration",
                         "seed", "negative_prompt", "dialogue", "tier", "nope"])
# mostly valid inputs too: the fast path only answers those
plain = st.fixed_dictionaries({"prompt": st.text(max_size=6) | st.just("\ud800")}, optional={
    "duration": st.sampled_from([4, 5, 8, 10, 4.0, 3, True]), "resolution": st.sampled_from(["720p", "1080p", "8k"]),
    "aspect_ratio": st.sampled_from(["16:9", "auto", "1:1"]), "seed": st.integers(-1, 10) | st.floats(),
    "negative_prompt": st.text(max_size=4)})
inputs = st.dictionaries(names, values, max_size=5) | plain


def full_path(catalog: Catalog, task: tuple[str, str, str], value: Any) -> tuple[str, Any]:
    catalog._plans.clear()  # the first call of a task takes the full path
    catalog._fast.clear()
    try:
        return "ok", catalog.validate(*task, value)
    except InvalidInputError as exc:
        return "error", exc.violations


@given(value=inputs)
def test_the_fast_path_answers_as_the_full_path_or_not_at_all(value: dict[str, Any]) -> None:
    catalog = Catalog.default()
    for task in TASKS:
        expected = full_path(catalog, task, value)
        plan = catalog._plans.get(task)
        if plan is None:  # refused before the task was looked at (unsendable)
            assert expected[0] == "error"
            continue
        fast = plan.fast(value)
        if fast is not None:
            assert expected == ("ok", fast)
        if expected[0] == "ok":
            assert catalog.validate(*task, value) == expected[1]  # through the plan now


def test_the_fast_path_answers_a_plain_valid_input() -> None:
    catalog = Catalog.default()
    good = {"prompt": "a fox"}
    catalog._plans.clear()
    catalog._fast.clear()
    expected = catalog.validate("clipia", "seedance-2-fast-t2v", "text-to-video", good)
    plan = catalog._plans[("clipia", "seedance-2-fast-t2v", "text-to-video")]
    assert plan.fast(good) == expected and len(expected) > len(good)  # defaults applied
    assert plan.fast({**good, "nope": 1}) is None
    assert plan.fast({**good, "prompt": 7}) is None
    assert plan.fast({**good, "prompt": "\ud800"}) is None


@given(value=values)
def test_is_sendable_never_passes_what_json_violations_refuses(value: Any) -> None:
    if is_sendable(value):
        assert json_violations(value) == []
    wrapped = {"a": [value]}
    if is_sendable(value, 2):
        assert json_violations(wrapped) == []


def test_a_value_that_holds_itself_is_not_sendable_and_ends_quickly() -> None:
    loop: list[Any] = []
    loop.extend([loop, loop])  # every level twice as wide as the one above it
    assert not is_sendable(loop) and not is_sendable({"a": loop})


def test_a_level_of_one_type_is_checked_as_one() -> None:
    lines = [{"text": "hi", "voice": "v"}] * 10
    assert is_sendable({"dialogue": lines})
    assert not is_sendable({"dialogue": [*lines, {"text": "\ud800", "voice": "v"}]})
    assert not is_sendable({"dialogue": [*lines, {1: "x"}]})
    assert not is_sendable({"dialogue": [[float("nan")] * 3]})
