"""genwire and the official ``replicate`` client (1.0.x, a test-only dependency) send the same requests:
method, path, JSON body and auth, for create (model endpoint, pinned version, webhook, sync wait),
get and cancel. Both talk to the same fake Replicate, which records what reached it."""

from __future__ import annotations

from typing import Any

import httpx
import replicate

from genwire import Client
from genwire.testing import FakeReplicate
from genwire.testing.fakes import RecordedRequest

TOKEN = "r8_wire_agreement"
BASE = "https://api.replicate.com"
MUSICGEN = "7a76a8258b23fae65c5a22debb8841d1d7e816b75c2f24218cd2bd8573787906"
HOOK = "https://gw.example.com/hooks/replicate"
EVENTS = ["start", "output", "logs", "completed"]


def _wire(request: RecordedRequest) -> tuple[str, str, Any, str | None, str | None]:
    return request.method, request.path, request.json, request.headers.get("authorization"), \
        request.headers.get("prefer")


def _pair() -> tuple[FakeReplicate, Client, Any, FakeReplicate]:
    ours, theirs = FakeReplicate(keys=(TOKEN,)), FakeReplicate(keys=(TOKEN,))
    client = Client(api_keys={"replicate": TOKEN}, transport=httpx.MockTransport(ours))
    official = replicate.Client(api_token=TOKEN, base_url=BASE, transport=httpx.MockTransport(theirs))
    return ours, client, official, theirs


def test_a_model_endpoint_create_with_a_webhook_is_the_same_request() -> None:
    ours, client, official, theirs = _pair()
    with client:
        client.submit("replicate/luma-ray", input={"prompt": "a fox", "aspect_ratio": "9:16"}, webhook_url=HOOK)
    official.predictions.create(model="luma/ray", input={"prompt": "a fox", "aspect_ratio": "9:16"},
                                webhook=HOOK, webhook_events_filter=EVENTS)
    assert _wire(ours.requests[0]) == _wire(theirs.requests[0])
    assert ours.requests[0].path == "/v1/models/luma/ray/predictions"


def test_a_pinned_version_create_is_the_same_request() -> None:
    ours, client, official, theirs = _pair()
    with client:
        client.submit("replicate/musicgen", input={"prompt": "jazz", "duration": 5})
    official.predictions.create(version=MUSICGEN, input={"prompt": "jazz", "duration": 5})
    assert _wire(ours.requests[0]) == _wire(theirs.requests[0])
    assert ours.requests[0].json == {"input": {"prompt": "jazz", "duration": 5}, "version": MUSICGEN}


def test_a_sync_wait_sends_the_same_prefer_header() -> None:
    ours, client, official, theirs = _pair()
    with client:
        client.run("replicate/flux-pro", input={"prompt": "a fox"}, timeout=32)  # 32 s less the reply margin
    official.predictions.create(version="74346f05d975befd8e33db3d639761186019ea4b1a7dd8b236695c785100afbe",
                                input={"prompt": "a fox"}, wait=30)
    assert _wire(ours.requests[0]) == _wire(theirs.requests[0])
    assert ours.requests[0].headers["prefer"] == "wait=30"


def test_get_and_cancel_are_the_same_requests() -> None:
    ours, client, official, theirs = _pair()
    with client:
        job = client.submit("replicate/luma-ray", input={"prompt": "a fox"})
        client.status(job)
        client.cancel(job)
    created = official.predictions.create(model="luma/ray", input={"prompt": "a fox"})
    official.predictions.get(created.id)
    official.predictions.cancel(created.id)
    mine = [_wire(r) for r in ours.requests]
    official_requests = [_wire(r) for r in theirs.requests]
    strip = [(m, p.replace(job.id, "ID"), b, a, w) for m, p, b, a, w in mine]
    strip_official = [(m, p.replace(created.id, "ID"), b, a, w) for m, p, b, a, w in official_requests]
    assert strip == strip_official
    assert [p for _, p, *_ in strip] == ["/v1/models/luma/ray/predictions", "/v1/predictions/ID",
                                        "/v1/predictions/ID/cancel"]


def test_both_authenticate_with_the_bearer_token() -> None:
    ours, client, official, theirs = _pair()
    with client:
        client.submit("replicate/flux-pro", input={"prompt": "x"})
    official.predictions.create(version="74346f05d975befd8e33db3d639761186019ea4b1a7dd8b236695c785100afbe",
                                input={"prompt": "x"})
    assert ours.requests[0].headers["authorization"] == theirs.requests[0].headers["authorization"] \
        == f"Bearer {TOKEN}"
