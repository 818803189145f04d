"""The fake providers themselves: faithful to the reference, strict about what they accept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import TTS_YAML

from genwire import Catalog, GenerationRequest, JobStatus, UnknownNameError
from genwire._policy.retry import PollPolicy, RetryPolicy
from genwire.catalog._translate import build_body
from genwire.testing import FakeClipia, FakeCliprise, FakeProviders, sample_request
from genwire.testing.fakes import FAKES
from genwire.testing.strategies import requests
from genwire.webhooks import parse_webhook

CLIPIA_KEY = "clipia_live_fake"
CLIPRISE_KEY = "cliprise_fake"
PROMPT = {"input": {"prompt": "a fox"}}


@pytest.fixture(scope="module")
def catalog_with_audio(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The bundled catalog plus a Clipia audio model (the bundled one has none)."""
    root = tmp_path_factory.mktemp("catalog")
    (root / "clipia").mkdir()
    (root / "clipia" / "fake-tts.yaml").write_text(TTS_YAML)
    return Catalog.load(root)


@pytest.fixture
def clipia() -> FakeClipia:
    return FakeClipia(keys=(CLIPIA_KEY, "clipia_test_fake"))


@pytest.fixture
def cliprise() -> FakeCliprise:
    return FakeCliprise()


def http(fake: FakeClipia | FakeCliprise, **headers: str) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(fake), base_url=fake.base_url, headers=headers)


@pytest.fixture
def capi(clipia: FakeClipia) -> Iterator[httpx.Client]:
    with http(clipia, Authorization=f"Key {CLIPIA_KEY}") as client:
        yield client


@pytest.fixture
def rapi(cliprise: FakeCliprise) -> Iterator[httpx.Client]:
    with http(cliprise, Authorization=f"Bearer {CLIPRISE_KEY}") as client:
        yield client


def submit(api: httpx.Client, slug: str = "nano-banana-2", body: Any = None, **headers: str) -> httpx.Response:
    return api.post(f"/v1/models/{slug}", json=PROMPT if body is None else body, headers=headers)


def generate(api: httpx.Client, body: Any = None) -> httpx.Response:
    return api.post("/generate", json=body or {"model": "nano-banana", "input": {"prompt": "a fox"}})


def status(api: httpx.Client, task_id: str, key: str = CLIPRISE_KEY) -> httpx.Response:
    return api.get("/status", params={"apiKey": key, "taskId": task_id})


# -- Clipia: authentication and validation ---------------------------------------------------

@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic " + CLIPIA_KEY, CLIPIA_KEY])
def test_clipia_refuses_a_missing_or_wrong_key_with_the_error_envelope(clipia: FakeClipia, header: str | None) -> None:
    with http(clipia, **({"Authorization": header} if header else {})) as api:
        resp = submit(api)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "invalid_api_key"
    assert set(resp.json()["error"]) == {"code", "message", "type"}


@pytest.mark.parametrize("scheme", ["Bearer", "Key"])
def test_clipia_accepts_both_documented_auth_schemes(clipia: FakeClipia, scheme: str) -> None:
    with http(clipia, Authorization=f"{scheme} {CLIPIA_KEY}") as api:
        assert submit(api).status_code == 200


def test_clipia_unknown_model_is_404_not_found(capi: httpx.Client) -> None:
    resp = submit(capi, "no-such-model")
    assert (resp.status_code, resp.json()["error"]["code"]) == (404, "not_found")


def test_clipia_input_the_schema_refuses_is_422_listing_paths(capi: httpx.Client, clipia: FakeClipia) -> None:
    resp = submit(capi, body={"input": {"promt": "typo"}})
    assert (resp.status_code, resp.json()["error"]["code"]) == (422, "model_input_invalid")
    assert "$.input.prompt" in resp.json()["error"]["message"]
    assert "$.input.promt" in resp.json()["error"]["message"]
    assert clipia.jobs == {}


@pytest.mark.parametrize("content", [b"not json", b"[1]", b'{"prompt": "no input object"}'])
def test_clipia_malformed_body_is_400_invalid_request(capi: httpx.Client, content: bytes) -> None:
    resp = capi.post("/v1/models/nano-banana-2", content=content)
    assert (resp.status_code, resp.json()["error"]["code"]) == (400, "invalid_request")


def test_clipia_submit_reply_has_the_documented_fields(capi: httpx.Client) -> None:
    body = submit(capi).json()
    assert body["status"] == "IN_QUEUE"
    assert body["queue_position"] == 0
    assert body["cost"] == 12  # the catalog's price
    assert body["status_url"] == f"https://api.clipia.ai/v1/requests/{body['request_id']}/status"
    assert body["response_url"] == f"https://api.clipia.ai/v1/requests/{body['request_id']}"


