"""A submit that may have created a paid job is recoverable: never lost, never duplicated (issue 8, items 1-2)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from support import call, drive, reply

from genwire import (
    AsyncClient,
    Catalog,
    Client,
    GenerationRequest,
    PollPolicy,
    RetryPolicy,
    SubmissionUncertainError,
)
from genwire._policy.flows import Send, submit_flow
from genwire.adapters import get_adapter
from genwire.testing import FakeClipia, FakeCliprise, FakeProviders

CATALOG = Catalog.default()
RETRY = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.002)
CLIPIA_OK = reply(200, {"request_id": "r1", "status": "IN_QUEUE"})
CLIPRISE_OK = reply(200, [{"code": 200, "taskId": "t1"}])
UNREADABLE = {
    "truncated": b'{"request_id": "r1", "sta',
    "no-id": b'{"status": "IN_QUEUE"}',
    "wrong-shape": b'["r1"]',
    "unknown-status": b'{"request_id": "r1", "status": "SOMEWHERE"}',
}
CLIPRISE_UNREADABLE = {
    "truncated": b'[{"code": 200, "taskId": "t',
    "no-task-id": b'[{"code": 200}]',
    "wrong-shape": b'"t1"',
}


def submit(provider: str, model: str, key: str = "idem-1") -> Any:
    resolved = CATALOG.resolve(GenerationRequest(provider=provider, model=model, task="text-to-image",
                                                 input={"prompt": "x"}))[0]
    return submit_flow(get_adapter(provider), resolved, CATALOG.envelope(provider), None, key, RETRY,
                       lambda: 0.5)


def sends(effects: list[Any]) -> list[Any]:
    return [e.request for e in effects if isinstance(e, Send)]


@pytest.mark.parametrize("body", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_an_unreadable_clipia_accept_is_resent_with_the_same_key_and_returns_the_job(body: bytes) -> None:
    effects, job = drive(submit("clipia", "nano-banana-2"), [reply(200, body), CLIPIA_OK])
    first, again = sends(effects)
    assert first == again and again.headers["Idempotency-Key"] == "idem-1"
    assert job.id == "r1"


def test_an_unreadable_clipia_accept_that_stays_unreadable_is_recoverable() -> None:
    replies = [reply(200, UNREADABLE["truncated"])] * 3 + [CLIPIA_OK]
    with pytest.raises(SubmissionUncertainError) as info:
        drive(submit("clipia", "nano-banana-2"), replies)
    err = info.value
    assert (err.idempotency_key, err.provider, err.model) == ("idem-1", "clipia", "nano-banana-2")
    assert "idempotency_key='idem-1'" in str(err) and replies == [CLIPIA_OK]


@pytest.mark.parametrize("body", CLIPRISE_UNREADABLE.values(), ids=CLIPRISE_UNREADABLE.keys())
def test_an_unreadable_cliprise_accept_is_uncertain_and_never_resent(body: bytes) -> None:
    replies = [reply(200, body), CLIPRISE_OK]
    with pytest.raises(SubmissionUncertainError) as info:
        drive(submit("cliprise", "nano-banana"), replies)
    err = info.value
    assert (err.idempotency_key, err.provider, err.model) == ("idem-1", "cliprise", "nano-banana")
    assert "dashboard" in err.message and replies == [CLIPRISE_OK]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_cliprise_5xx_to_a_generate_is_uncertain_and_never_resent(status: int) -> None:
    replies = [reply(status, {"msg": "gateway"}), CLIPRISE_OK]
    with pytest.raises(SubmissionUncertainError) as info:
        drive(submit("cliprise", "nano-banana"), replies)
    assert (info.value.idempotency_key, info.value.model, info.value.status) == ("idem-1", "nano-banana", status)
    assert replies == [CLIPRISE_OK]


def test_clipia_5xx_until_retries_run_out_is_uncertain_with_the_key() -> None:
    busy = reply(502, {"error": {"code": "internal_error", "message": "bad gateway"}})
    with pytest.raises(SubmissionUncertainError) as info:
        drive(submit("clipia", "nano-banana-2"), [busy, busy, busy])
    assert (info.value.idempotency_key, info.value.provider) == ("idem-1", "clipia")


def test_submission_uncertain_error_keeps_its_attributes_through_pickle() -> None:
    import pickle

    err = SubmissionUncertainError("m", provider="clipia", idempotency_key="k", model="nano-banana-2")
    again = pickle.loads(pickle.dumps(err))
    assert (again.idempotency_key, again.provider, again.model) == ("k", "clipia", "nano-banana-2")


# -- both drivers ----------------------------------------------------------------------------------

@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Mangler:
    """The fake providers, with the next replies on a path replaced (status, body)."""

    def __init__(self, fakes: FakeProviders) -> None:
        self.fakes = fakes
        self.rules: list[tuple[str, int, bytes]] = []

    def next(self, path: str, status: int, body: bytes, times: int = 1) -> None:
        self.rules += [(path, status, body)] * times

    def __call__(self, request: httpx.Request) -> httpx.Response:
        resp = self.fakes(request)
        for rule in self.rules:
            if rule[0] in request.url.path:
                self.rules.remove(rule)
                return httpx.Response(rule[1], content=rule[2])
        return resp


MakeClient = Callable[..., Client | AsyncClient]


@pytest.fixture(params=["sync", "async"])
async def make(request: pytest.FixtureRequest) -> AsyncIterator[tuple[MakeClient, FakeProviders, Mangler]]:
    fakes = FakeProviders(FakeClipia(CATALOG, steps=1), FakeCliprise(CATALOG, steps=1))
    mangler = Mangler(fakes)
    made: list[Client | AsyncClient] = []

    def build(**kwargs: Any) -> Client | AsyncClient:
        options = {"api_keys": fakes.api_keys, "base_urls": fakes.base_urls, "catalog": CATALOG,
                   "transport": httpx.MockTransport(mangler), "retry": RETRY,
                   "poll": PollPolicy(initial_interval=0.001, max_interval=0.002), **kwargs}
        client = Client(**options) if request.param == "sync" else AsyncClient(**options)
        made.append(client)
        return client

    yield build, fakes, mangler
    for client in made:
        if isinstance(client, AsyncClient):
            await client.aclose()
        else:
            client.close()


@pytest.mark.anyio
async def test_a_generated_idempotency_key_is_on_the_error_of_a_lost_cliprise_submit(make: Any) -> None:
    build, fakes, _ = make
    fakes.cliprise.disconnect_next(before_send=False, path="/generate")
    request = GenerationRequest(provider="cliprise", model="nano-banana", input={"prompt": "a fox"})
    with pytest.raises(SubmissionUncertainError) as info:
        await call(build(), "submit", request)
    err = info.value
    assert uuid.UUID(err.idempotency_key or "") and (err.provider, err.model) == ("cliprise", "nano-banana")
    assert len(fakes.cliprise.jobs) == 1


@pytest.mark.anyio
async def test_a_family_submit_does_not_fall_back_after_a_cliprise_502(make: Any) -> None:
    build, fakes, mangler = make
    mangler.next("/generate", 502, b'{"msg": "bad gateway"}')
    request = GenerationRequest(family="nano-banana-2", task="text-to-image", input={"prompt": "a fox"})
    with pytest.raises(SubmissionUncertainError) as info:
        await call(build(providers=["cliprise", "clipia"]), "submit", request)
    assert info.value.provider == "cliprise" and len(fakes.clipia.jobs) == 0


@pytest.mark.anyio
async def test_a_family_submit_falls_back_after_a_documented_refusal(make: Any) -> None:
    build, fakes, _ = make
    fakes.cliprise.fail_next(402, code="insufficient_credits", path="/generate")
    request = GenerationRequest(family="nano-banana-2", task="text-to-image", input={"prompt": "a fox"})
    job = await call(build(providers=["cliprise", "clipia"]), "submit", request)
    assert job.provider == "clipia" and len(fakes.cliprise.jobs) == 0


@pytest.mark.anyio
async def test_a_truncated_clipia_accept_gives_the_one_job_the_provider_created(make: Any) -> None:
    build, fakes, mangler = make
    mangler.next("/v1/models", 200, b'{"request_id": "', times=2)
    request = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})
    job = await call(build(), "submit", request)
    assert list(fakes.clipia.jobs) == [job.id]
