from __future__ import annotations

import hmac
import json
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

import genwire.webhooks as webhooks
from genwire.errors import (
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    WebhookVerificationError,
)
from genwire.models import Job, JobStatus
from genwire.webhooks import (
    CALLBACK_TOKEN_PARAM,
    add_callback_token,
    bind_callback_url,
    new_callback_token,
    parse_webhook,
    sign_clipia,
    verify_callback_token,
    verify_clipia_signature,
)

# Fixed vectors, computed with the openssl CLI, independently of genwire:
#   printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_test'
#   printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_old'
#   printf '%s' '1700000001.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_test'
#   printf '%s' '1700000000.{"request_id":"req_123","status":"OK","prompt":"café ☕"}' \
#       | openssl dgst -sha256 -hmac 'whsec_test'        (UTF-8 shell)
T = 1700000000
SECRET = "whsec_test"
BODY = b'{"a":1}'
SIG = "38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
SIG_OLD_SECRET = "b9d801502bb535e960ee9aeee7a294b082bda5089d79c7db610b85116ce6faa6"
SIG_NEXT_SECOND = "26284b7c7d415dfc00bef6e3cf4549b9b5bec8ba9f639ab537fbfec18d0d398b"
UNICODE_BODY = '{"request_id":"req_123","status":"OK","prompt":"café ☕"}'.encode()
UNICODE_SIG = "7e65d8f81949d95dcab564f34c4369e8aa12132cb8b4a29f9c46f6c8d4c31cda"
OTHER_SIG = "0" * 64


def header(value: str) -> dict[str, str]:
    return {"X-Clipia-Signature": value}


def verify(value: str, body: bytes | str = BODY, secret: str | list[str] = SECRET, now: float = T) -> None:
    verify_clipia_signature(header(value), body, secret, now=now)


def code_of(value: str, body: bytes | str = BODY, now: float = T) -> str | None:
    with pytest.raises(WebhookVerificationError) as info:
        verify(value, body, now=now)
    return info.value.code


# --- fixed vectors ---------------------------------------------------------------


def test_fixed_vector_verifies_with_bytes_body() -> None:
    verify(f"t={T},v1={SIG}")


def test_fixed_vector_verifies_with_str_body() -> None:
    verify(f"t={T},v1={SIG}", body=BODY.decode())


def test_fixed_vector_over_non_ascii_body_verifies() -> None:
    verify(f"t={T},v1={UNICODE_SIG}", body=UNICODE_BODY)


def test_sign_clipia_reproduces_the_fixed_vector() -> None:
    assert sign_clipia(BODY, SECRET, T) == f"t={T},v1={SIG}"


def test_sign_clipia_reproduces_the_non_ascii_vector() -> None:
    assert sign_clipia(UNICODE_BODY.decode(), SECRET, T) == f"t={T},v1={UNICODE_SIG}"


def test_uppercase_hex_signature_verifies() -> None:
    verify(f"t={T},v1={SIG.upper()}")


# --- round trips -------------------------------------------------------------------


@given(st.binary().filter(lambda b: _is_utf8(b)), st.text(min_size=1), st.integers(0, 10**11))
def test_sign_then_verify_round_trips(body: bytes, secret: str, timestamp: int) -> None:
    verify_clipia_signature(header(sign_clipia(body, secret, timestamp)), body, secret, now=timestamp)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- header lookup --------------------------------------------------------------------


def test_lower_case_header_name_is_found() -> None:
    verify_clipia_signature({"x-clipia-signature": f"t={T},v1={SIG}"}, BODY, SECRET, now=T)


def test_headers_as_list_of_pairs_are_accepted() -> None:
    verify_clipia_signature([("X-CLIPIA-SIGNATURE", f"t={T},v1={SIG}")], BODY, SECRET, now=T)


def test_raw_asgi_byte_headers_are_accepted() -> None:
    verify_clipia_signature([(b"x-clipia-signature", f"t={T},v1={SIG}".encode())], BODY, SECRET, now=T)


def test_httpx_headers_object_is_accepted() -> None:
    verify_clipia_signature(httpx.Headers({"X-Clipia-Signature": f"t={T},v1={SIG}"}), BODY, SECRET, now=T)


def test_missing_signature_header_is_rejected() -> None:
    with pytest.raises(WebhookVerificationError) as info:
        verify_clipia_signature({"content-type": "application/json"}, BODY, SECRET, now=T)
    assert info.value.code == "missing_signature"


def test_repeated_signature_header_is_rejected() -> None:
    pairs = [("x-clipia-signature", f"t={T},v1={SIG}"), ("X-Clipia-Signature", f"t={T},v1={OTHER_SIG}")]
    with pytest.raises(WebhookVerificationError):
        verify_clipia_signature(pairs, BODY, SECRET, now=T)