# -- Clipia: idempotency --------------------------------------------------------------------

def test_clipia_same_idempotency_key_and_body_replays_the_same_job_without_charging(
        capi: httpx.Client, clipia: FakeClipia) -> None:
    first = submit(capi, **{"Idempotency-Key": "k1"}).json()
    again = submit(capi, **{"Idempotency-Key": "k1"}).json()
    assert again["request_id"] == first["request_id"]
    assert len(clipia.jobs) == 1
    assert clipia.balance == 10_000 - 12


def test_clipia_same_idempotency_key_with_another_body_is_409(capi: httpx.Client, clipia: FakeClipia) -> None:
    submit(capi, **{"Idempotency-Key": "k1"})
    resp = submit(capi, body={"input": {"prompt": "another"}}, **{"Idempotency-Key": "k1"})
    assert (resp.status_code, resp.json()["error"]["code"]) == (409, "idempotency_key_reuse")
    assert len(clipia.jobs) == 1


# -- Clipia: lifecycle ---------------------------------------------------------------------

def test_clipia_status_moves_one_step_per_poll(capi: httpx.Client) -> None:
    request_id = submit(capi).json()["request_id"]
    first = capi.get(f"/v1/requests/{request_id}/status").json()
    second = capi.get(f"/v1/requests/{request_id}/status").json()
    assert (first["status"], first["progress"]) == ("IN_PROGRESS", 50)
    assert second["status"] == "COMPLETED"


def test_clipia_result_is_202_while_pending_then_200_with_output(capi: httpx.Client) -> None:
    request_id = submit(capi).json()["request_id"]
    pending = capi.get(f"/v1/requests/{request_id}")
    done = capi.get(f"/v1/requests/{request_id}")
    assert pending.status_code == 202 and "output" not in pending.json()
    assert done.status_code == 200
    image = done.json()["output"]["images"][0]
    assert (image["width"], image["height"]) == (1024, 1024)
    assert {"cost", "created_at", "completed_at"} <= set(done.json())


def test_clipia_video_output_carries_duration(capi: httpx.Client) -> None:
    request_id = submit(capi, "seedance-2-fast-t2v", {"input": {"prompt": "x", "duration": 8}}).json()["request_id"]
    capi.get(f"/v1/requests/{request_id}/status")
    video = capi.get(f"/v1/requests/{request_id}").json()["output"]["video"]
    assert video["duration"] == 8 and {"url", "width", "height"} <= set(video)


def test_clipia_audio_output_has_audio_and_audios(catalog_with_audio: Catalog) -> None:
    fake = FakeClipia(catalog_with_audio, steps=0)
    with http(fake, Authorization=f"Key {CLIPIA_KEY}") as api:
        request_id = submit(api, "fake-tts").json()["request_id"]
        output = api.get(f"/v1/requests/{request_id}").json()["output"]
    assert output["audios"] == [output["audio"]]


def test_clipia_unknown_request_id_is_404(capi: httpx.Client) -> None:
    assert capi.get("/v1/requests/nope/status").json()["error"]["code"] == "not_found"


def test_clipia_sandbox_key_completes_at_once_and_charges_nothing(clipia: FakeClipia) -> None:
    with http(clipia, Authorization="Bearer clipia_test_fake") as api:
        body = submit(api).json()
        result = api.get(f"/v1/requests/{body['request_id']}").json()
    assert (body["status"], body["cost"]) == ("COMPLETED", 12)
    assert result["output"]["images"][0]["url"] == "https://media.clipia.ai/sandbox/sample.png"
    assert clipia.balance == 10_000


def test_clipia_credits_are_reserved_on_submit_and_refunded_on_failure(capi: httpx.Client, clipia: FakeClipia) -> None:
    clipia.script_outcome("fail")
    request_id = submit(capi).json()["request_id"]
    reserved = capi.get("/v1/account").json()["balance"]["credits"]
    clipia.finish(request_id)
    assert (reserved, capi.get("/v1/account").json()["balance"]["credits"]) == (10_000 - 12, 10_000)


def test_clipia_account_usage_counts_successful_jobs(capi: httpx.Client, clipia: FakeClipia) -> None:
    submit(capi)
    clipia.finish()
    assert capi.get("/v1/account").json()["usage_30d"] == {"credits_spent": 12, "requests": 1}


def test_clipia_insufficient_balance_is_402(clipia: FakeClipia, capi: httpx.Client) -> None:
    clipia.balance = 5
    resp = submit(capi)
    assert (resp.status_code, resp.json()["error"]["code"]) == (402, "insufficient_credits")


