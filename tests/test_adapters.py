"""Sans-I/O adapters: every documented reply shape in, a Job or a typed error out."""

from __future__ import annotations

from typing import Any

import pytest
from support import reply

from genwire import (
    AuthenticationError,
    BadRequestError,
    Catalog,
    GenerationRequest,
    IdempotencyConflictError,
    InputWarning,
    InsufficientCreditsError,
    InvalidInputError,
    JobStatus,
    MalformedResponseError,
    NotFoundError,
    ProviderError,
    ProviderNotFoundError,
    RateLimitError,
    ServerError,
)
from genwire.adapters import get_adapter
from genwire.errors import GenwireError
from genwire.models import Job

CATALOG = Catalog.default()


def resolved(provider: str, model: str, **values: Any) -> Any:
    return CATALOG.resolve(GenerationRequest(provider=provider, model=model, input=values))[0]


def clipia_job(status: JobStatus = JobStatus.QUEUED) -> Job:
    return Job(provider="clipia", model="nano-banana-2", task="text-to-image", id="req-1", status=status)


def cliprise_job(model: str = "wan-2-5") -> Job:
    return Job(provider="cliprise", model=model, task="text-to-video", id="task-1", status=JobStatus.RUNNING)


# -- requests ------------------------------------------------------------------------------
def test_clipia_submit_posts_input_to_the_model_path_with_the_idempotency_key() -> None:
    adapter = get_adapter("clipia")
    req = adapter.build_submit(resolved("clipia", "nano-banana-2", prompt="a cat"), CATALOG.envelope("clipia"),
                               "https://example.com/hook", "key-1")
    assert (req.method, req.path) == ("POST", "/v1/models/nano-banana-2")
    assert req.json == {"webhook_url": "https://example.com/hook", "input": {"prompt": "a cat"}}
    assert req.headers["Idempotency-Key"] == "key-1"
    assert req.replay_safe


def test_cliprise_generate_carries_model_and_callback_and_is_not_replay_safe() -> None:
    adapter = get_adapter("cliprise")
    values = {"prompt": "a fox", "resolution": "720p", "duration": 5}
    req = adapter.build_submit(resolved("cliprise", "wan-2-5", **values), CATALOG.envelope("cliprise"),
                               "https://example.com/cb", "unused")
    assert (req.method, req.path) == ("POST", "/generate")
    assert req.json == {"model": "wan-2-5", "callBackUrl": "https://example.com/cb",
                        "input": {"prompt": "a fox", "resolution": "720p", "duration": "5"}}
    assert not req.replay_safe


def test_cliprise_status_request_leaves_the_key_to_be_added_at_send_time() -> None:
    req = get_adapter("cliprise").build_status(cliprise_job())
    assert (req.method, req.path, dict(req.query)) == ("GET", "/status", {"taskId": "task-1"})
    assert req.key_query_param == "apiKey"


# -- Clipia replies ----------------------------------------------------------------------------
def test_clipia_submit_reply_becomes_a_queued_job_with_cost() -> None:
    body = {"request_id": "764c", "status": "IN_QUEUE", "queue_position": 0, "cost": 12,
            "status_url": "https://api.clipia.ai/v1/requests/764c/status"}
    job = get_adapter("clipia").parse_submit(resolved("clipia", "nano-banana-2", prompt="x"), reply(200, body))
    assert (job.id, job.status, job.queue_position) == ("764c", JobStatus.QUEUED, 0)
    assert job.cost is not None and (job.cost.credits, job.cost.source) == (12, "provider")


def test_clipia_submit_reply_warnings_are_listed_on_the_job() -> None:
    body = {"request_id": "r", "status": "IN_QUEUE",
            "warnings": [{"code": "unsupported_parameter", "parameter": "seed", "message": "not used"}]}
    job = get_adapter("clipia").parse_submit(resolved("clipia", "nano-banana-2", prompt="x"), reply(200, body))
    assert job.warnings == (InputWarning(code="unsupported_parameter", parameter="seed", message="not used"),)


@pytest.mark.parametrize(("wire", "status"), [
    ("IN_QUEUE", JobStatus.QUEUED), ("IN_PROGRESS", JobStatus.RUNNING), ("COMPLETED", JobStatus.SUCCEEDED),
    ("FAILED", JobStatus.FAILED), ("CANCELED", JobStatus.CANCELED),
])
def test_clipia_status_values_map_to_job_status(wire: str, status: JobStatus) -> None:
    job = get_adapter("clipia").parse_status(clipia_job(), reply(200, {"request_id": "req-1", "status": wire}))
    assert job.status is status