def test_unreadable_headers_object_is_a_verification_error() -> None:
    with pytest.raises(WebhookVerificationError) as info:
        verify_clipia_signature([("x-clipia-signature", 5)], BODY, SECRET, now=T)  # type: ignore[list-item]
    assert info.value.code == "invalid_headers"


# --- header format ---------------------------------------------------------------------


def test_spaces_around_fields_are_tolerated() -> None:
    verify(f" t = {T} , v1 = {SIG} ")


def test_unknown_fields_are_ignored() -> None:
    verify(f"t={T},v0=whatever,v1={SIG}")


def test_any_matching_v1_among_several_verifies() -> None:
    verify(f"t={T},v1={OTHER_SIG},v1={SIG}")


@pytest.mark.parametrize("t", ["1e9", "+5", "0x1", "\u0661\u0662\u0663", "", "-5", "1.0", "17 00", "1" * 16])
def test_timestamp_that_is_not_plain_ascii_digits_is_rejected(t: str) -> None:
    assert code_of(f"t={t},v1={SIG}") == "malformed_signature"


@pytest.mark.parametrize("v1", ["xyz", SIG[:-1], SIG + "0", "g" * 64, ""])
def test_v1_that_is_not_64_hex_digits_is_rejected(v1: str) -> None:
    assert code_of(f"t={T},v1={v1}") == "malformed_signature"


@pytest.mark.parametrize(
    "value", ["", SIG, f"v1={SIG}", f"t={T}", f"t={T},t={T},v1={SIG}", f"t={T},,v1={SIG}", f"t={T};v1={SIG}"]
)
def test_header_not_of_the_documented_form_is_rejected(value: str) -> None:
    assert code_of(value) in {"malformed_signature", "missing_signature"}


# --- timestamp window ---------------------------------------------------------------------


def test_timestamp_at_the_tolerance_edge_is_accepted() -> None:
    verify(f"t={T},v1={SIG}", now=T + 300)


def test_stale_timestamp_is_rejected() -> None:
    assert code_of(f"t={T},v1={SIG}", now=T + 301) == "timestamp_out_of_tolerance"


def test_future_timestamp_is_rejected() -> None:
    assert code_of(f"t={T},v1={SIG}", now=T - 301) == "timestamp_out_of_tolerance"


def test_custom_tolerance_is_honoured() -> None:
    with pytest.raises(WebhookVerificationError):
        verify_clipia_signature(header(f"t={T},v1={SIG}"), BODY, SECRET, tolerance=10, now=T + 11)


def test_timestamp_is_covered_by_the_signature() -> None:
    # the signature is valid for T; claiming T+1 (within tolerance) must fail
    assert code_of(f"t={T + 1},v1={SIG}") == "signature_mismatch"
    verify(f"t={T + 1},v1={SIG_NEXT_SECOND}")


# --- body and secrets ---------------------------------------------------------------------


def test_tampered_body_is_rejected() -> None:
    assert code_of(f"t={T},v1={SIG}", body=b'{"a":2}') == "signature_mismatch"


def test_wrong_secret_is_rejected() -> None:
    with pytest.raises(WebhookVerificationError) as info:
        verify(f"t={T},v1={SIG}", secret="whsec_other")
    assert info.value.code == "signature_mismatch"


def test_non_utf8_body_is_rejected_even_when_signed() -> None:
    body = b'{"a":"\xff"}'
    assert code_of(sign_clipia(body, SECRET, T), body=body) == "invalid_body_encoding"


def test_any_of_several_secrets_verifies_during_rotation() -> None:
    verify(f"t={T},v1={SIG_OLD_SECRET}", secret=["whsec_new", SECRET, "whsec_old"])


def test_every_secret_and_signature_pair_is_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append(1)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    verify(f"t={T},v1={SIG},v1={OTHER_SIG}", secret=[SECRET, "whsec_old", "whsec_x"])
    assert len(calls) == 6  # no early exit after the first match


def test_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        verify(f"t={T},v1={SIG}", secret="")


def test_negative_tolerance_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        verify_clipia_signature(header(f"t={T},v1={SIG}"), BODY, SECRET, tolerance=-1, now=T)


# --- never anything but WebhookVerificationError ------------------------------------------

header_values = st.one_of(
    st.text(),
    st.from_regex(r"\A *t=[0-9\u0660-\u0669+e.x-]{0,14} *(, *v[01]=[0-9a-gA-G]{0,66} *){0,3}\Z"),
)
header_sets = st.one_of(
    st.dictionaries(st.sampled_from(["X-Clipia-Signature", "x-clipia-signature", "other"]), header_values),
    st.lists(st.tuples(st.sampled_from([b"x-clipia-signature", b"other"]), st.binary())),
    st.lists(st.tuples(st.text(), st.text())),
)