def test_clipia_estimate_prices_from_the_catalog(capi: httpx.Client) -> None:
    assert capi.post("/v1/models/nano-banana-2/estimate", json=PROMPT).json() == {"credits": 12}


def test_clipia_every_reply_carries_rate_limit_headers(capi: httpx.Client, clipia: FakeClipia) -> None:
    clipia.fail_next(503)
    for resp in (submit(capi), submit(capi), submit(capi, "nope"), capi.get("/v1/account")):
        assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= set(resp.headers)


def test_clipia_model_endpoints_describe_the_catalog(capi: httpx.Client) -> None:
    listed = capi.get("/v1/models").json()["data"]
    one = capi.get("/v1/models/seedance-2-fast-i2v").json()
    assert "nano-banana-2" in {m["slug"] for m in listed}
    assert one["input_schema"]["duration"]["enum"] == [4, 8]


def test_clipia_media_is_served_without_a_key(capi: httpx.Client, clipia: FakeClipia) -> None:
    request_id = submit(capi).json()["request_id"]
    clipia.finish()
    with http(clipia) as cdn:
        resp = cdn.get(f"https://media.clipia.ai/works/{request_id}.png")
    assert resp.content.startswith(b"\x89PNG") and resp.headers["content-type"] == "image/png"


# -- Clipia: webhooks -------------------------------------------------------------------------

def test_clipia_delivery_is_signed_and_parses_into_the_finished_job(capi: httpx.Client, clipia: FakeClipia) -> None:
    request_id = submit(capi, body={**PROMPT, "webhook_url": "https://hooks.example/c"}).json()["request_id"]
    clipia.finish()
    (delivery,) = clipia.deliveries
    job = parse_webhook("clipia", delivery.headers, delivery.body, secret=clipia.webhook_secret)
    assert delivery.url == "https://hooks.example/c"
    assert (job.id, job.status, job.outputs[0].kind) == (request_id, JobStatus.SUCCEEDED, "image")


def test_clipia_failed_job_delivers_error_status(capi: httpx.Client, clipia: FakeClipia) -> None:
    clipia.script_outcome("fail", message="nsfw")
    submit(capi, body={**PROMPT, "webhook_url": "https://hooks.example/c"})
    clipia.finish()
    job = parse_webhook("clipia", clipia.deliveries[0].headers, clipia.deliveries[0].body, secret="whsec_fake")
    assert clipia.deliveries[0].json()["status"] == "ERROR"
    assert job.status is JobStatus.FAILED and job.error is not None and job.error.message == "nsfw"


def test_clipia_job_without_webhook_url_delivers_nothing(capi: httpx.Client, clipia: FakeClipia) -> None:
    submit(capi)
    clipia.finish()
    assert clipia.deliveries == []


# -- Cliprise --------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Key {CLIPRISE_KEY}"])
def test_cliprise_generate_refuses_a_missing_or_wrong_key(cliprise: FakeCliprise, header: str | None) -> None:
    with http(cliprise, **({"Authorization": header} if header else {})) as api:
        resp = generate(api)
    assert resp.status_code == 401
    assert resp.json() == {"code": 401, "error": {"code": "invalid_api_key", "message": "Missing or invalid API key."}}


@pytest.mark.parametrize("body", [
    {"model": "no-such-model", "input": {"prompt": "x"}},
    {"model": "nano-banana", "input": {"prompt": "x", "image_size": "7:3"}},
    {"model": "nano-banana"},
    {"input": {"prompt": "x"}},
])
def test_cliprise_invalid_body_is_400_with_msg(rapi: httpx.Client, cliprise: FakeCliprise, body: Any) -> None:
    resp = generate(rapi, body)
    assert resp.status_code == 400 and set(resp.json()) == {"msg"}
    assert cliprise.jobs == {}


def test_cliprise_generate_answers_a_28_hex_task_id_in_a_list(rapi: httpx.Client) -> None:
    (reply,) = generate(rapi).json()
    assert reply["code"] == 200 and re.fullmatch(r"[0-9a-f]{28}", reply["taskId"])


def test_cliprise_status_takes_the_key_only_from_the_query(rapi: httpx.Client) -> None:
    task_id = generate(rapi).json()[0]["taskId"]
    header_only = rapi.get("/status", params={"taskId": task_id})
    assert header_only.status_code == 401
    assert status(rapi, task_id, key="wrong").status_code == 401
    assert status(rapi, task_id).status_code == 200