def test_clipia_progress_is_carried() -> None:
    body = {"request_id": "req-1", "status": "IN_PROGRESS", "progress": 45}
    assert get_adapter("clipia").parse_status(clipia_job(), reply(200, body)).progress == 45


def test_clipia_unknown_status_is_a_typed_error_carrying_the_job() -> None:
    with pytest.raises(MalformedResponseError) as info:
        get_adapter("clipia").parse_status(clipia_job(), reply(200, {"request_id": "req-1", "status": "PAUSED"}))
    assert info.value.job is not None and info.value.job.id == "req-1"


def test_clipia_completed_status_asks_for_the_result() -> None:
    adapter = get_adapter("clipia")
    done = adapter.parse_status(clipia_job(), reply(200, {"request_id": "req-1", "status": "COMPLETED"}))
    req = adapter.build_result(done)
    assert req is not None and req.path == "/v1/requests/req-1"


def test_clipia_image_result_lists_images() -> None:
    body = {"request_id": "req-1", "status": "COMPLETED", "model": "nano-banana-2", "cost": 12,
            "output": {"images": [{"url": "https://media.clipia.ai/w/a.png", "width": 1024, "height": 1024}]},
            "created_at": "2026-06-01T12:00:00Z", "completed_at": "2026-06-01T12:00:18Z"}
    job = get_adapter("clipia").parse_result(clipia_job(JobStatus.SUCCEEDED), reply(200, body))
    media = job.outputs[0]
    assert (media.kind, media.url) == ("image", "https://media.clipia.ai/w/a.png")
    assert (media.width, media.format) == (1024, "png")
    assert job.completed_at is not None and job.created_at is not None
    assert (job.completed_at - job.created_at).total_seconds() == 18


def test_clipia_video_result_has_duration() -> None:
    body = {"request_id": "req-1", "status": "COMPLETED",
            "output": {"video": {"url": "https://media.clipia.ai/w/v.mp4", "width": 1280, "height": 720,
                                 "duration": 4}}}
    job = get_adapter("clipia").parse_result(clipia_job(JobStatus.SUCCEEDED), reply(200, body))
    assert [(m.kind, m.duration) for m in job.outputs] == [("video", 4)]


def test_clipia_audio_result_lists_every_track_once() -> None:
    body = {"request_id": "req-1", "status": "COMPLETED",
            "output": {"audio": {"url": "https://m/a1.mp3"}, "audios": [{"url": "https://m/a1.mp3"},
                                                                      {"url": "https://m/a2.mp3"}]}}
    job = get_adapter("clipia").parse_result(clipia_job(JobStatus.SUCCEEDED), reply(200, body))
    assert [m.url for m in job.outputs] == ["https://m/a1.mp3", "https://m/a2.mp3"]


def test_clipia_pending_result_202_keeps_the_job_running() -> None:
    body = {"request_id": "req-1", "status": "IN_PROGRESS"}
    job = get_adapter("clipia").parse_result(clipia_job(JobStatus.RUNNING), reply(202, body))
    assert job.status is JobStatus.RUNNING and not job.outputs


def test_clipia_failed_result_carries_the_job_error() -> None:
    body = {"request_id": "req-1", "status": "FAILED", "cost": 0,
            "error": {"code": "generation_failed", "message": "safety filter"}}
    job = get_adapter("clipia").parse_result(clipia_job(JobStatus.FAILED), reply(200, body))
    assert job.error is not None and (job.error.code, job.error.message) == ("generation_failed", "safety filter")


