"""The error tree people catch by: one root per origin, normalized codes across providers."""

from __future__ import annotations

import pytest
from support import reply

import genwire
from genwire import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    Catalog,
    Client,
    ConfigurationError,
    GenwireError,
    IdempotencyConflictError,
    InsufficientCreditsError,
    InvalidInputError,
    JobFailedError,
    JobOutcomeError,
    NetworkError,
    NotFoundError,
    ProviderError,
    ProviderNotFoundError,
    RateLimitError,
    ServerError,
    UnknownNameError,
    UsageError,
)
from genwire.adapters import get_adapter
from genwire.testing import FakeProviders


@pytest.mark.parametrize("cls", [AuthenticationError, InsufficientCreditsError, RateLimitError,
                                 ProviderNotFoundError, BadRequestError, IdempotencyConflictError, ServerError])
def test_every_status_error_is_caught_by_provider_error_and_api_status_error(cls: type[GenwireError]) -> None:
    assert issubclass(cls, APIStatusError) and issubclass(cls, ProviderError)
    assert not issubclass(cls, JobOutcomeError)


def test_existing_names_keep_their_meaning_for_existing_except_clauses() -> None:
    assert issubclass(BadRequestError, InvalidInputError)          # a provider 400 is still invalid input
    assert issubclass(ProviderNotFoundError, NotFoundError)         # a provider 404 is still not found
    assert issubclass(UnknownNameError, NotFoundError)              # so is an unknown catalog model
    assert issubclass(NetworkError, ProviderError)                  # transport faults stay under ProviderError
    assert not issubclass(UnknownNameError, ProviderError)          # a typo locally is no provider's word


@pytest.mark.parametrize("cls", [ConfigurationError, InvalidInputError, UnknownNameError, genwire.CatalogError,
                                 genwire.UnsupportedOperationError])
def test_what_happened_before_the_wire_shares_one_root(cls: type[GenwireError]) -> None:
    assert issubclass(cls, UsageError)


def test_job_outcomes_stand_apart() -> None:
    for cls in (JobFailedError, genwire.WaitTimeoutError):
        assert issubclass(cls, JobOutcomeError) and not issubclass(cls, (ProviderError, UsageError))


def test_an_unknown_model_is_a_usage_error_before_anything_is_sent() -> None:
    with pytest.raises(UsageError) as info:
        Catalog.default().get("cliprise", "veo-3-fastt")
    assert isinstance(info.value, NotFoundError) and info.value.code == "unknown_model"


def test_a_402_is_caught_by_except_provider_error_with_both_codes() -> None:
    fakes = FakeProviders()
    fakes.clipia.fail_next(402)
    with fakes.client(max_retries=0) as client, pytest.raises(ProviderError) as info:
        client.submit("clipia/nano-banana-2", input={"prompt": "a fox"})
    err = info.value
    assert isinstance(err, InsufficientCreditsError)
    assert (err.provider, err.status, err.code, err.provider_code) == (
        "clipia", 402, "insufficient_credits", "insufficient_credits")


@pytest.mark.parametrize(("provider", "status", "body", "code", "provider_code"), [
    ("clipia", 401, {"error": {"code": "invalid_api_key", "message": "m"}}, "invalid_api_key", "invalid_api_key"),
    ("cliprise", 401, {"code": 401, "error": {"code": "invalid_api_key", "message": "m"}}, "invalid_api_key",
     "invalid_api_key"),
    ("clipia", 404, {"error": {"code": "model_not_found", "message": "m"}}, "not_found", "model_not_found"),
    ("cliprise", 400, {"msg": "reason for failure"}, "invalid_request", None),
    ("clipia", 503, {"error": {"code": "service_unavailable", "message": "m"}}, "internal_error",
     "service_unavailable"),
    ("cliprise", 502, b"<html>bad gateway</html>", "internal_error", None),
])
def test_status_errors_carry_a_normalized_code_beside_the_providers_word(
        provider: str, status: int, body: object, code: str, provider_code: str | None) -> None:
    err = get_adapter(provider).parse_error(reply(status, body))
    assert isinstance(err, APIStatusError)
    assert (err.provider, err.status, err.code, err.provider_code) == (provider, status, code, provider_code)


@pytest.mark.parametrize("provider", ["clipia", "cliprise"])
def test_a_failed_generation_has_the_same_code_on_every_provider(provider: str) -> None:
    fakes = FakeProviders()
    fakes.fakes[provider].script_outcome("fail", message="content policy")
    model = {"clipia": "clipia/nano-banana-2", "cliprise": "cliprise/nano-banana"}[provider]
    with fakes.client(poll=genwire.PollPolicy(initial_interval=0.001, max_interval=0.001)) as client, \
            pytest.raises(JobFailedError) as info:
        client.run(model, input={"prompt": "a fox"}, timeout=30)
    err = info.value
    assert err.code == "generation_failed"
    assert err.job is not None and err.job.error is not None and err.job.error.code == "generation_failed"
    assert err.provider_code == {"clipia": "generation_failed", "cliprise": "fail"}[provider]


def test_the_tree_in_readme_names_every_error_class() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    from genwire import errors

    names = [n for n in errors.__all__ if isinstance(getattr(errors, n), type)
             and issubclass(getattr(errors, n), Exception)]
    assert [n for n in names if n not in readme] == []


def test_a_typo_in_a_client_option_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        Client(api_keys={"clippia": "k"})