def test_cliprise_status_goes_processing_then_success_with_a_keyed_file_url(rapi: httpx.Client) -> None:
    task_id = generate(rapi).json()[0]["taskId"]
    assert status(rapi, task_id).json() == [{"status": "processing"}]
    (done,) = status(rapi, task_id).json()
    assert done["status"] == "success"
    assert done["fileURL"] == ("https://business.api.cliprise.app/app/cliprise/status"
                               f"?apiKey={CLIPRISE_KEY}&taskId={task_id}&download=true")


def test_cliprise_failure_is_a_bare_object_with_fail_msg(rapi: httpx.Client, cliprise: FakeCliprise) -> None:
    cliprise.script_outcome("fail", message="content policy")
    task_id = generate(rapi).json()[0]["taskId"]
    cliprise.finish()
    assert status(rapi, task_id).json() == {"status": "fail", "failMsg": "content policy"}


def wire_example(provider: str, model: str, task: str) -> dict[str, Any]:
    """The request body genwire sends for the catalog's example input of a task."""
    catalog = Catalog.default()
    value = catalog.validate(provider, model, task, catalog.input_schema(provider, model, task)["examples"][0])
    return build_body(catalog.envelope(provider), catalog.task(provider, model, task), value)


@pytest.mark.parametrize(("model", "task", "magic", "content_type"), [
    ("nano-banana", "text-to-image", b"\x89PNG", "image/png"),
    ("veo-3-fast", "text-to-video", b"ftypisom", "video/mp4"),
    ("elevenlabs-v3-dialogue", "dialogue", b"RIFF", "audio/wav"),
])
def test_cliprise_file_url_downloads_bytes_of_the_output_kind(
        rapi: httpx.Client, cliprise: FakeCliprise, model: str, task: str, magic: bytes, content_type: str) -> None:
    task_id = generate(rapi, wire_example("cliprise", model, task)).json()[0]["taskId"]
    cliprise.finish()
    url = status(rapi, task_id).json()[0]["fileURL"]
    resp = rapi.get(url)
    assert magic in resp.content[:12] and resp.headers["content-type"] == content_type


def test_cliprise_success_callback_has_the_documented_fields(rapi: httpx.Client, cliprise: FakeCliprise) -> None:
    task_id = generate(rapi, {"model": "nano-banana", "callBackUrl": "https://hooks.example/r",
                              "input": {"prompt": "x"}}).json()[0]["taskId"]
    cliprise.finish()
    (delivery,) = cliprise.deliveries
    payload = delivery.json()
    assert set(payload) == {"taskId", "status", "model", "fileURL", "createdAt", "completedAt"}
    job = parse_webhook("cliprise", delivery.headers, delivery.body, secret=None)
    assert (job.id, job.status, job.model) == (task_id, JobStatus.SUCCEEDED, "nano-banana")
    assert CLIPRISE_KEY not in job.outputs[0].url


def test_cliprise_failure_callback_carries_provider_error(rapi: httpx.Client, cliprise: FakeCliprise) -> None:
    cliprise.script_outcome("fail", message="boom")
    generate(rapi, {"model": "nano-banana", "callBackUrl": "https://hooks.example/r", "input": {"prompt": "x"}})
    cliprise.finish()
    payload = cliprise.deliveries[0].json()
    assert payload["status"] == "failure"
    assert payload["error"] == {"code": "provider_error", "message": "boom"}


# -- scripting -------------------------------------------------------------------------------

def test_fail_next_answers_the_error_with_retry_after_in_the_provider_shape(
        rapi: httpx.Client, cliprise: FakeCliprise) -> None:
    cliprise.fail_next(429, retry_after=3)
    resp = generate(rapi)
    assert resp.status_code == 429 and resp.headers["retry-after"] == "3"
    assert resp.json()["error"]["code"] == "rate_limit_exceeded"
    assert generate(rapi).status_code == 200


def test_fail_next_only_hits_requests_under_its_path(capi: httpx.Client, clipia: FakeClipia) -> None:
    request_id = submit(capi).json()["request_id"]
    clipia.fail_next(503, times=2, path="/v1/requests")
    assert capi.get("/v1/account").status_code == 200
    codes = [capi.get(f"/v1/requests/{request_id}/status").status_code for _ in range(3)]
    assert codes == [503, 503, 200]


def test_disconnect_before_send_raises_connect_error_and_creates_nothing(
        capi: httpx.Client, clipia: FakeClipia) -> None:
    clipia.disconnect_next()
    with pytest.raises(httpx.ConnectError):
        submit(capi)
    assert clipia.jobs == {}


def test_disconnect_after_send_raises_read_timeout_but_the_job_exists(
        rapi: httpx.Client, cliprise: FakeCliprise) -> None:
    cliprise.disconnect_next(before_send=False)
    with pytest.raises(httpx.ReadTimeout):
        generate(rapi)
    assert len(cliprise.jobs) == 1


