from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genwire._policy.retry import (
    DEFAULT_MAX_RETRIES,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    POLL_JITTER,
    PollPolicy,
    RetryPolicy,
    backoff_delay,
    is_retryable_status,
    next_delay,
    parse_retry_after,
)

# 2015-10-21 07:28:00 UTC
DATE_EPOCH = 1445412480.0
HTTP_DATE = "Wed, 21 Oct 2015 07:28:00 GMT"

jitters = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)


# --- parse_retry_after -------------------------------------------------------


def test_retry_after_delta_seconds() -> None:
    assert parse_retry_after({"Retry-After": "7"}) == 7.0


def test_retry_after_fractional_seconds() -> None:
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5


def test_retry_after_header_name_is_case_insensitive() -> None:
    assert parse_retry_after({"RETRY-AFTER": "3"}) == 3.0


def test_retry_after_ms_is_converted_to_seconds() -> None:
    assert parse_retry_after({"Retry-After-Ms": "250"}) == 0.25


def test_retry_after_ms_wins_over_retry_after() -> None:
    assert parse_retry_after({"retry-after": "9", "retry-after-ms": "1500"}) == 1.5


def test_garbage_retry_after_ms_falls_back_to_retry_after() -> None:
    assert parse_retry_after({"retry-after": "2", "retry-after-ms": "soon"}) == 2.0


def test_retry_after_http_date_is_relative_to_now() -> None:
    assert parse_retry_after({"Retry-After": HTTP_DATE}, now=DATE_EPOCH - 30) == 30.0


def test_retry_after_http_date_in_the_past_means_now() -> None:
    assert parse_retry_after({"Retry-After": HTTP_DATE}, now=DATE_EPOCH + 100) == 0.0


def test_missing_retry_after_is_none() -> None:
    assert parse_retry_after({"content-type": "application/json"}) is None


@pytest.mark.parametrize(
    "value", ["-1", "soon", "", "1e3", "nan", "inf", "+5", "0x10", "\u0661\u0662", "5 s"]
)
def test_unusable_retry_after_is_none(value: str) -> None:
    assert parse_retry_after({"retry-after": value}) is None


def test_ratelimit_reset_alone_is_not_read_as_retry_after() -> None:
    assert parse_retry_after({"RateLimit-Reset": "30"}) is None


@given(st.dictionaries(st.sampled_from(["retry-after", "Retry-After-Ms", "x"]), st.text()))
def test_parse_retry_after_never_raises_and_is_never_negative(headers: dict[str, str]) -> None:
    result = parse_retry_after(headers, now=DATE_EPOCH)
    assert result is None or result >= 0


# --- statuses ----------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 429, 500, 501, 502, 503, 504, 505, 520, 599])
def test_transient_statuses_are_retryable(status: int) -> None:
    assert is_retryable_status(status)


@pytest.mark.parametrize("status", [200, 400, 401, 402, 403, 404, 422, 600])
def test_client_errors_are_not_retryable(status: int) -> None:
    assert not is_retryable_status(status)


def test_idempotency_conflict_409_is_not_retryable() -> None:
    assert not is_retryable_status(409)


# --- backoff -----------------------------------------------------------------


def test_backoff_ceiling_doubles_per_attempt() -> None:
    # jitter just under 1 approaches the ceiling: 0.5, 1, 2, 4
    ceilings = [backoff_delay(n, jitter=0.999999) for n in range(4)]
    assert ceilings == pytest.approx([0.5, 1.0, 2.0, 4.0], rel=1e-5)


def test_backoff_is_capped_at_maximum() -> None:
    assert backoff_delay(10, jitter=0.999999) == pytest.approx(MAX_RETRY_DELAY, rel=1e-5)


def test_backoff_is_full_jitter() -> None:
    assert backoff_delay(3, initial=1.0, maximum=100.0, jitter=0.25) == 2.0
    assert backoff_delay(3, jitter=0.0) == 0.0


def test_backoff_survives_huge_attempt_numbers() -> None:
    assert backoff_delay(10_000, maximum=5.0, jitter=0.5) == 2.5


