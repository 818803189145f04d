"""``genwire._util.construct.trusted``: a model built from checked values without validation is the
model validation builds, in every way anyone can observe."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta, timezone
from typing import Any

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from genwire._util.construct import LAYOUT, trusted, updater
from genwire.models import Cost, InputWarning, Job, JobError, JobMetrics, JobStatus, Media

texts = st.text(max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3), max_leaves=8)
moments = st.none() | st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-5))]))
costs = st.builds(Cost, credits=st.floats(allow_nan=False, allow_infinity=False),
                  source=st.sampled_from(["provider", "catalog"]))
media = st.builds(Media, url=texts, kind=st.sampled_from(["image", "video", "audio", "text"]),
                  format=st.none() | texts, width=st.none() | st.integers(0, 9999),
                  duration=st.none() | st.floats(0, 1e6))
warnings = st.builds(InputWarning, code=texts, parameter=st.none() | texts, message=texts)

JOB_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "task": st.none() | texts, "progress": st.none() | st.floats(0, 100),
    "queue_position": st.none() | st.integers(), "status_url": st.none() | texts,
    "response_url": st.none() | texts, "logs": st.lists(json_values, max_size=3).map(tuple),
    "sandbox": st.booleans(), "outputs": st.lists(media, max_size=2).map(tuple),
    "error": st.none() | st.builds(JobError, code=st.none() | texts, message=texts, retryable=st.booleans()),
    "cost": st.none() | costs, "created_at": moments, "completed_at": moments,
    "metrics": st.none() | st.builds(JobMetrics, predict_time=st.none() | st.floats(0, 1e6),
                                     total_time=st.none() | st.floats(0, 1e6)),
    "callback_ref": st.none() | texts, "warnings": st.lists(warnings, max_size=2).map(tuple), "raw": json_values,
}
jobs = st.fixed_dictionaries({"provider": texts, "model": texts, "id": texts, "status": st.sampled_from(JobStatus)},
                             optional=JOB_FIELDS)
cost_values = st.fixed_dictionaries({"credits": st.floats(allow_nan=False, allow_infinity=False)},
                                    optional={"source": st.sampled_from(["provider", "catalog"])})


def observed(model: BaseModel) -> dict[str, Any]:
    """Everything a user (or pydantic) can see of an instance."""
    try:
        hashed: Any = hash(model)
    except TypeError as exc:  # a dict in raw or logs: unhashable either way
        hashed = str(exc)
    return {
        "dump": model.model_dump(), "json": model.model_dump_json(), "repr": repr(model), "str": str(model),
        "fields_set": model.model_fields_set, "order": list(model.__dict__), "hash": hashed,
        "slots": {name: getattr(model, name) for name in LAYOUT},
    }


@pytest.mark.parametrize(("cls", "values"), [(Job, jobs), (Cost, cost_values)], ids=["Job", "Cost"])
@given(data=st.data())
def test_the_trusted_path_builds_what_validation_builds(cls: type[BaseModel], values: Any, data: st.DataObject) -> None:
    given_values = data.draw(values)
    fast, checked = trusted(cls, *given_values)(**given_values), cls(**given_values)
    assert type(fast) is cls
    assert fast == checked and checked == fast
    assert observed(fast) == observed(checked)
    assert cls.model_validate_json(fast.model_dump_json()) == fast
    assert pickle.loads(pickle.dumps(fast)) == checked


def test_a_trusted_instance_is_frozen_like_a_validated_one() -> None:
    job = trusted(Job, "provider", "model", "id", "status")(provider="clipia", model="m", id="r",
                                                            status=JobStatus.QUEUED)
    with pytest.raises(pydantic.ValidationError):
        job.id = "other"  # type: ignore[misc]
    assert job.model_copy(update={"id": "other"}).id == "other"
    assert {job: 1}[Job(provider="clipia", model="m", id="r", status=JobStatus.QUEUED)] == 1


def test_a_missing_unknown_or_repeated_field_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"missing \['id'\]"):
        trusted(Job, "provider", "model", "status")
    with pytest.raises(TypeError, match=r"unknown fields \['ids'\]"):
        trusted(Job, "provider", "model", "id", "ids", "status")
    with pytest.raises(TypeError, match="twice"):
        trusted(Job, "provider", "model", "id", "id", "status")
    build = trusted(Job, "provider", "model", "id", "status")
    with pytest.raises(TypeError):
        build(provider="clipia", model="m", id="r")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        build(provider="clipia", model="m", id="r", status=JobStatus.QUEUED, task="t")  # type: ignore[call-arg]


def test_pydantic_still_lays_instances_out_as_the_trusted_path_does() -> None:
    # If this fails, pydantic changed how it stores an instance: read BaseModel.model_construct
    # and update genwire/_util/construct.py before anything else.
    assert tuple(BaseModel.__slots__) == LAYOUT
    assert trusted(Job, "provider", "model", "id", "status") is not Job, "Job lost the trusted path"
    assert trusted(Cost, "credits") is not Cost, "Cost lost the trusted path"
    values = {"provider": "clipia", "model": "m", "id": "r", "status": JobStatus.QUEUED, "progress": 5.0}
    built, constructed = trusted(Job, *values)(**values), Job.model_construct(**values)
    assert {n: getattr(built, n) for n in LAYOUT} == {n: getattr(constructed, n) for n in LAYOUT}


def test_a_model_the_trusted_path_cannot_lay_out_gets_its_validating_constructor() -> None:
    class WithPrivate(BaseModel):
        a: int
        _b: int = pydantic.PrivateAttr(default=0)

    class WithFactory(BaseModel):
        a: list[int] = pydantic.Field(default_factory=list)

    class WithMutableDefault(BaseModel):
        a: list[int] = []

    for cls in (WithPrivate, WithFactory, WithMutableDefault):
        assert trusted(cls, "a") is cls


def test_datetimes_keep_their_timezone() -> None:
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    job = trusted(Job, "provider", "model", "id", "status", "created_at")(
        provider="p", model="m", id="r", status=JobStatus.SUCCEEDED, created_at=when)
    assert job == Job(provider="p", model="m", id="r", status=JobStatus.SUCCEEDED, created_at=when)


@given(base=jobs, update=st.fixed_dictionaries({}, optional={
    "status": st.sampled_from(JobStatus), **JOB_FIELDS}))
def test_an_update_builds_what_model_copy_builds(base: dict[str, Any], update: dict[str, Any]) -> None:
    job = Job(**base)
    fast, copied = updater(Job)(job, update), job.model_copy(update=update)
    assert type(fast) is Job
    assert observed(fast) == observed(copied)
    assert fast.model_fields_set is not job.model_fields_set  # its own set, as model_copy's
    assert observed(job) == observed(Job(**base))  # the original is untouched


def test_a_model_the_trusted_path_cannot_lay_out_is_updated_by_model_copy() -> None:
    class WithPrivate(BaseModel):
        a: int
        _b: int = pydantic.PrivateAttr(default=0)

    item = WithPrivate(a=1)
    item._b = 5
    assert updater(WithPrivate)(item, {"a": 2})._b == 5
