"""The Replicate adapter: pure translation of predictions create/get/cancel, outputs, logs and errors."""

from __future__ import annotations

from typing import Any

import pytest
from support import reply

from genwire import Catalog, GenerationRequest, JobStatus
from genwire.adapters import get_adapter
from genwire.adapters.replicate import ReplicateAdapter, parse_ref, prediction_outputs
from genwire.errors import (
    AuthenticationError,
    InsufficientCreditsError,
    InvalidInputError,
    MalformedResponseError,
    ProviderError,
    ProviderNotFoundError,
    RateLimitError,
    ServerError,
)
from genwire.models import Job, JobMetrics

CATALOG = Catalog.default()
ADAPTER = ReplicateAdapter(CATALOG)
MUSICGEN = "7a76a8258b23fae65c5a22debb8841d1d7e816b75c2f24218cd2bd8573787906"


def _resolved(model: str, **input: object):  # type: ignore[no-untyped-def]
    [resolved] = CATALOG.resolve(GenerationRequest(provider="replicate", model=model, input=input))
    return resolved


def _prediction(status: str, **fields: object) -> dict[str, object]:
    return {"id": "p1", "model": "luma/ray", "version": "v", "status": status, "input": {}, "logs": "",
            "output": None, "error": None, "created_at": "2025-01-01T00:00:00Z",
            "urls": {"get": "https://api.replicate.com/v1/predictions/p1"}, **fields}


def _job(model: str = "luma-ray") -> Job:
    return Job(provider="replicate", model=model, id="p1", status=JobStatus.QUEUED)


def test_the_registry_names_the_replicate_adapter() -> None:
    assert isinstance(get_adapter("replicate"), ReplicateAdapter)


def test_an_official_model_is_created_on_its_model_endpoint() -> None:
    resolved = _resolved("luma-ray", prompt="a fox", aspect_ratio="9:16")
    req = ADAPTER.build_submit(resolved, CATALOG.envelope("replicate"), None, "key-1")
    assert (req.method, req.path) == ("POST", "/v1/models/luma/ray/predictions")
    assert req.json == {"input": {"prompt": "a fox", "aspect_ratio": "9:16"}}
    assert not req.replay_safe and "Idempotency-Key" not in req.headers


def test_a_pinned_version_is_created_on_the_predictions_endpoint() -> None:
    resolved = _resolved("musicgen", prompt="jazz", duration=5)
    req = ADAPTER.build_submit(resolved, CATALOG.envelope("replicate"), "https://gw.example/hook", "k")
    assert (req.method, req.path) == ("POST", "/v1/predictions")
    assert req.json == {"input": {"prompt": "jazz", "duration": 5}, "version": MUSICGEN,
                        "webhook": "https://gw.example/hook",
                        "webhook_events_filter": ["start", "output", "logs", "completed"]}


def test_a_sync_wait_adds_the_prefer_header_within_the_providers_limit() -> None:
    req = ADAPTER.build_submit(_resolved("flux-pro", prompt="x"), CATALOG.envelope("replicate"), None, "k")
    assert ADAPTER.with_sync_wait(req, 30).headers == {"Prefer": "wait=30"}
    for bad in (0, 61):
        with pytest.raises(ValueError):
            ADAPTER.with_sync_wait(req, bad)


@pytest.mark.parametrize(("wire", "status"), [("starting", JobStatus.QUEUED), ("processing", JobStatus.RUNNING),
                                               ("succeeded", JobStatus.SUCCEEDED), ("failed", JobStatus.FAILED),
                                               ("canceled", JobStatus.CANCELED)])
def test_each_prediction_status_maps_onto_a_job_status(wire: str, status: JobStatus) -> None:
    output = "https://replicate.delivery/x/out.mp4" if wire == "succeeded" else None
    job = ADAPTER.parse_status(_job(), reply(200, _prediction(wire, output=output, error="boom")))
    assert job.status is status
    assert (job.error is not None) == (status in (JobStatus.FAILED, JobStatus.CANCELED))