@given(st.integers(min_value=0, max_value=10_000), jitters)
def test_backoff_stays_within_zero_and_maximum(attempt: int, jitter: float) -> None:
    assert 0.0 <= backoff_delay(attempt, jitter=jitter) <= MAX_RETRY_DELAY


@pytest.mark.parametrize("jitter", [-0.1, 1.0, 2.0])
def test_backoff_rejects_jitter_outside_unit_interval(jitter: float) -> None:
    with pytest.raises(ValueError, match="jitter"):
        backoff_delay(0, jitter=jitter)


def test_backoff_rejects_negative_attempt() -> None:
    with pytest.raises(ValueError, match="attempt"):
        backoff_delay(-1, jitter=0.5)


# --- next_delay / RetryPolicy -------------------------------------------------


def test_retry_after_wins_over_backoff() -> None:
    assert next_delay(0, 12.0, 0.5) == 12.0


def test_retry_after_is_clamped_to_max_retry_after() -> None:
    assert next_delay(0, 600.0, 0.5) == MAX_RETRY_AFTER


def test_without_retry_after_next_delay_is_backoff() -> None:
    assert next_delay(2, None, 0.5) == backoff_delay(2, jitter=0.5)


def test_non_finite_retry_after_falls_back_to_backoff() -> None:
    assert next_delay(1, float("nan"), 0.5) == backoff_delay(1, jitter=0.5)


def test_policy_defaults_match_constants() -> None:
    assert RetryPolicy().max_retries == DEFAULT_MAX_RETRIES


def test_policy_allows_exactly_max_retries() -> None:
    policy = RetryPolicy(max_retries=2)
    assert [policy.should_retry(n) for n in range(3)] == [True, True, False]


def test_policy_refuses_retry_after_longer_than_its_limit() -> None:
    policy = RetryPolicy(max_retry_after=60.0)
    assert policy.should_retry(0, retry_after=60.0)
    assert not policy.should_retry(0, retry_after=61.0)


def test_policy_delay_uses_its_own_bounds() -> None:
    policy = RetryPolicy(initial_delay=1.0, max_delay=3.0)
    assert policy.delay(5, None, 0.5) == 1.5


def test_policy_delay_prefers_retry_after() -> None:
    assert RetryPolicy().delay(0, 4.0, 0.9) == 4.0


def test_policy_rejects_negative_retries() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)


def test_policy_rejects_initial_delay_above_maximum() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(initial_delay=10.0, max_delay=1.0)


# --- PollPolicy -----------------------------------------------------------------


def test_poll_interval_grows_by_multiplier() -> None:
    policy = PollPolicy(initial_interval=1.0, max_interval=100.0, multiplier=2.0)
    assert [policy.interval(n, 0.0) for n in range(4)] == [1.0, 2.0, 4.0, 8.0]


def test_poll_interval_is_capped() -> None:
    assert PollPolicy().interval(50, 0.0) == 15.0


def test_poll_jitter_only_shortens_the_interval() -> None:
    policy = PollPolicy(initial_interval=10.0, max_interval=10.0)
    assert policy.interval(0, 0.5) == pytest.approx(10.0 * (1 - POLL_JITTER / 2))


def test_poll_interval_survives_overflowing_growth() -> None:
    policy = PollPolicy(initial_interval=1.0, max_interval=30.0, multiplier=1e6)
    assert policy.interval(5000, 0.0) == 30.0


@given(st.integers(min_value=0, max_value=100_000), jitters)
def test_poll_interval_stays_positive_and_bounded(poll_number: int, jitter: float) -> None:
    policy = PollPolicy()
    assert 0 < policy.interval(poll_number, jitter) <= policy.max_interval


def test_poll_gives_up_after_max_consecutive_failures() -> None:
    policy = PollPolicy(max_consecutive_failures=3)
    assert [policy.gives_up(n) for n in (2, 3)] == [False, True]


def test_poll_policy_rejects_zero_interval() -> None:
    with pytest.raises(ValueError):
        PollPolicy(initial_interval=0.0)


def test_poll_policy_rejects_shrinking_multiplier() -> None:
    with pytest.raises(ValueError):
        PollPolicy(multiplier=0.5)
