"""``genwire._util.json.loads``: its shortcut for plain UTF-8 replies reads exactly what the full path reads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genwire._util.json import MAX_DEPTH, _loads, loads

# pieces of JSON text, valid and not: escapes, surrogates (escaped and raw), NaN, overflow, padding
PIECES = ['{"a":', '[', ']', '}', '"x"', '"\\ud800"', '"\\u00e9"', '"é"', "1", "1.5", "1e999", "NaN",
          "-Infinity", "true", "null", ",", ":", " ", "\n", "\t", "\x0b", "\x00", '"\\\\"', "\ufeff", "9" * 40]
texts = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                      | st.text(), lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(), inner, max_size=4), max_leaves=15)


def outcome(read: Any, data: bytes) -> str:
    try:
        return repr(read(data))  # repr tells 1 from 1.0 from True
    except ValueError:
        return "ValueError"


@given(texts, st.sampled_from(["utf-8", "utf-16", "utf-8-sig"]))
def test_the_shortcut_reads_what_the_full_path_reads(text: str, encoding: str) -> None:
    data = text.encode(encoding, "surrogatepass")
    assert outcome(loads, data) == outcome(_loads, data)


@given(values, st.booleans(), st.sampled_from(["", " ", "\n", "\r\n\t"]))
def test_documents_read_back_whole(value: Any, ascii_only: bool, pad: str) -> None:
    data = (json.dumps(value, ensure_ascii=ascii_only) + pad).encode("utf-8", "surrogatepass")
    assert outcome(loads, data) == outcome(_loads, data)


@pytest.mark.parametrize("data", [b'{"a": NaN}', b'{"a": 1e999}', b"[" * 100_000 + b"]" * 100_000,
                                  b'{"a": 1} x', b'{"a": 1}\x0b', b'{"a": 1',
                                  b'{"a": "\xff"}'])
def test_what_is_not_plain_json_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):
        loads(data)


@pytest.mark.parametrize("data", [b'{"a": "\xed\xa0\x80"}', b'{"a": "\\ud800"}', '{"a": "\\udc00"}'.encode("utf-16")])
def test_lone_surrogates_become_replacement_characters(data: bytes) -> None:
    assert loads(data) == {"a": "\ufffd"}


@pytest.mark.parametrize("wrap", [lambda doc: doc, lambda doc: '{"a": "\\u00e9", "b": ' + doc + "}"],
                         ids=["plain", "escaped"])
@pytest.mark.parametrize("as_bytes", [True, False], ids=["bytes", "str"])
def test_nesting_deeper_than_max_depth_is_refused(wrap: Any, as_bytes: bool) -> None:
    # pydantic cannot serialize a Job holding a deeper value; the parser alone would allow ~1000
    def doc(depth: int) -> Any:
        text = wrap("[" * depth + "]" * depth)
        return text.encode() if as_bytes else text

    inner = MAX_DEPTH - (0 if doc(1)[:1] in (b"[", "[") else 1)
    assert loads(doc(inner)) is not None
    with pytest.raises(ValueError):
        loads(doc(inner + 1))
    with pytest.raises(ValueError):
        loads(doc(900))


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = '{"a": "' + "[{" * 300 + '"}'
    assert loads(text.encode()) == {"a": "[{" * 300}