@pytest.mark.parametrize(("status", "code", "cls", "retryable"), [
    (400, "invalid_request", BadRequestError, False),
    (401, "invalid_api_key", AuthenticationError, False),
    (402, "insufficient_credits", InsufficientCreditsError, False),
    (403, "insufficient_scope", AuthenticationError, False),
    (404, "not_found", ProviderNotFoundError, False),
    (409, "idempotency_key_reuse", IdempotencyConflictError, False),
    (422, "model_input_invalid", BadRequestError, False),
    (429, "rate_limit_exceeded", RateLimitError, True),
    (500, "internal_error", ServerError, True),
    (503, "internal_error", ServerError, True),
])
def test_clipia_error_table_maps_onto_the_hierarchy(status: int, code: str, cls: type[GenwireError],
                                                     retryable: bool) -> None:
    body = {"error": {"code": code, "message": "nope", "type": "invalid_request_error"}}
    err = get_adapter("clipia").parse_error(reply(status, body))
    assert type(err) is cls
    assert (err.provider, err.status, err.code, err.message, err.retryable) == ("clipia", status, code, "nope",
                                                                               retryable)


def test_clipia_retry_after_is_read_from_the_reply() -> None:
    err = get_adapter("clipia").parse_error(reply(429, {"error": {"code": "rate_limit_exceeded"}}, retry_after="7"))
    assert err.retry_after == 7


def test_error_reply_that_is_not_json_keeps_the_body() -> None:
    err = get_adapter("clipia").parse_error(reply(502, b"<html>Bad gateway</html>"))
    assert isinstance(err, ProviderError) and err.body == "<html>Bad gateway</html>"


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"status": "IN_QUEUE"}', b'{"request_id": 5}'])
def test_clipia_malformed_submit_reply_is_a_typed_error(body: bytes) -> None:
    with pytest.raises(MalformedResponseError) as info:
        get_adapter("clipia").parse_submit(resolved("clipia", "nano-banana-2", prompt="x"), reply(200, body))
    assert info.value.body is not None


def test_clipia_estimate_and_account_replies() -> None:
    adapter = get_adapter("clipia")
    assert adapter.parse_estimate(reply(200, {"credits": 40})).credits == 40
    assert adapter.parse_balance(reply(200, {"balance": {"credits": 990}, "usage_30d": {}})) == 990


# -- Cliprise replies ---------------------------------------------------------------------------
def test_cliprise_array_wrapped_generate_reply_gives_the_task_id() -> None:
    body = [{"code": 200, "taskId": "1b363b46636f61fb7e0e48ed7879"}]
    job = get_adapter("cliprise").parse_submit(
        resolved("cliprise", "wan-2-5", prompt="x", resolution="720p", duration=5), reply(200, body))
    assert (job.id, job.status, job.model, job.task) == ("1b363b46636f61fb7e0e48ed7879", JobStatus.QUEUED,
                                                          "wan-2-5", "text-to-video")


def test_cliprise_generate_reply_without_task_id_says_a_task_may_exist() -> None:
    with pytest.raises(MalformedResponseError, match="may still have been created"):
        get_adapter("cliprise").parse_submit(
            resolved("cliprise", "wan-2-5", prompt="x", resolution="720p", duration=5), reply(200, [{"code": 200}]))


def test_cliprise_processing_is_running() -> None:
    job = get_adapter("cliprise").parse_status(cliprise_job(), reply(200, [{"status": "processing"}]))
    assert job.status is JobStatus.RUNNING


def test_cliprise_success_file_url_loses_the_key() -> None:
    url = "https://business.api.cliprise.app/app/cliprise/status?apiKey=SECRET&taskId=task-1&download=true"
    job = get_adapter("cliprise").parse_status(cliprise_job(), reply(200, [{"status": "success", "fileURL": url}]))
    assert job.status is JobStatus.SUCCEEDED
    assert job.outputs[0].url == "https://business.api.cliprise.app/app/cliprise/status?taskId=task-1&download=true"
    assert job.outputs[0].kind == "video"
    assert "SECRET" not in job.model_dump_json()


def test_cliprise_bare_fail_object_carries_fail_msg() -> None:
    job = get_adapter("cliprise").parse_status(cliprise_job(), reply(200, {"status": "fail", "failMsg": "nsfw"}))
    assert job.status is JobStatus.FAILED and job.error is not None and job.error.message == "nsfw"


def test_cliprise_unknown_status_is_a_typed_error() -> None:
    with pytest.raises(MalformedResponseError):
        get_adapter("cliprise").parse_status(cliprise_job(), reply(200, [{"status": "queued?"}]))


def test_cliprise_400_msg_is_invalid_input() -> None:
    err = get_adapter("cliprise").parse_error(reply(400, {"msg": "prompt is required"}))
    assert isinstance(err, InvalidInputError) and err.message == "prompt is required"


