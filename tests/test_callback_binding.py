"""Cliprise callbacks are bound to one submit, and ``confirm`` asks the provider itself (issue 8, item 11)."""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from support import call

from genwire import AsyncClient, Catalog, Client, GenerationRequest, JobStatus, PollPolicy, RetryPolicy
from genwire.errors import WebhookVerificationError
from genwire.testing import FakeClipia, FakeCliprise, FakeProviders
from genwire.webhooks import add_callback_token, bind_callback_url, parse_webhook

CATALOG = Catalog.default()
TOKEN = "callback-token-0123456789abcdef"
HOOK = "https://gw.example.com/hooks/cliprise"
REQUEST = GenerationRequest(provider="cliprise", model="nano-banana", input={"prompt": "a fox"}, webhook_url=HOOK)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sync", "async"])
async def setup(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Client | AsyncClient, FakeProviders]]:
    fakes = FakeProviders(FakeClipia(CATALOG, steps=1), FakeCliprise(CATALOG, steps=1))
    options: dict[str, Any] = {"catalog": CATALOG, "callback_token": TOKEN, "poll": PollPolicy(0.001, 0.002),
                               "retry": RetryPolicy(initial_delay=0.001, max_delay=0.002)}
    if request.param == "sync":
        with fakes.client(**options) as client:
            yield client, fakes
    else:
        async with fakes.async_client(**options) as aclient:
            yield aclient, fakes


def delivery(task_id: str, status: str = "success") -> bytes:
    return json.dumps({"taskId": task_id, "status": status, "fileURL": "https://evil.example/x.png"}).encode()


@pytest.mark.anyio
async def test_a_submit_binds_its_callback_url_to_its_idempotency_key(setup: Any) -> None:
    client, fakes = setup
    job = await call(client, "submit", REQUEST.model_copy(update={"idempotency_key": "order-7"}))
    sent = fakes.cliprise.requests[-1].json["callBackUrl"]
    query = parse_qs(urlsplit(sent).query)
    assert job.callback_ref == "order-7" and query["genwire_ref"] == ["order-7"]
    assert TOKEN not in sent  # the URL carries an HMAC of the reference, not the token itself


@pytest.mark.anyio
async def test_a_captured_callback_url_cannot_speak_for_another_task(setup: Any) -> None:
    client, fakes = setup
    first = await call(client, "submit", REQUEST)
    second = await call(client, "submit", REQUEST)
    url = fakes.cliprise.requests[-2].json["callBackUrl"]  # first's URL, captured
    ok = parse_webhook("cliprise", {}, delivery(first.id), secret=TOKEN, url=url, expect=first)
    assert ok.id == first.id and ok.callback_ref == first.callback_ref
    with pytest.raises(WebhookVerificationError) as info:
        parse_webhook("cliprise", {}, delivery(second.id), secret=TOKEN, url=url, expect=second)
    assert info.value.code == "callback_mismatch"
    with pytest.raises(WebhookVerificationError):
        parse_webhook("cliprise", {}, delivery(second.id), secret=TOKEN, url=url, expect=first)


def test_a_bound_url_with_a_forged_reference_is_refused() -> None:
    url = bind_callback_url(HOOK, TOKEN, "order-1").replace("genwire_ref=order-1", "genwire_ref=order-2")
    with pytest.raises(WebhookVerificationError) as info:
        parse_webhook("cliprise", {}, delivery("t1"), secret=TOKEN, url=url)
    assert info.value.code == "invalid_callback_token"


def unbound(url: str, token: str) -> str:
    with pytest.warns(DeprecationWarning, match="unbound callback URL"):
        return add_callback_token(url, token)


def test_a_plain_token_url_still_verifies_without_a_reference() -> None:
    job = parse_webhook("cliprise", {}, delivery("t1"), secret=TOKEN, url=unbound(HOOK, TOKEN))
    assert job.id == "t1" and job.callback_ref is None


@pytest.mark.anyio
async def test_an_unbound_token_is_refused_for_a_job_submitted_bound(setup: Any) -> None:
    client, _ = setup
    job = await call(client, "submit", REQUEST)
    assert job.callback_ref is not None
    with pytest.raises(WebhookVerificationError) as info:
        parse_webhook("cliprise", {}, delivery(job.id), secret=TOKEN, url=unbound(HOOK, TOKEN), expect=job)
    assert info.value.code == "callback_mismatch" and "unbound" in info.value.message


@pytest.mark.anyio
async def test_the_client_sends_only_bound_callback_urls(setup: Any) -> None:
    client, fakes = setup
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # no deprecated helper on the client's path
        job = await call(client, "submit", REQUEST)
    query = parse_qs(urlsplit(fakes.cliprise.requests[-1].json["callBackUrl"]).query)
    assert query["genwire_ref"] == [job.callback_ref] and len(query["genwire_token"]) == 1


@pytest.mark.anyio
async def test_confirm_replaces_a_forged_success_with_the_providers_word(setup: Any) -> None:
    client, fakes = setup
    fakes.cliprise.script_outcome("fail", message="nsfw")
    job = await call(client, "submit", REQUEST)
    url = fakes.cliprise.requests[-1].json["callBackUrl"]
    claimed = parse_webhook("cliprise", {}, delivery(job.id), secret=TOKEN, url=url, expect=job)
    assert claimed.status is JobStatus.SUCCEEDED  # what the unsigned delivery says
    confirmed = await call(client, "confirm", claimed)
    assert confirmed.id == job.id and confirmed.status is not JobStatus.SUCCEEDED and not confirmed.outputs
    assert confirmed.callback_ref == job.callback_ref