def test_an_unknown_status_is_a_malformed_reply_carrying_the_job() -> None:
    with pytest.raises(MalformedResponseError) as info:
        ADAPTER.parse_status(_job(), reply(200, _prediction("aborted-ish")))
    assert info.value.job is not None and info.value.job.id == "p1"


@pytest.mark.parametrize("output", [
    "https://replicate.delivery/a/out.mp4",
    ["https://replicate.delivery/a/out.mp4"],
    {"video": "https://replicate.delivery/a/out.mp4", "seed": 4},
])
def test_an_output_url_list_or_object_becomes_media(output: object) -> None:
    job = ADAPTER.parse_status(_job(), reply(200, _prediction("succeeded", output=output)))
    url = "https://replicate.delivery/a/out.mp4"
    assert [(m.url, m.kind, m.format) for m in job.outputs] == [(url, "video", "mp4")]


def test_outputs_keep_order_drop_repeats_and_read_data_urls() -> None:
    media = prediction_outputs(["https://r.d/1.png", "data:image/jpeg;base64,AAAA", "https://r.d/1.png", 3], "image")
    assert [(m.url[:22], m.format) for m in media] == [("https://r.d/1.png", "png"), ("data:image/jpeg;base64", "jpg")]


def test_a_success_without_a_media_url_is_malformed() -> None:
    with pytest.raises(MalformedResponseError):
        ADAPTER.parse_status(_job(), reply(200, _prediction("succeeded", output="just text")))


def test_logs_become_lines_and_the_last_progress_bar_sets_progress() -> None:
    logs = "loading\n 10%|#         | 1/10 [00:01]\r 40%|####      | 4/10 [00:02]\n"
    job = ADAPTER.parse_status(_job(), reply(200, _prediction("processing", logs=logs)))
    assert job.logs == ("loading", " 10%|#         | 1/10 [00:01]", " 40%|####      | 4/10 [00:02]")
    assert job.progress == 40.0 and job.status_url == "https://api.replicate.com/v1/predictions/p1"


def test_metrics_are_read_onto_the_job_and_kept_in_the_raw_reply() -> None:
    job = ADAPTER.parse_status(_job(), reply(200, _prediction("succeeded", output="https://r.d/o.mp4",
                                                              metrics={"predict_time": 1.5, "total_time": 2,
                                                                       "image_count": 1})))
    assert job.metrics == JobMetrics(predict_time=1.5, total_time=2.0)
    assert type(job.metrics.total_time) is float
    assert isinstance(job.raw, dict) and job.raw["metrics"] == {"predict_time": 1.5, "total_time": 2, "image_count": 1}
    assert Job.model_validate_json(job.model_dump_json()) == job


@pytest.mark.parametrize("metrics", [None, "fast", [], {}, {"predict_time": True}, {"predict_time": "1.5"},
                                     {"predict_time": -1}, {"predict_time": None}, {"image_count": 2}])
def test_metrics_without_a_readable_time_leave_the_field_empty(metrics: Any) -> None:
    job = ADAPTER.parse_status(_job(), reply(200, _prediction("processing", metrics=metrics)))
    assert job.metrics is None and job.status is JobStatus.RUNNING


def test_one_readable_time_is_kept_without_the_other() -> None:
    job = ADAPTER.parse_status(_job(), reply(200, _prediction("processing", metrics={"predict_time": "x",
                                                                                      "total_time": 0.25})))
    assert job.metrics == JobMetrics(total_time=0.25)


def test_a_later_reply_without_metrics_keeps_the_earlier_ones() -> None:
    first = ADAPTER.parse_status(_job(), reply(200, _prediction("processing", metrics={"predict_time": 1})))
    assert ADAPTER.parse_status(first, reply(200, _prediction("processing"))).metrics == JobMetrics(predict_time=1.0)


