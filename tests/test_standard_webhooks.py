"""Standard Webhooks verification, held to the reference library (standardwebhooks, test-only)."""

from __future__ import annotations

import base64
import hmac
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError as ReferenceError

from genwire._stdwebhooks import sign_standard_webhook, verify_standard_webhook
from genwire.errors import ConfigurationError, WebhookVerificationError

SECRET = "whsec_" + base64.b64encode(b"a secret of some length!").decode()
OTHER = "whsec_" + base64.b64encode(b"the rotated-in secret").decode()
NOW = 1_700_000_000


def _headers(body: bytes, secret: str = SECRET, msg_id: str = "msg_1", stamp: int = NOW) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(stamp),
            "webhook-signature": sign_standard_webhook(msg_id, stamp, body, secret)}


def _code(headers: object, body: bytes = b"{}", **kwargs: object) -> str | None:
    with pytest.raises(WebhookVerificationError) as info:
        verify_standard_webhook(headers, body, SECRET, now=NOW, **kwargs)  # type: ignore[arg-type]
    return info.value.code


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=200), msg_id=st.from_regex(r"msg_[A-Za-z0-9]{1,30}", fullmatch=True),
       stamp=st.integers(NOW - 200, NOW + 200))
def test_signatures_agree_with_the_reference_library_both_ways(body: bytes, msg_id: str, stamp: int) -> None:
    reference = Webhook(SECRET)
    theirs = reference.sign(msg_id, datetime.fromtimestamp(stamp, timezone.utc), body)
    assert sign_standard_webhook(msg_id, stamp, body, SECRET) == theirs
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": theirs}
    assert verify_standard_webhook(headers, body, SECRET, now=NOW) == msg_id


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=64), flip=st.integers(0, 31))
def test_a_tampered_signature_fails_here_and_in_the_reference(body: bytes, flip: int) -> None:
    good = base64.b64decode(sign_standard_webhook("msg_1", NOW, body, SECRET)[3:])
    bad = bytearray(good)
    bad[flip] ^= 1
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(NOW),
               "webhook-signature": "v1," + base64.b64encode(bytes(bad)).decode()}
    assert _code(headers, body) == "signature_mismatch"
    headers["webhook-timestamp"] = str(int(datetime.now(timezone.utc).timestamp()))  # the reference reads the clock
    with pytest.raises(ReferenceError):
        Webhook(SECRET).verify(body, headers)


def test_any_one_valid_entry_among_several_passes() -> None:
    body = b'{"id":"p1"}'
    mine = sign_standard_webhook("msg_1", NOW, body, SECRET)
    other = sign_standard_webhook("msg_1", NOW, body, OTHER)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": f"v1a,xyz {other} {mine}"}
    assert verify_standard_webhook(headers, body, SECRET, now=NOW) == "msg_1"
    assert verify_standard_webhook(headers, body, [OTHER], now=NOW) == "msg_1"


def test_a_rotated_secret_list_accepts_either_secret() -> None:
    body = b"{}"
    assert verify_standard_webhook(_headers(body, OTHER), body, [SECRET, OTHER], now=NOW) == "msg_1"


def test_the_replay_window_is_on_by_default() -> None:
    body = b"{}"
    assert _code(_headers(body, stamp=NOW - 301), body) == "timestamp_out_of_tolerance"
    assert _code(_headers(body, stamp=NOW + 301), body) == "timestamp_out_of_tolerance"
    assert verify_standard_webhook(_headers(body, stamp=NOW - 300), body, SECRET, now=NOW) == "msg_1"


def test_turning_the_window_off_is_an_explicit_none() -> None:
    body = b"{}"
    assert verify_standard_webhook(_headers(body, stamp=1), body, SECRET, now=NOW, tolerance=None) == "msg_1"


def test_a_changed_body_id_or_timestamp_breaks_the_signature() -> None:
    body = b'{"status":"succeeded"}'
    headers = _headers(body)
    assert _code(headers, b'{"status":"failed"}') == "signature_mismatch"
    assert _code({**headers, "webhook-id": "msg_2"}, body) == "signature_mismatch"
    assert _code({**headers, "webhook-timestamp": str(NOW + 1)}, body) == "signature_mismatch"


@pytest.mark.parametrize(("change", "code"), [
    ({"webhook-id": None}, "missing_signature"),
    ({"webhook-timestamp": None}, "missing_signature"),
    ({"webhook-signature": None}, "missing_signature"),
    ({"webhook-timestamp": "-5"}, "malformed_signature"),
    ({"webhook-timestamp": "1e9"}, "malformed_signature"),
    ({"webhook-signature": "v1"}, "malformed_signature"),
    ({"webhook-signature": "v1,not base64!"}, "malformed_signature"),
    ({"webhook-signature": "v2,AAAA"}, "malformed_signature"),
])
def test_malformed_headers_are_typed_errors(change: dict[str, str | None], code: str) -> None:
    headers = {k: v for k, v in {**_headers(b"{}"), **change}.items() if v is not None}
    assert _code(headers) == code


def test_repeated_headers_are_refused() -> None:
    pairs = [*_headers(b"{}").items(), ("webhook-signature", "v1,AAAA")]
    assert _code(pairs) == "malformed_signature"


def test_headers_are_read_case_insensitively_from_pairs_of_bytes() -> None:
    body = b"{}"
    pairs = [(k.upper().encode(), v.encode()) for k, v in _headers(body).items()]
    assert verify_standard_webhook(pairs, body, SECRET, now=NOW) == "msg_1"


def test_unreadable_headers_are_a_bad_delivery_not_a_crash() -> None:
    assert _code(object()) == "invalid_headers"


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_***", [], 42])
def test_a_bad_secret_is_a_configuration_error(secret: object) -> None:
    with pytest.raises(ConfigurationError):
        verify_standard_webhook(_headers(b"{}"), b"{}", secret, now=NOW)  # type: ignore[arg-type]


def test_comparison_is_constant_time() -> None:
    import genwire._stdwebhooks as module

    assert module.hmac is hmac and "compare_digest" in module.verify_standard_webhook.__code__.co_names
