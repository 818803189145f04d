"""The adapters' fast paths for the documented reply shapes build the very Job the general path
builds: the same values, the same redacted ``raw``, the same ``model_fields_set``, for replies at
and around those shapes (a key more or less, a value of another type, text redaction rewrites)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from genwire import Catalog, GenerationRequest, Job, JobStatus
from genwire._util.redact import redact_json, strip_query_secrets
from genwire.adapters import get_adapter
from genwire.adapters.base import WireResponse, as_credits, finite_number
from genwire.adapters.clipia import STATUS as CLIPIA_STATUS
from genwire.adapters.clipia import _integer

CATALOG = Catalog.default()
CLIPIA, CLIPRISE = get_adapter("clipia", CATALOG), get_adapter("cliprise", CATALOG)
IMAGE = CATALOG.resolve(GenerationRequest(provider="clipia", model="nano-banana-2", task="text-to-image",
                                          input={"prompt": "a fox"}))[0]
VIDEO = CATALOG.resolve(GenerationRequest(provider="cliprise", model="veo-3-fast", task="text-to-video",
                                          input={"prompt": "a fox"}))[0]

# text redaction or URL stripping rewrites, and text they leave alone
texts = st.sampled_from(["r-1", "", "https://api.clipia.ai/v1/requests/r-1", "https://h/p?apiKey=k&a=1",
                         "https://h/p#token=t", "a=b", "x%3Ftoken%3Dv", "100%", "caf\u00e9", "tab\tbed"])
scalars = st.none() | st.booleans() | st.integers(-3, 200) | st.sampled_from([0.0, -0.0, 40.5, 1e300, 3.0]) | texts
values = scalars | st.lists(scalars, max_size=2) | st.dictionaries(st.sampled_from(["api_key", "a"]), scalars,
                                                                  max_size=2)


def wire(body: Any, ensure_ascii: bool) -> WireResponse:
    return WireResponse(200, {"content-type": "application/json"}, json.dumps(body, ensure_ascii=ensure_ascii).encode())


def same(fast: Job, expected: Job) -> None:
    assert fast == expected
    assert fast.model_fields_set == expected.model_fields_set
    assert list(fast.__dict__) == list(expected.__dict__)
    assert fast.model_dump_json() == expected.model_dump_json()


DOCUMENTED = {"request_id": "r-1", "status": "IN_QUEUE", "queue_position": 0, "cost": 12,
              "status_url": "https://api.clipia.ai/v1/requests/r-1/status",
              "response_url": "https://api.clipia.ai/v1/requests/r-1"}


def _url(value: Any) -> str | None:
    return strip_query_secrets(value) if isinstance(value, str) and value else None


@given(st.fixed_dictionaries(
    {"request_id": st.just("r-1") | texts, "status": st.sampled_from(["IN_QUEUE", "IN_PROGRESS", "COMPLETED"])},
    optional={"queue_position": values, "status_url": values, "response_url": values, "cost": values,
              "api_key": values, "extra": values}), st.booleans())
@example(DOCUMENTED, True)  # the documented reply
@example({**DOCUMENTED, "request_id": "x%3Ftoken%3Dv"}, True)  # text redaction rewrites
@example({**DOCUMENTED, "request_id": "caf\u00e9=1"}, True)  # the same, behind an escape
@example({**DOCUMENTED, "status_url": "https://h/p?apiKey"}, True)  # a URL stripped of its key
@example({**DOCUMENTED, "cost": 12.5}, False)
@example({**DOCUMENTED, "cost": {"api_key": "k"}}, False)  # six keys, one of them not plain
def test_a_clipia_submit_reply_parses_as_the_general_path_would(body: dict[str, Any], ensure_ascii: bool) -> None:
    if not body["request_id"]:
        body["request_id"] = "r-2"
    job = CLIPIA.parse_submit(IMAGE, wire(body, ensure_ascii))
    expected = Job(provider="clipia", model=IMAGE.spec.id, task=IMAGE.task.name, id=body["request_id"],
                   status=CLIPIA_STATUS[body["status"]], queue_position=_integer(body.get("queue_position")),
                   status_url=_url(body.get("status_url")), response_url=_url(body.get("response_url")),
                   cost=as_credits(body.get("cost")), warnings=(), raw=redact_json(body))
    same(job, expected)


SUBMITTED = CLIPIA.parse_submit(IMAGE, wire({"request_id": "r-1", "status": "IN_QUEUE", "queue_position": 0}, True))


@given(st.fixed_dictionaries(
    {"status": st.sampled_from(["IN_QUEUE", "IN_PROGRESS"])},
    optional={"request_id": values, "progress": values, "queue_position": values,
              "logs": st.just([]) | st.lists(values, max_size=2) | scalars, "api_key": values, "extra": values}),
    st.booleans())
@example({"request_id": "r-1", "status": "IN_PROGRESS", "progress": 45}, True)  # the documented reply
@example({"request_id": "r-1", "status": "IN_PROGRESS", "progress": 40, "logs": []}, True)
@example({"request_id": "x%3Ftoken%3Dv", "status": "IN_PROGRESS"}, True)
@example({"request_id": "caf\u00e9=1", "status": "IN_PROGRESS"}, True)
@example({"request_id": "r-1", "status": "IN_QUEUE", "queue_position": 2, "logs": [{"api_key": "k"}]}, True)
@example({"request_id": "r-1", "status": "IN_QUEUE", "queue_position": 3.0, "progress": -0.0}, True)
@example({"request_id": "r-1", "status": "IN_PROGRESS", "api_key": 1}, True)
def test_a_clipia_status_reply_parses_as_the_general_path_would(body: dict[str, Any], ensure_ascii: bool) -> None:
    job = CLIPIA.parse_status(SUBMITTED, wire(body, ensure_ascii))
    status = CLIPIA_STATUS[body["status"]]
    number = finite_number(body.get("progress"))
    raw = redact_json(body)
    update: dict[str, Any] = {
        "status": status, "raw": raw,
        "progress": max(0.0, min(100.0, number)) if number is not None else SUBMITTED.progress,
        "queue_position": _integer(body.get("queue_position")) if status is JobStatus.QUEUED else None}
    if "logs" in body:
        update["logs"] = tuple(raw["logs"]) if isinstance(raw["logs"], list) else ()
    same(job, SUBMITTED.model_copy(update=update))


@given(st.fixed_dictionaries({}, optional={"code": st.just(200) | values, "taskId": st.just("t-1") | texts,
                                           "api_key": values, "extra": values}),
       st.booleans(), st.booleans())
@example({"code": 200, "taskId": "t-1"}, True, True)  # the documented reply
@example({"code": 200, "taskId": "x%3Ftoken%3Dv"}, True, True)
@example({"code": 200, "taskId": "caf\u00e9=1"}, True, True)
@example({"code": 200.0, "taskId": "t-1"}, False, True)
@example({"code": 200, "api_key": "t-1"}, True, True)
def test_a_cliprise_generate_reply_parses_as_the_general_path_would(body: dict[str, Any], wrapped: bool,
                                                                   ensure_ascii: bool) -> None:
    code, task_id = body.get("code"), body.get("taskId")
    if not isinstance(task_id, str) or not task_id or (isinstance(code, int) and not isinstance(code, bool)
                                                       and code >= 300):
        return  # an error reply: test_totality.py
    job = CLIPRISE.parse_submit(VIDEO, wire([body] if wrapped else body, ensure_ascii))
    expected = Job(provider="cliprise", model=VIDEO.spec.id, task=VIDEO.task.name, id=task_id,
                   status=JobStatus.QUEUED, warnings=(), raw=redact_json(body))
    same(job, expected)


VIDEO_JOB = CLIPRISE.parse_submit(VIDEO, wire([{"code": 200, "taskId": "t-1"}], True))


@given(st.fixed_dictionaries({"status": st.just("processing") | texts},
                             optional={"api_key": values, "extra": values}), st.booleans(), st.booleans())
@example({"status": "processing"}, True, True)  # the documented reply
@example({"status": "processing", "api_key": "k"}, True, True)
def test_a_cliprise_status_reply_parses_as_the_general_path_would(body: dict[str, Any], wrapped: bool,
                                                                 ensure_ascii: bool) -> None:
    if body["status"] != "processing":
        return  # an unknown state: test_totality.py
    job = CLIPRISE.parse_status(VIDEO_JOB, wire([body] if wrapped else body, ensure_ascii))
    same(job, VIDEO_JOB.model_copy(update={"status": JobStatus.RUNNING, "raw": redact_json(body)}))