@given(header_sets, st.one_of(st.binary(), st.text()), st.floats(0, 2 * T))
def test_arbitrary_deliveries_raise_only_verification_errors(headers: Any, body: bytes | str, now: float) -> None:
    with pytest.raises(WebhookVerificationError):
        verify_clipia_signature(headers, body, SECRET, now=now)


# --- callback tokens ----------------------------------------------------------------------


def test_new_callback_tokens_are_url_safe_and_distinct() -> None:
    tokens = {new_callback_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(len(t) >= 43 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


def unbound(url: str, token: str) -> str:
    """``add_callback_token(url, token)``, which is deprecated (it makes an unbound URL) and says so."""
    with pytest.warns(DeprecationWarning, match="unbound callback URL"):
        return add_callback_token(url, token)


def test_add_callback_token_is_deprecated_for_the_bound_path() -> None:
    with pytest.warns(DeprecationWarning, match="bind_callback_url"):
        add_callback_token("https://gw/hook", "tok")


def test_add_callback_token_to_url_without_query() -> None:
    assert unbound("https://gw/hook", "tok") == f"https://gw/hook?{CALLBACK_TOKEN_PARAM}=tok"


def test_add_callback_token_keeps_other_params_in_order_and_fragment() -> None:
    url = "https://gw/hook?b=2&a=%2F#frag"
    assert unbound(url, "tok") == "https://gw/hook?b=2&a=%2F&genwire_token=tok#frag"


def test_add_callback_token_replaces_an_existing_token_in_place() -> None:
    url = "https://gw/hook?genwire_token=old&a=1&genwire_token=older"
    assert unbound(url, "new") == "https://gw/hook?genwire_token=new&a=1"


def test_add_callback_token_percent_encodes_the_token() -> None:
    assert unbound("https://gw/h", "a+b/c") == "https://gw/h?genwire_token=a%2Bb%2Fc"


def test_callback_token_round_trips() -> None:
    token = new_callback_token()
    assert verify_callback_token(bind_callback_url("https://gw/hook?x=1", token, "order-1"), token) == "order-1"


def test_callback_token_round_trips_with_reserved_characters() -> None:
    assert verify_callback_token(bind_callback_url("https://gw/h", "a+b/c&d", "r&f/1"), "a+b/c&d") == "r&f/1"


def test_an_unbound_token_still_verifies_without_a_reference() -> None:
    assert verify_callback_token(unbound("https://gw/h", "a+b/c&d"), "a+b/c&d") is None


def test_callback_token_is_read_from_a_bare_query_string() -> None:
    verify_callback_token("x=1&genwire_token=tok", "tok")


def test_missing_callback_token_is_rejected() -> None:
    with pytest.raises(WebhookVerificationError) as info:
        verify_callback_token("https://gw/hook?x=1", "tok")
    assert info.value.code == "missing_callback_token"


def test_wrong_callback_token_is_rejected() -> None:
    with pytest.raises(WebhookVerificationError) as info:
        verify_callback_token("https://gw/hook?genwire_token=nope", "tok")
    assert info.value.code == "invalid_callback_token"


def test_repeated_callback_token_is_rejected() -> None:
    with pytest.raises(WebhookVerificationError):
        verify_callback_token("https://gw/h?genwire_token=tok&genwire_token=tok", "tok")


def test_any_of_several_callback_tokens_verifies() -> None:
    verify_callback_token("https://gw/h?genwire_token=old", ["new", "old"])


def test_token_in_fragment_does_not_count() -> None:
    with pytest.raises(WebhookVerificationError):
        verify_callback_token("https://gw/h#genwire_token=tok", "tok")


# --- parse_webhook --------------------------------------------------------------------------


class FakeAdapter:
    def __init__(self, provider: str, fail: bool = False) -> None:
        self.provider = provider
        self.signs_webhooks = provider == "clipia"
        self.webhook_scheme = "clipia" if self.signs_webhooks else None
        self.fail = fail
        self.calls: list[tuple[dict[str, Any], Mapping[str, str]]] = []

    def parse_webhook(self, payload: dict[str, Any], headers: Mapping[str, str]) -> Job:
        self.calls.append((payload, headers))
        if self.fail:
            raise MalformedResponseError("no taskId", provider=self.provider)
        return Job(provider=self.provider, model="m", id=str(payload["id"]), status=JobStatus.SUCCEEDED)


@pytest.fixture
def adapters(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, FakeAdapter]]:
    registry = {"clipia": FakeAdapter("clipia"), "cliprise": FakeAdapter("cliprise")}
    real = webhooks._webhook_adapter

    def lookup(provider: str, catalog: object = None) -> Any:
        return registry[provider] if provider in registry else real(provider)

    monkeypatch.setattr(webhooks, "_webhook_adapter", lookup)
    yield registry


def clipia_delivery(payload: bytes) -> dict[str, str]:
    return header(sign_clipia(payload, SECRET, T))


def test_signed_clipia_delivery_becomes_a_job(adapters: dict[str, FakeAdapter]) -> None:
    body = b'{"id":"req_1","status":"OK"}'
    job = parse_webhook("clipia", clipia_delivery(body), body, secret=SECRET, now=T)
    assert (job.provider, job.id) == ("clipia", "req_1")
    assert [payload for payload, _ in adapters["clipia"].calls] == [{"id": "req_1", "status": "OK"}]


def test_adapter_receives_headers_with_lower_case_names(adapters: dict[str, FakeAdapter]) -> None:
    headers = [("X-Request-Id", "a"), ("x-request-id", "b"), ("Content-Type", "application/json")]
    parse_webhook("cliprise", headers, b'{"id":"t1"}', secret=None)
    assert adapters["cliprise"].calls[0][1] == {"x-request-id": "a, b", "content-type": "application/json"}


def test_bad_clipia_signature_never_reaches_the_adapter(adapters: dict[str, FakeAdapter]) -> None:
    with pytest.raises(WebhookVerificationError):
        parse_webhook("clipia", header(f"t={T},v1={OTHER_SIG}"), b'{"id":1}', secret=SECRET, now=T)
    assert adapters["clipia"].calls == []


def test_clipia_without_a_secret_is_a_configuration_error(adapters: dict[str, FakeAdapter]) -> None:
    with pytest.raises(ConfigurationError):
        parse_webhook("clipia", clipia_delivery(BODY), BODY, secret=None, now=T)


def test_secret_must_be_passed_explicitly() -> None:
    with pytest.raises(TypeError):
        parse_webhook("cliprise", {}, b"{}")  # type: ignore[call-arg]


def test_signed_body_that_is_not_json_is_a_verification_error(adapters: dict[str, FakeAdapter]) -> None:
    body = b"oops https://x/s?apiKey=zzz " + SECRET.encode()
    with pytest.raises(WebhookVerificationError) as info:
        parse_webhook("clipia", clipia_delivery(body), body, secret=SECRET, now=T)
    assert info.value.code == "malformed_payload"
    assert info.value.body == "oops https://x/s?apiKey=*** ***"


@pytest.mark.parametrize("body", [b"[1,2]", b'"x"', b'{"a":NaN}', b"[" * 100_000, b'{"a":1}{'])
def test_body_that_is_not_a_json_object_is_a_verification_error(
    adapters: dict[str, FakeAdapter], body: bytes
) -> None:
    with pytest.raises(WebhookVerificationError):
        parse_webhook("cliprise", {}, body, secret=None)


def test_cliprise_callback_with_matching_token_becomes_a_job(adapters: dict[str, FakeAdapter]) -> None:
    url = bind_callback_url("https://gw/hooks/cliprise", "tok", "order-1")
    job = parse_webhook("cliprise", {}, b'{"id":"t1","status":"success"}', secret="tok", url=url)
    assert job.id == "t1"


def test_cliprise_callback_with_wrong_token_is_rejected(adapters: dict[str, FakeAdapter]) -> None:
    url = bind_callback_url("https://gw/hooks/cliprise", "forged", "order-1")
    with pytest.raises(WebhookVerificationError) as info:
        parse_webhook("cliprise", {}, b'{"id":"t1"}', secret="tok", url=url)
    assert info.value.provider == "cliprise"
    assert adapters["cliprise"].calls == []


def test_cliprise_token_check_needs_the_url(adapters: dict[str, FakeAdapter]) -> None:
    with pytest.raises(ConfigurationError):
        parse_webhook("cliprise", {}, b'{"id":"t1"}', secret="tok")


def test_cliprise_callback_is_accepted_unverified_when_secret_is_none(adapters: dict[str, FakeAdapter]) -> None:
    assert parse_webhook("cliprise", {}, b'{"id":"t1"}', secret=None).id == "t1"


def test_non_utf8_cliprise_body_is_a_verification_error(adapters: dict[str, FakeAdapter]) -> None:
    with pytest.raises(WebhookVerificationError):
        parse_webhook("cliprise", {}, b'{"id":"\xff"}', secret=None)


def test_unknown_provider_is_not_found(adapters: dict[str, FakeAdapter]) -> None:
    with pytest.raises(NotFoundError):
        parse_webhook("acme", {}, b"{}", secret="s3cret")


def test_payload_the_adapter_cannot_read_is_a_verification_error(adapters: dict[str, FakeAdapter]) -> None:
    adapters["cliprise"].fail = True
    with pytest.raises(WebhookVerificationError) as info:
        parse_webhook("cliprise", {}, json.dumps({"status": "success"}), secret=None)
    assert isinstance(info.value.__cause__, MalformedResponseError)