@pytest.mark.parametrize(("status", "code", "cls"), [
    (401, "invalid_api_key", AuthenticationError),
    (402, "insufficient_credits", InsufficientCreditsError),
    (429, "rate_limit_exceeded", RateLimitError),
])
def test_cliprise_coded_errors_map_onto_the_hierarchy(status: int, code: str, cls: type[GenwireError]) -> None:
    body = {"code": status, "error": {"code": code, "message": "m"}}
    err = get_adapter("cliprise").parse_error(reply(status, body))
    assert type(err) is cls and (err.code, err.status, err.message) == (code, status, "m")


def test_cliprise_error_inside_a_200_generate_reply_is_raised() -> None:
    body = [{"code": 402, "error": {"code": "insufficient_credits", "message": "top up"}}]
    with pytest.raises(InsufficientCreditsError):
        get_adapter("cliprise").parse_submit(
            resolved("cliprise", "wan-2-5", prompt="x", resolution="720p", duration=5), reply(200, body))


def test_cliprise_has_no_estimate_or_balance_requests() -> None:
    adapter = get_adapter("cliprise")
    assert adapter.build_balance() is None
    assert adapter.build_estimate(resolved("cliprise", "nano-banana", prompt="x"), CATALOG.envelope("cliprise")) is None


# -- webhooks payloads -----------------------------------------------------------------------------
def test_cliprise_success_callback_maps_wire_model_to_catalog_model() -> None:
    payload = {"taskId": "t1", "status": "success", "model": "flux-kontext-max",
               "fileURL": "https://business.api.cliprise.app/app/cliprise/status?apiKey=K&taskId=t1&download=true",
               "createdAt": "2026-05-09T12:00:00Z", "completedAt": "2026-05-09T12:01:30Z"}
    job = get_adapter("cliprise").parse_webhook(payload, {})
    assert (job.model, job.status, job.outputs[0].kind) == ("flux-kontext", JobStatus.SUCCEEDED, "image")
    assert "apiKey" not in job.outputs[0].url


def test_cliprise_failure_callback_carries_the_error() -> None:
    payload = {"taskId": "t1", "status": "failure", "error": {"code": "provider_error", "message": "boom"}}
    job = get_adapter("cliprise").parse_webhook(payload, {})
    assert job.status is JobStatus.FAILED and job.error is not None
    assert (job.error.code, job.error.provider_code) == ("generation_failed", "provider_error")


def test_clipia_ok_delivery_becomes_a_succeeded_job() -> None:
    payload = {"request_id": "r1", "status": "OK", "payload": {"images": [{"url": "https://m/x.png"}]}}
    job = get_adapter("clipia").parse_webhook(payload, {})
    assert (job.id, job.status, job.outputs[0].url) == ("r1", JobStatus.SUCCEEDED, "https://m/x.png")


def test_clipia_error_delivery_becomes_a_failed_job() -> None:
    payload = {"request_id": "r1", "status": "ERROR", "error": "out of memory"}
    job = get_adapter("clipia").parse_webhook(payload, {})
    assert job.status is JobStatus.FAILED and job.error is not None and job.error.message == "out of memory"


def test_unknown_provider_has_no_adapter() -> None:
    with pytest.raises(NotFoundError):
        get_adapter("nope")


# -- one request, two providers ---------------------------------------------------------------------
def test_one_nano_banana_2_family_request_becomes_each_providers_own_body() -> None:
    request = GenerationRequest(family="nano-banana-2", input={
        "prompt": "put the cat on the moon", "image_urls": ["https://example.com/cat.png"]})
    bodies = {}
    for plan in CATALOG.resolve(request, providers=["clipia", "cliprise"]):
        provider = plan.spec.provider
        wire = get_adapter(provider).build_submit(plan, CATALOG.envelope(provider), "https://example.com/h", "k")
        bodies[provider] = (wire.path, wire.json)
    assert bodies == {
        "clipia": ("/v1/models/nano-banana-2", {"webhook_url": "https://example.com/h", "input": {
            "prompt": "put the cat on the moon", "image_urls": ["https://example.com/cat.png"]}}),
        "cliprise": ("/generate", {"model": "nano-banana-2", "callBackUrl": "https://example.com/h", "input": {
            "prompt": "put the cat on the moon", "image_input": ["https://example.com/cat.png"]}}),
    }
