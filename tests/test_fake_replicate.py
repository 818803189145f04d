"""The fake Replicate: faithful to the HTTP API and the official client, strict about what it accepts."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from support import call, close

from genwire import AsyncClient, Client, JobStatus
from genwire._policy.retry import PollPolicy
from genwire._stdwebhooks import verify_standard_webhook
from genwire.adapters.replicate import ReplicateAdapter
from genwire.errors import InvalidInputError
from genwire.testing._fake_replicate import DEFAULT_REPLICATE_SECRET, FakeReplicate

KEY = "r8_fake"
BASE = "https://api.replicate.com"
MUSICGEN = "7a76a8258b23fae65c5a22debb8841d1d7e816b75c2f24218cd2bd8573787906"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def fake() -> FakeReplicate:
    return FakeReplicate(clock=lambda: 1_700_000_000)


@pytest.fixture
def api(fake: FakeReplicate) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.MockTransport(fake), base_url=BASE, headers=AUTH) as client:
        yield client


def test_a_missing_or_wrong_token_is_401_problem_details(fake: FakeReplicate) -> None:
    with httpx.Client(transport=httpx.MockTransport(fake), base_url=BASE) as client:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Key {KEY}"}):
            resp = client.post("/v1/models/luma/ray/predictions", json={"input": {"prompt": "x"}}, headers=headers)
            assert resp.status_code == 401 and resp.json()["status"] == 401
            assert resp.headers["content-type"] == "application/problem+json"


def test_a_model_create_answers_201_with_a_starting_prediction(api: httpx.Client) -> None:
    resp = api.post("/v1/models/luma/ray/predictions", json={"input": {"prompt": "a fox"}})
    body = resp.json()
    assert resp.status_code == 201 and body["status"] == "starting" and body["model"] == "luma/ray"
    assert body["urls"]["get"] == f"{BASE}/v1/predictions/{body['id']}"
    assert body["urls"]["cancel"] == f"{BASE}/v1/predictions/{body['id']}/cancel"


def test_a_pinned_version_is_created_on_the_predictions_endpoint(api: httpx.Client) -> None:
    resp = api.post("/v1/predictions", json={"version": MUSICGEN, "input": {"prompt": "jazz"}})
    assert resp.status_code == 201 and resp.json()["version"] == MUSICGEN


@pytest.mark.parametrize(("path", "body", "expected"), [
    ("/v1/models/luma/ray/predictions", {"inptu": {"prompt": "x"}},
     ["Additional property inptu is not allowed", "input is required"]),
    ("/v1/models/luma/ray/predictions", {"input": {"prompt": "x"}, "version": MUSICGEN},
     ["Additional property version is not allowed"]),
    ("/v1/predictions", {"input": {"prompt": "x"}}, ["version is required"]),
])
def test_top_level_mistakes_are_422_with_invalid_fields(api: httpx.Client, path: str, body: dict[str, object],
                                                        expected: list[str]) -> None:
    resp = api.post(path, json=body)
    assert resp.status_code == 422
    assert [f["description"] for f in resp.json()["invalid_fields"]] == expected


def test_an_input_the_version_schema_refuses_is_422_naming_the_field(api: httpx.Client) -> None:
    resp = api.post("/v1/models/luma/ray/predictions", json={"input": {"prompt": "x", "aspect_ratio": "2:1"}})
    assert resp.status_code == 422
    assert any(f["field"].startswith("input.aspect_ratio") for f in resp.json()["invalid_fields"])


def test_an_unknown_model_or_version_is_404(api: httpx.Client) -> None:
    assert api.post("/v1/models/acme/nothing/predictions", json={"input": {}}).status_code == 404
    assert api.post("/v1/predictions", json={"version": "ab" * 32, "input": {}}).status_code == 404


def test_a_prediction_moves_one_step_per_get_and_logs_progress(api: httpx.Client) -> None:
    pid = api.post("/v1/models/luma/ray/predictions", json={"input": {"prompt": "x"}}).json()["id"]
    first = api.get(f"/v1/predictions/{pid}").json()
    assert first["status"] == "processing" and "50%|" in first["logs"]
    done = api.get(f"/v1/predictions/{pid}").json()
    assert done["status"] == "succeeded" and done["output"].endswith(".mp4")
    assert done["metrics"]["predict_time"] >= 0 and done["metrics"]["total_time"] >= done["metrics"]["predict_time"]
    media = api.get(done["output"])
    assert media.status_code == 200 and media.headers["content-type"] == "video/mp4"


def test_cancel_ends_a_running_prediction_and_leaves_a_finished_one(api: httpx.Client, fake: FakeReplicate) -> None:
    pid = api.post("/v1/models/luma/ray/predictions", json={"input": {"prompt": "x"}}).json()["id"]
    assert api.post(f"/v1/predictions/{pid}/cancel").json()["status"] == "canceled"
    assert api.post(f"/v1/predictions/{pid}/cancel").json()["status"] == "canceled"
    assert api.get(f"/v1/predictions/{pid}").json()["status"] == "canceled"
    assert fake.cancels == 2


def test_prefer_wait_holds_the_create_until_the_prediction_ends(api: httpx.Client, fake: FakeReplicate) -> None:
    resp = api.post("/v1/models/luma/ray/predictions", json={"input": {"prompt": "x"}},
                    headers={"Prefer": "wait=5"})
    assert resp.json()["status"] == "succeeded" and fake.waits == [5]
    fake.sync_finishes = False
    assert api.post("/v1/models/luma/ray/predictions", json={"input": {"prompt": "x"}},
                    headers={"Prefer": "wait"}).json()["status"] == "starting"
    assert fake.waits == [5, 60]


@pytest.mark.parametrize("prefer", ["wait=0", "wait=61", "wait=abc", "respond-async"])
def test_a_malformed_prefer_wait_is_400(api: httpx.Client, prefer: str) -> None:
    resp = api.post("/v1/models/luma/ray/predictions", json={"input": {"prompt": "x"}}, headers={"Prefer": prefer})
    assert resp.status_code == 400


def test_deliveries_follow_the_events_filter_and_are_signed(api: httpx.Client, fake: FakeReplicate) -> None:
    api.post("/v1/models/luma/ray/predictions", json={
        "input": {"prompt": "x"}, "webhook": "https://gw.example/hooks/replicate",
        "webhook_events_filter": ["start", "completed"]})
    fake.finish()
    adapter = ReplicateAdapter(fake.catalog)
    statuses = []
    for delivery in fake.deliveries:
        assert delivery.url == "https://gw.example/hooks/replicate"
        verify_standard_webhook(delivery.headers, delivery.body, DEFAULT_REPLICATE_SECRET, now=1_700_000_000)
        statuses.append(adapter.parse_webhook(delivery.json(), {}).status)
    assert statuses == [JobStatus.QUEUED, JobStatus.SUCCEEDED]


def test_an_unknown_webhook_event_is_refused(api: httpx.Client) -> None:
    resp = api.post("/v1/models/luma/ray/predictions", json={
        "input": {"prompt": "x"}, "webhook": "https://gw.example/h", "webhook_events_filter": ["finished"]})
    assert resp.status_code == 422


def test_scripted_faults_apply_before_any_check(api: httpx.Client, fake: FakeReplicate) -> None:
    fake.fail_next(429, retry_after=1)
    resp = api.post("/v1/models/luma/ray/predictions", json={"input": {"prompt": "x"}})
    assert resp.status_code == 429 and resp.headers["retry-after"] == "1" and resp.json()["status"] == 429
    fake.script_outcome("fail", message="NSFW content detected")
    pid = api.post("/v1/models/luma/ray/predictions", json={"input": {"prompt": "x"}}).json()["id"]
    fake.finish(pid)
    assert api.get(f"/v1/predictions/{pid}").json()["error"] == "NSFW content detected"


def test_the_model_endpoint_publishes_an_openapi_input_schema(api: httpx.Client) -> None:
    body = api.get("/v1/models/meta/musicgen").json()
    assert body["latest_version"]["id"] == MUSICGEN
    schema = body["latest_version"]["openapi_schema"]["components"]["schemas"]["Input"]
    assert schema["properties"]["model_version"]["enum"] == ["melody", "large", "encode-decode"]
    assert schema["properties"]["input_audio"]["format"] == "uri"


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_genwire_runs_each_bundled_kind_end_to_end_against_the_fake(mode: str) -> None:
    fake = FakeReplicate()
    cls = Client if mode == "sync" else AsyncClient
    client = cls(api_keys={"replicate": KEY}, transport=httpx.MockTransport(fake),
                 poll=PollPolicy(initial_interval=0.001, max_interval=0.001))
    try:
        for model, input in (("flux-pro", {"prompt": "a fox", "width": 512}),
                             ("luma-ray", {"prompt": "a fox", "first_frame_url": "https://x.test/a.png"}),
                             ("musicgen", {"prompt": "jazz", "duration": 5})):
            job = await call(client, "run", f"replicate/{model}", input=input, timeout=5)
            assert job.status is JobStatus.SUCCEEDED and job.outputs and job.provider == "replicate"
            assert job.outputs[0].kind == fake.catalog.get("replicate", model).output_kind
        with pytest.raises(InvalidInputError):
            await call(client, "submit", "replicate/flux-pro", input={"prompt": "x", "steps": 99})
        assert fake.submits == 3  # the bad input never left the client
    finally:
        await close(client)
