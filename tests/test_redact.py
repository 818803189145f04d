from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genwire._util.redact import MASK, redact_json, redact_text, strip_query_secrets

KEY = "ck_live_5f3a9b2c"

# --- strip_query_secrets -------------------------------------------------------


def test_cliprise_file_url_loses_its_api_key_and_keeps_the_rest() -> None:
    url = f"https://business.api.cliprise.app/app/cliprise/status?apiKey={KEY}&taskId=T1&download=true"
    assert strip_query_secrets(url) == (
        "https://business.api.cliprise.app/app/cliprise/status?taskId=T1&download=true"
    )


@pytest.mark.parametrize(
    "name", ["apiKey", "APIKEY", "api_key", "api-key", "key", "token", "access_token", "genwire_token"]
)
def test_credential_param_names_are_stripped_case_insensitively(name: str) -> None:
    assert strip_query_secrets(f"https://h/p?a=1&{name}=s3cret&b=2") == "https://h/p?a=1&b=2"


def test_percent_encoded_param_name_is_stripped() -> None:
    assert strip_query_secrets("https://h/p?api%5Fkey=x&a=1") == "https://h/p?a=1"


def test_question_mark_goes_when_no_param_remains() -> None:
    assert strip_query_secrets("https://h/p?apiKey=x#frag") == "https://h/p#frag"


def test_fragment_and_encoding_of_kept_params_are_untouched() -> None:
    url = "https://h/p?q=a%20b&token=x&z=%2F#sec?apiKey=1"
    assert strip_query_secrets(url) == "https://h/p?q=a%20b&z=%2F#sec?apiKey=1"


def test_url_without_secrets_is_returned_unchanged() -> None:
    url = "https://h/p?a=1&b=2"
    assert strip_query_secrets(url) is url


def test_presigned_storage_url_keeps_its_signature() -> None:
    url = (
        "https://bucket.s3.amazonaws.com/out.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Security-Token=abc&X-Amz-Signature=def"
    )
    assert strip_query_secrets(url) == url


def test_params_merely_containing_key_are_kept() -> None:
    url = "https://h/p?monkey=1&keyframe=2&taskId=3"
    assert strip_query_secrets(url) == url


# --- redact_text --------------------------------------------------------------


def test_known_secret_is_masked_anywhere_in_text() -> None:
    assert redact_text(f"auth failed for {KEY}.", [KEY]) == f"auth failed for {MASK}."


def test_percent_encoded_secret_is_masked() -> None:
    secret = "a/b+c=d"
    assert redact_text("x=a%2Fb%2Bc%3Dd", [secret]) == f"x={MASK}"


def test_short_and_empty_secrets_are_ignored() -> None:
    assert redact_text("abc a b", ["", "abc"]) == "abc a b"


def test_longer_secret_containing_a_shorter_one_is_masked_whole() -> None:
    assert redact_text("key=abcd1234", ["abcd", "abcd1234"]) == f"key={MASK}"


def test_api_key_in_embedded_url_is_masked_without_knowing_it() -> None:
    text = 'GET https://x/status?apiKey=zzz&taskId=1 failed'
    assert redact_text(text) == f"GET https://x/status?apiKey={MASK}&taskId=1 failed"


def test_api_key_in_percent_encoded_nested_url_is_masked() -> None:
    text = "https://a/cb?next=https%3A%2F%2Fx%2Fs%3FapiKey%3Dzzz%26taskId%3D1"
    assert redact_text(text) == f"https://a/cb?next=https%3A%2F%2Fx%2Fs%3FapiKey%3D{MASK}%26taskId%3D1"


def test_api_key_inside_json_text_stops_at_the_quote() -> None:
    text = '{"fileURL": "https://x/s?taskId=1&apiKey=zzz"}'
    assert redact_text(text) == '{"fileURL": "https://x/s?taskId=1&apiKey=' + MASK + '"}'


def test_text_without_secrets_is_unchanged() -> None:
    text = "prompt: a fox in the snow, key light from the left"
    assert redact_text(text, [KEY]) == text


@given(st.text(), st.text(min_size=4).filter(lambda s: "*" not in s))
def test_a_known_secret_never_survives_redaction(prefix: str, secret: str) -> None:
    assert secret not in redact_text(prefix + secret + prefix, [secret])


# --- redact_json ---------------------------------------------------------------


def test_json_strings_are_redacted_recursively() -> None:
    payload = {"a": [{"url": f"https://x/s?apiKey={KEY}&taskId=1"}], "n": 3, "ok": True, "z": None}
    assert redact_json(payload, [KEY]) == {
        "a": [{"url": f"https://x/s?apiKey={MASK}&taskId=1"}], "n": 3, "ok": True, "z": None,
    }


def test_json_values_under_credential_keys_are_masked() -> None:
    assert redact_json({"apiKey": "unknown-value", "Authorization": "Bearer x"}) == {
        "apiKey": MASK, "Authorization": MASK,
    }


def test_json_ordinary_key_field_is_kept() -> None:
    assert redact_json({"key": "aspect_ratio", "tokens": 12}) == {"key": "aspect_ratio", "tokens": 12}


def test_json_secret_in_a_key_is_masked() -> None:
    assert redact_json({KEY: 1}, [KEY]) == {MASK: 1}


def test_redact_json_does_not_mutate_its_input() -> None:
    payload: dict[str, Any] = {"msg": f"bad key {KEY}"}
    redact_json(payload, [KEY])
    assert payload == {"msg": f"bad key {KEY}"}


def test_redact_json_returns_the_same_object_when_clean() -> None:
    payload = {"status": "success", "outputs": [{"url": "https://cdn/x.png"}]}
    assert redact_json(payload, [KEY]) is payload


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


# keys always hold letters; an all-digit "secret" would also match inside numbers, which are never secrets
keys = st.text(alphabet="abcdefXYZ0123456789_", min_size=6, max_size=12).filter(lambda s: any(c.isalpha() for c in s))


@given(json_values, keys)
def test_redacted_json_never_contains_the_secret(value: Any, secret: str) -> None:
    wrapped = {"before": value, "leak": f"key {secret}", secret: [secret]}
    assert secret not in json.dumps(redact_json(wrapped, [secret]))