def test_a_failed_prediction_carries_its_error_text() -> None:
    job = ADAPTER.parse_status(_job(), reply(200, _prediction("failed", error="CUDA out of memory")))
    assert job.error is not None and job.error.message == "CUDA out of memory"


def test_a_create_reply_already_finished_by_a_sync_wait_is_read_whole() -> None:
    resolved = _resolved("luma-ray", prompt="a fox")
    job = ADAPTER.parse_submit(resolved, reply(201, _prediction("succeeded", output="https://r.d/o.mp4")))
    assert (job.id, job.model, job.task, job.status) == ("p1", "luma-ray", "text-to-video", JobStatus.SUCCEEDED)


def test_a_create_reply_without_an_id_is_malformed() -> None:
    with pytest.raises(MalformedResponseError, match="may still have been created"):
        ADAPTER.parse_submit(_resolved("luma-ray", prompt="x"), reply(201, {"status": "starting"}))


def test_cancel_posts_to_the_cancel_url_and_reads_the_prediction() -> None:
    req = ADAPTER.build_cancel(_job())
    assert (req.method, req.path, req.replay_safe) == ("POST", "/v1/predictions/p1/cancel", True)
    assert ADAPTER.parse_cancel(_job(), reply(200, _prediction("canceled"))).status is JobStatus.CANCELED


def test_a_422_lists_each_invalid_field_as_a_violation() -> None:
    body = {"title": "Input validation failed", "detail": "- input.prompt: Does not match", "status": 422,
            "invalid_fields": [{"type": "required", "field": "input.prompt", "description": "prompt is required"},
                               {"type": "additional_property_not_allowed", "field": "",
                                "description": "Additional property inptu is not allowed"}]}
    err = ADAPTER.parse_error(reply(422, body))
    assert isinstance(err, InvalidInputError)
    assert (err.code, err.provider_code) == ("model_input_invalid", "input_validation_failed")
    assert [(v.path, v.message) for v in err.violations] == [
        ("$.prompt", "prompt is required"), ("$", "Additional property inptu is not allowed")]


@pytest.mark.parametrize(("status", "cls"), [(401, AuthenticationError), (402, InsufficientCreditsError),
                                             (404, ProviderNotFoundError), (429, RateLimitError), (503, ServerError)])
def test_problem_details_map_onto_the_error_tree(status: int, cls: type[Exception]) -> None:
    err = ADAPTER.parse_error(reply(status, {"title": "t", "detail": "what happened", "status": status},
                                    retry_after="2"))
    assert type(err) is cls and err.message == "what happened" and err.provider == "replicate"
    assert isinstance(err, ProviderError)
    assert err.retryable == (status in (429, 503))
    assert err.retry_after == 2.0


def test_an_error_body_that_is_not_json_is_kept_as_text() -> None:
    err = ADAPTER.parse_error(reply(502, b"<html>bad gateway</html>"))
    assert type(err) is ServerError and err.body == "<html>bad gateway</html>"


def test_a_delivery_names_the_catalog_model_of_a_pinned_version() -> None:
    payload = _prediction("succeeded", model="meta/musicgen", version=MUSICGEN, output="https://r.d/o.wav")
    job = ADAPTER.parse_webhook(payload, {})
    assert (job.model, job.task, job.status, job.outputs[0].kind) == (
        "musicgen", "text-to-music", JobStatus.SUCCEEDED, "audio")


def test_a_delivery_without_an_id_is_malformed() -> None:
    with pytest.raises(MalformedResponseError):
        ADAPTER.parse_webhook({"status": "succeeded"}, {})


def test_model_references_parse_like_the_official_client() -> None:
    assert parse_ref("meta/musicgen:abc123") == ("meta", "musicgen", "abc123")
    assert parse_ref("luma/ray") == ("luma", "ray", None)
    for bad in ("musicgen", "a/b/c", "a/b:"):
        with pytest.raises(ValueError):
            parse_ref(bad)
