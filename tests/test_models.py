"""The normalized models: Job is portable and immutable, requests name a target."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from genwire import Cost, GenerationRequest, InvalidInputError, Job, JobError, JobStatus, Media
from genwire.models import TERMINAL_STATUSES

FULL_JOB = Job(
    provider="cliprise",
    model="veo-3-fast",
    task="text-to-video",
    id="task_8f2c",
    status=JobStatus.FAILED,
    progress=42.5,
    queue_position=3,
    outputs=(
        Media(url="https://cdn.example.com/a.mp4", kind="video", format="mp4", width=1280, height=720,
              duration=8.0),
        Media(url="https://cdn.example.com/b.png", kind="image"),
    ),
    error=JobError(code="content_policy", message="refused", retryable=False),
    cost=Cost(credits=40.5, source="catalog"),
    created_at=datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc),
    completed_at=datetime(2025, 3, 1, 12, 5, tzinfo=timezone(timedelta(hours=-5))),
    warnings=("parameter 'seed' is not taken; not sent",),
    raw={"code": 200, "data": {"taskId": "task_8f2c", "state": "fail", "resultUrls": ["x", None],
                               "cost": 1.5, "flag": True}},
)


def test_job_round_trips_through_json() -> None:
    again = Job.model_validate_json(FULL_JOB.model_dump_json())
    assert again == FULL_JOB
    assert again.model_dump_json() == FULL_JOB.model_dump_json()


def test_job_round_trip_keeps_timezone_offsets() -> None:
    again = Job.model_validate_json(FULL_JOB.model_dump_json())
    assert again.completed_at is not None and FULL_JOB.completed_at is not None
    assert again.completed_at.utcoffset() == FULL_JOB.completed_at.utcoffset()


def test_minimal_job_round_trips() -> None:
    job = Job(provider="clipia", model="nano-banana-2", id="req_1", status=JobStatus.QUEUED)
    assert Job.model_validate_json(job.model_dump_json()) == job


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=50, deadline=None)
@given(
    raw=json_values,
    status=st.sampled_from(list(JobStatus)),
    progress=st.none() | st.floats(min_value=0, max_value=100),
    created=st.none() | st.datetimes(timezones=st.just(timezone.utc)),
    credits=st.none() | st.floats(min_value=0, max_value=1e6),
)
def test_any_job_round_trips_through_json(
    raw: Any, status: JobStatus, progress: float | None, created: datetime | None, credits: float | None,
) -> None:
    job = Job(provider="clipia", model="m", id="j", status=status, progress=progress, created_at=created,
              cost=None if credits is None else Cost(credits=credits), raw=raw)
    assert Job.model_validate_json(job.model_dump_json()) == job


def test_job_is_frozen() -> None:
    with pytest.raises(ValidationError):
        FULL_JOB.status = JobStatus.SUCCEEDED


def test_job_outputs_are_immutable() -> None:
    with pytest.raises(ValidationError):
        FULL_JOB.outputs[0].url = "https://elsewhere.example.com"


def test_job_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        Job.model_validate({"provider": "clipia", "model": "m", "id": "j", "status": "queued", "colour": 1})


def test_job_refuses_progress_above_100() -> None:
    with pytest.raises(ValidationError):
        Job(provider="clipia", model="m", id="j", status=JobStatus.RUNNING, progress=101)


def test_terminal_statuses_are_succeeded_failed_canceled() -> None:
    assert {s.value for s in TERMINAL_STATUSES} == {"succeeded", "failed", "canceled"}
    assert [s.value for s in JobStatus if s.is_terminal] == ["succeeded", "failed", "canceled"]


@pytest.mark.parametrize("status", list(JobStatus))
def test_job_done_follows_status(status: JobStatus) -> None:
    job = Job(provider="clipia", model="m", id="j", status=status)
    assert job.done is (status in TERMINAL_STATUSES)


def test_job_status_values_are_the_documented_strings() -> None:
    assert [s.value for s in JobStatus] == ["queued", "running", "succeeded", "failed", "canceled"]


@pytest.mark.parametrize(
    "fields",
    [{}, {"provider": "clipia"}, {"model": "nano-banana-2"}, {"family": "veo-3-1-fast", "model": "veo-3-fast"}],
    ids=["nothing", "provider-only", "model-only", "family-and-model"],
)
def test_generation_request_needs_provider_and_model_or_family(fields: dict[str, str]) -> None:
    with pytest.raises(InvalidInputError):
        GenerationRequest.model_validate({**fields, "input": {"prompt": "a fox"}})


@pytest.mark.parametrize(
    "fields", [{"provider": "clipia", "model": "nano-banana-2"}, {"family": "nano-banana-2"},
               {"family": "nano-banana-2", "provider": "clipia"}],
    ids=["provider-model", "family", "family-with-provider"],
)
def test_generation_request_accepts_a_named_target(fields: dict[str, str]) -> None:
    request = GenerationRequest.model_validate({**fields, "input": {"prompt": "a fox"}})
    assert request.unsupported == "error"


def test_generation_request_refuses_unknown_policy() -> None:
    with pytest.raises(InvalidInputError):
        GenerationRequest(provider="clipia", model="nano-banana-2", unsupported="ignore")  # type: ignore[arg-type]


def test_generation_request_refuses_empty_idempotency_key() -> None:
    with pytest.raises(InvalidInputError):
        GenerationRequest(provider="clipia", model="nano-banana-2", idempotency_key="")


class _Str(str):
    pass


_NAMES = st.none() | st.sampled_from(["clipia", "nano-banana-2", "video", "text-to-image"]) | st.text(max_size=3)
_VALUES = (_NAMES | st.integers() | st.builds(_Str, st.text(max_size=3)) | st.binary(max_size=3)
           | st.just(""))
_REQUEST_KWARGS = st.fixed_dictionaries({}, optional={
    "provider": _VALUES, "model": _VALUES, "family": _VALUES, "task": _VALUES,
    "input": st.none() | st.dictionaries(st.text(max_size=4) | st.binary(max_size=2), st.integers(), max_size=3)
    | st.lists(st.integers(), max_size=2),
    "webhook_url": _VALUES, "idempotency_key": _VALUES | st.text(min_size=250, max_size=260),
    "unsupported": st.sampled_from(["error", "warn", "ignore", None, 1]),
    "extra_field": st.integers(),
})


def _validated(kwargs: dict[str, Any]) -> GenerationRequest:
    """``GenerationRequest(**kwargs)`` through pydantic's validation, whatever the input."""
    from pydantic import BaseModel

    request = GenerationRequest.__new__(GenerationRequest)
    BaseModel.__init__(request, **kwargs)
    return request


