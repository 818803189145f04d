"""``redact_reply``'s byte-level shortcut never skips what ``redact_json`` would mask."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genwire._util.redact import MASK, redact_json, redact_reply, scrub_reply

# fragments that make redaction bite, mixed with plain text, escapes and non-ASCII look-alikes
FRAGMENTS = ["apiKey", "API-KEY", "x_api_key", "Authorization", "password", "token", "key", "=", "?", "&", "%3F",
             "%3d", "https://h/p?apiKey=v&a=1", "?token=", "&key=", "%3Fauth%3D", "\\", '"', "é", "a", "7", " ",
             "api\u212aey"]  # KELVIN SIGN lower-cases to ASCII "k"
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=6).map("".join)
scalars = st.none() | st.booleans() | st.integers(-5, 5) | texts
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(texts, inner, max_size=3), max_leaves=12)


@given(documents, st.booleans())
def test_the_shortcut_agrees_with_the_full_walk(value: Any, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    parsed = json.loads(raw)
    assert redact_reply(parsed, raw) == redact_json(parsed)


def test_a_plain_reply_is_returned_as_is_and_a_keyed_one_is_masked() -> None:
    plain = {"request_id": "r-1", "status": "IN_QUEUE", "queue_position": 0}
    assert redact_reply(plain, json.dumps(plain).encode()) is plain
    keyed = {"request_id": "r-1", "api_key": "sk-123456"}
    assert redact_reply(keyed, json.dumps(keyed).encode())["api_key"] == MASK


@pytest.mark.parametrize("raw", [
    b'{"a": "?token=v"}',  # a credential query parameter in text
    b'{"a": "x%3Ftoken%3Dv"}',  # the same, percent-encoded inside another URL
    '{"api\u212aey": "v"}'.encode(),  # KELVIN SIGN lower-cases to ASCII "k"
    b'{"api\\u212aey": "v"}',  # the same, escaped
    b'{"\\u0061pikey": "v"}',  # an escaped letter in a credential-named key
    b'{"a": "?tok\\u0065n=v"}',  # an escaped letter in a credential parameter
    b'{"Pass_Word": "x"}',
])
def test_a_reply_with_something_to_mask_is_masked(raw: bytes) -> None:
    parsed = json.loads(raw)
    assert redact_reply(parsed, raw) == redact_json(parsed) != parsed


def test_a_utf16_reply_is_not_taken_for_a_plain_one() -> None:
    # "%3F" spelled in UTF-16 has NUL bytes between its characters
    raw = '{"a": "https://h/p%3Ftoken%3Dv"}'.encode("utf-16-le")  # no BOM: ASCII bytes only
    parsed = json.loads(raw)
    assert redact_reply(parsed, raw) == redact_json(parsed) != parsed


def test_credential_keys_are_found_at_any_depth_however_often_plain_keys_repeat() -> None:
    plain = {"request_id": "r-1", "logs": [{"message": "m", "level": "info"}]}
    for _ in range(3):
        assert redact_reply(plain, json.dumps(plain).encode()) is plain
    nested = {"request_id": "r-1", "logs": [{"message": "m", "Client-Secret": "s3cr3t"}]}
    assert redact_reply(nested, json.dumps(nested).encode())["logs"][0]["Client-Secret"] == MASK


def test_values_json_cannot_hold_take_the_full_walk() -> None:
    odd = {"request_id": "r-1", "items": ({"api_key": "sk-1"},)}
    assert redact_reply(odd, b'{"request_id": "r-1"}')["items"][0]["api_key"] == MASK


@pytest.mark.parametrize("depth", [10, 900])
def test_a_reply_quoting_the_key_is_scrubbed_however_deep_it_nests(depth: int) -> None:
    key = "sk_live_abcdef123456"
    body = (f'{{"a": "{key}", "x": ' + "[" * depth + "]" * depth + "}").encode()
    out, headers = scrub_reply(body, {"x-echo": key}, [key])
    assert key not in out.decode() and headers == {"x-echo": MASK}