def test_requests_records_method_url_headers_and_json(rapi: httpx.Client, cliprise: FakeCliprise) -> None:
    generate(rapi)
    (seen,) = cliprise.requests
    assert (seen.method, seen.path) == ("POST", "/app/cliprise/generate")
    assert seen.headers["authorization"] == f"Bearer {CLIPRISE_KEY}"
    assert seen.json["model"] == "nano-banana"


def test_scripted_outcome_applies_to_the_next_job_only(rapi: httpx.Client, cliprise: FakeCliprise) -> None:
    cliprise.script_outcome("fail")
    first, second = (generate(rapi).json()[0]["taskId"] for _ in range(2))
    cliprise.finish()
    assert (cliprise.jobs[first].status, cliprise.jobs[second].status) == (JobStatus.FAILED, JobStatus.SUCCEEDED)


# -- FakeProviders ---------------------------------------------------------------------------

def test_fake_providers_route_by_origin_and_base_path() -> None:
    fakes = FakeProviders()
    with httpx.Client(transport=fakes.transport()) as api:
        api.get("https://api.clipia.ai/v1/account")
        api.get("https://business.api.cliprise.app/app/cliprise/status")
    assert (len(fakes.clipia.requests), len(fakes.cliprise.requests)) == (1, 1)


def test_fake_providers_refuse_unknown_hosts_with_connect_error() -> None:
    with httpx.Client(transport=FakeProviders().transport()) as api, \
            pytest.raises(httpx.ConnectError, match=r"no fake provider serves https://example\.com"):
        api.get("https://example.com/")


def test_fake_providers_refuse_a_fake_serving_another_base_url() -> None:
    with pytest.raises(ValueError, match="base_url"):
        FakeProviders(cliprise=FakeCliprise(base_url="http://127.0.0.1:9000"))


def test_fake_providers_serve_custom_base_urls() -> None:
    fakes = FakeProviders(base_urls={"cliprise": "http://127.0.0.1:9000/cr"})
    with fakes.client() as client:
        job = client.submit(GenerationRequest(provider="cliprise", model="nano-banana", input={"prompt": "x"}))
    assert fakes.cliprise.requests[0].url == "http://127.0.0.1:9000/cr/generate"
    assert job.id in fakes.cliprise.jobs


# -- the strategies against the fakes ---------------------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_fakes_accept_every_valid_request_genwire_sends(request: GenerationRequest) -> None:
    fakes = FakeProviders()
    with fakes.client(retry=RetryPolicy(max_retries=0), poll=PollPolicy(initial_interval=0.001,
                                                                         max_interval=0.001)) as client:
        job = client.submit(request)
    assert job.id in fakes.fakes[request.provider or ""].jobs


@pytest.mark.parametrize("provider", sorted(FAKES))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_registered_providers_fake_accepts_the_valid_requests_of_its_models(provider: str,
                                                                                 data: st.DataObject) -> None:
    # the draw above spans the whole catalog, where a provider with few models is seldom drawn
    request = data.draw(requests(provider=provider))
    fakes = FakeProviders()
    with fakes.client(retry=RetryPolicy(max_retries=0)) as client:
        job = client.submit(request)
    assert job.provider == provider and job.id in fakes.fakes[provider].jobs



@pytest.mark.parametrize("provider", sorted(FAKES))
def test_the_sample_request_of_every_registered_provider_runs_on_its_fake(provider: str) -> None:
    fakes = FakeProviders()
    request = sample_request(provider, "a fox", webhook_url="https://gw.example.com/hooks/x")
    assert request.provider == provider and request.input == {"prompt": "a fox"}
    with fakes.client() as client:
        job = client.run(request, timeout=10)
    assert job.status is JobStatus.SUCCEEDED and job.outputs and len(fakes.fakes[provider].jobs) == 1


def test_a_sample_request_of_an_unknown_provider_is_refused() -> None:
    with pytest.raises(UnknownNameError):
        sample_request("clippia")


@pytest.mark.parametrize("provider", sorted(FAKES))
def test_a_held_job_never_ends_by_polling_and_ends_when_finished(provider: str) -> None:
    fakes = FakeProviders()
    fake = fakes.fakes[provider]
    with fakes.client() as client:
        job = client.submit(sample_request(provider))
        fake.jobs[job.id].held = True
        for _ in range(fake.steps + 3):
            job = client.status(job)
        assert not job.done
        fake.finish(job.id)
        assert client.status(job).status is JobStatus.SUCCEEDED