@settings(max_examples=400, deadline=None)
@given(_REQUEST_KWARGS)
def test_a_request_is_what_validation_makes_of_the_same_arguments(kwargs: dict[str, Any]) -> None:
    # plainly valid arguments skip pydantic's validator (a first submit never builds one)
    try:
        expected: GenerationRequest | InvalidInputError = _validated(kwargs)
    except InvalidInputError as err:
        expected = err
    try:
        made: GenerationRequest | InvalidInputError = GenerationRequest(**kwargs)
    except InvalidInputError as err:
        made = err
    if isinstance(expected, InvalidInputError):
        assert isinstance(made, InvalidInputError) and made.violations == expected.violations
        return
    assert isinstance(made, GenerationRequest)
    assert made == expected and repr(made) == repr(expected)
    assert made.model_dump_json() == expected.model_dump_json()
    assert made.model_fields_set == expected.model_fields_set
    assert list(made.__dict__) == list(expected.__dict__)
    assert {k: type(v) for k, v in made.__dict__.items()} == {k: type(v) for k, v in expected.__dict__.items()}
    if isinstance(kwargs.get("input"), dict):
        assert made.input is not kwargs["input"]  # a copy, as validation makes


def test_a_request_read_back_from_json_is_the_same_request() -> None:
    request = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"},
                                idempotency_key="k-1")
    assert GenerationRequest.model_validate_json(request.model_dump_json()) == request
    assert GenerationRequest.model_validate(request.model_dump()) == request


def test_the_request_fast_path_knows_every_field() -> None:
    # otherwise every request silently goes through validation (see GenerationRequest.__init__)
    from genwire.models import _job as models

    assert models._REQUEST_FIELDS_KNOWN
