"""genwire.asgi.WebhookApp: verify, apply to the ledger, answer fast; in process
(httpx.ASGITransport) and over a real socket (uvicorn)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from genwire import AsyncClient, ConfigurationError, GenerationRequest, JobStatus
from genwire._policy.retry import PollPolicy, RetryPolicy
from genwire.asgi import WebhookApp
from genwire.ledger import Ledger, LedgerState
from genwire.testing import DEFAULT_REPLICATE_SECRET, DEFAULT_WEBHOOK_SECRET, FakeClipia, FakeProviders
from genwire.testing.fakes import Delivery

pytestmark = pytest.mark.anyio

POLL = PollPolicy(initial_interval=0.001, max_interval=0.002)
RETRY = RetryPolicy(initial_delay=0.001, max_delay=0.002)
TOKEN = "callback-token-0123456789abcdef"
HOOK = "https://gw.example.com/hooks"
CLIPIA = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"},
                           webhook_url=f"{HOOK}/clipia")
CLIPRISE = GenerationRequest(provider="cliprise", model="nano-banana", task="text-to-image",
                             input={"prompt": "a fox"}, webhook_url=f"{HOOK}/cliprise")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fakes() -> FakeProviders:
    return FakeProviders(clipia=FakeClipia(steps=3))


@pytest.fixture
async def client(fakes: FakeProviders, ledger: Ledger) -> AsyncIterator[AsyncClient]:
    async with fakes.async_client(ledger=ledger, poll=POLL, retry=RETRY, callback_token=TOKEN) as made:
        yield made


@pytest.fixture
def app(ledger: Ledger, client: AsyncClient) -> WebhookApp:
    return WebhookApp(ledger, secrets={"clipia": DEFAULT_WEBHOOK_SECRET, "cliprise": TOKEN}, client=client,
                      prefix="/hooks")


async def deliver(app: WebhookApp, delivery: Delivery, *, body: bytes | None = None,
                  url: str | None = None) -> httpx.Response:
    target = (url or delivery.url).replace(HOOK, "http://gw/hooks")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
        return await http.post(target, content=delivery.body if body is None else body, headers=dict(delivery.headers))


async def test_a_signed_clipia_delivery_is_applied_once(app: WebhookApp, client: AsyncClient, fakes: FakeProviders,
                                                      ledger: Ledger) -> None:
    job = await client.submit(CLIPIA)
    fakes.clipia.finish(job.id)
    [delivery] = fakes.clipia.deliveries
    first, again = await deliver(app, delivery), await deliver(app, delivery)
    assert (first.status_code, again.status_code) == (204, 204)
    entry = ledger.find("clipia", job.id)
    assert entry is not None and entry.state is LedgerState.SUCCEEDED and entry.job and entry.job.outputs
    assert [(e.state.value, e.source) for e in ledger.events(entry.ref)] == [("queued", "submit"),
                                                                             ("succeeded", "webhook")]


async def test_a_late_delivery_does_not_move_a_finished_job_back(app: WebhookApp, client: AsyncClient,
                                                                fakes: FakeProviders, ledger: Ledger) -> None:
    job = await client.submit(CLIPIA)
    fakes.clipia.finish(job.id)
    [delivery] = fakes.clipia.deliveries
    payload = json.loads(delivery.body)
    await deliver(app, delivery)
    from genwire.webhooks import sign_clipia
    stale = json.dumps({**payload, "status": "ERROR", "error": {"message": "late"}}).encode()
    headers = {**delivery.headers, "X-Clipia-Signature": sign_clipia(stale, DEFAULT_WEBHOOK_SECRET, int(time.time()))}
    response = await deliver(app, Delivery(delivery.url, headers, stale))
    entry = ledger.find("clipia", job.id)
    assert response.status_code == 202 and entry is not None and entry.state is LedgerState.SUCCEEDED


async def test_a_forged_clipia_signature_is_refused_and_not_applied(app: WebhookApp, client: AsyncClient,
                                                                   fakes: FakeProviders, ledger: Ledger) -> None:
    job = await client.submit(CLIPIA)
    fakes.clipia.finish(job.id)
    [delivery] = fakes.clipia.deliveries
    response = await deliver(app, delivery, body=delivery.body.replace(b"OK", b"ER"))
    entry = ledger.find("clipia", job.id)
    assert response.status_code == 401 and entry is not None and entry.state is LedgerState.QUEUED


async def test_a_delivery_for_an_unknown_job_is_404_so_it_comes_again(app: WebhookApp, fakes: FakeProviders) -> None:
    async with fakes.async_client(poll=POLL, retry=RETRY) as plain:  # no ledger: the ledger never saw it
        job = await plain.submit(CLIPIA)
    fakes.clipia.finish(job.id)
    assert (await deliver(app, fakes.clipia.deliveries[0])).status_code == 404


async def test_a_cliprise_callback_is_confirmed_by_a_poll_not_believed(app: WebhookApp, client: AsyncClient,
                                                                      fakes: FakeProviders, ledger: Ledger) -> None:
    job = await client.submit(CLIPRISE)
    forged = json.dumps({"taskId": job.id, "status": "success", "model": "nano-banana",
                         "fileURL": "https://evil.example/x.png"}).encode()
    url = fakes.cliprise.requests[-1].json["callBackUrl"]  # the job's own bound URL, captured
    response = await deliver(app, Delivery(url, {"Content-Type": "application/json"}, forged))
    entry = ledger.find("cliprise", job.id)
    assert response.status_code == 202
    assert entry is not None and entry.state is LedgerState.RUNNING  # what the provider said when polled
    fakes.cliprise.finish(job.id)
    [delivery] = fakes.cliprise.deliveries
    assert (await deliver(app, delivery)).status_code == 202
    done = ledger.find("cliprise", job.id)
    assert done is not None and done.state is LedgerState.SUCCEEDED and done.job is not None
    assert "evil" not in done.job.outputs[0].url


async def test_a_cliprise_callback_without_the_token_is_refused(app: WebhookApp, client: AsyncClient,
                                                               fakes: FakeProviders) -> None:
    job = await client.submit(CLIPRISE)
    fakes.cliprise.finish(job.id)
    [delivery] = fakes.cliprise.deliveries
    assert (await deliver(app, delivery, url=f"{HOOK}/cliprise?genwire_token=wrong")).status_code == 401


async def test_an_unbound_token_is_refused_for_a_cliprise_job_submitted_bound(
        app: WebhookApp, client: AsyncClient, fakes: FakeProviders, ledger: Ledger) -> None:
    job = await client.submit(CLIPRISE)
    fakes.cliprise.finish(job.id)
    [delivery] = fakes.cliprise.deliveries
    assert "genwire_ref=" in delivery.url
    unbound = f"{HOOK}/cliprise?genwire_token={TOKEN}"  # what the deprecated add_callback_token makes
    assert (await deliver(app, delivery, url=unbound)).status_code == 401
    entry = ledger.find("cliprise", job.id)
    assert entry is not None and entry.state is LedgerState.QUEUED  # nothing polled, nothing applied
    assert (await deliver(app, delivery)).status_code == 202  # on its bound URL it is confirmed


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/hooks/clipia", 405), ("POST", "/hooks/x", 404),
                                                         ("POST", "/elsewhere", 404)])
async def test_other_routes_and_methods_are_refused(app: WebhookApp, method: str, path: str, status: int) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
        assert (await http.request(method, path)).status_code == status


async def test_an_oversized_body_is_413(ledger: Ledger, client: AsyncClient) -> None:
    app = WebhookApp(ledger, secrets={"clipia": DEFAULT_WEBHOOK_SECRET}, max_body=100)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
        assert (await http.post("/clipia", content=b"x" * 101)).status_code == 413


def test_an_unsigned_provider_needs_a_client_for_its_confirming_polls(ledger: Ledger) -> None:
    with pytest.raises(ConfigurationError, match="client"):
        WebhookApp(ledger, secrets={"cliprise": TOKEN})
    with pytest.raises(ConfigurationError, match="signing secret"):
        WebhookApp(ledger, secrets={"clipia": None})


# -- over a real socket -------------------------------------------------------------------------------

@pytest.fixture
def served(app: WebhookApp) -> Iterator[str]:
    uvicorn = pytest.importorskip("uvicorn")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)
    sock.close()


async def test_deliveries_over_a_real_socket_are_applied_once(served: str, client: AsyncClient,
                                                              fakes: FakeProviders, ledger: Ledger) -> None:
    job = await client.submit(CLIPIA)
    fakes.clipia.finish(job.id)
    [delivery] = fakes.clipia.deliveries
    async with httpx.AsyncClient() as http:
        codes = [(await http.post(delivery.url.replace(HOOK, served + "/hooks"), content=delivery.body,
                                  headers=dict(delivery.headers))).status_code for _ in range(3)]
    entry = ledger.find("clipia", job.id)
    assert codes == [204, 204, 204] and entry is not None and entry.state is LedgerState.SUCCEEDED
    assert [e.state for e in ledger.events(entry.ref)].count(LedgerState.SUCCEEDED) == 1
    assert entry.job is not None and entry.job.status is JobStatus.SUCCEEDED


async def test_a_cliprise_delivery_on_another_submits_callback_url_is_refused(
        app: WebhookApp, client: AsyncClient, fakes: FakeProviders, ledger: Ledger) -> None:
    first, second = await client.submit(CLIPRISE), await client.submit(CLIPRISE)
    fakes.cliprise.finish(first.id)
    fakes.cliprise.finish(second.id)
    by_task = {json.loads(d.body)["taskId"]: d for d in fakes.cliprise.deliveries}
    swapped = Delivery(by_task[second.id].url, by_task[first.id].headers, by_task[first.id].body)
    response = await deliver(app, swapped)
    entry = ledger.find("cliprise", first.id)
    assert response.status_code == 401 and response.json() == {"error": "callback_mismatch"}
    assert entry is not None and entry.state is LedgerState.QUEUED


async def test_a_verified_callback_for_an_uncertain_submit_attaches_its_job(
        app: WebhookApp, client: AsyncClient, fakes: FakeProviders, ledger: Ledger) -> None:
    from genwire import SubmissionUncertainError

    fakes.cliprise.disconnect_next(before_send=False, path="/generate")   # the job is made, the reply lost
    with pytest.raises(SubmissionUncertainError):
        await client.submit(CLIPRISE)
    [entry] = ledger.entries(provider="cliprise")
    assert entry.state is LedgerState.UNCERTAIN and entry.provider_id is None
    [task_id] = fakes.cliprise.jobs
    fakes.cliprise.finish(task_id)
    [delivery] = fakes.cliprise.deliveries
    response = await deliver(app, delivery)
    attached = ledger.get(entry.ref)
    assert response.status_code == 202
    assert attached is not None and attached.provider_id == task_id and attached.state is LedgerState.SUCCEEDED


async def test_a_callback_for_an_uncertain_submit_is_not_attached_on_its_own_word(
        app: WebhookApp, client: AsyncClient, fakes: FakeProviders, ledger: Ledger) -> None:
    from genwire import SubmissionUncertainError

    fakes.cliprise.disconnect_next(before_send=False, path="/generate")
    with pytest.raises(SubmissionUncertainError):
        await client.submit(CLIPRISE)
    [entry] = ledger.entries(provider="cliprise")
    [task_id] = fakes.cliprise.jobs
    fakes.cliprise.finish(task_id)
    [delivery] = fakes.cliprise.deliveries
    forged = Delivery(delivery.url, delivery.headers, delivery.body.replace(task_id.encode(), b"no-such-task"))
    response = await deliver(app, forged)            # the token is right, the task is not the provider's
    after = ledger.get(entry.ref)
    assert response.status_code == 202 and after is not None and after.state is LedgerState.UNCERTAIN


# -- Replicate: Standard Webhooks, every event a whole prediction ---------------------------------------

REPLICATE = GenerationRequest(provider="replicate", model="luma-ray", input={"prompt": "a fox"},
                              webhook_url=f"{HOOK}/replicate")


@pytest.fixture
def replicate_app(ledger: Ledger, client: AsyncClient) -> WebhookApp:
    return WebhookApp(ledger, secrets={"replicate": DEFAULT_REPLICATE_SECRET}, client=client, prefix="/hooks")


async def test_every_replicate_event_is_applied_once_and_forward_only(replicate_app: WebhookApp, client: AsyncClient,
                                                                      fakes: FakeProviders, ledger: Ledger) -> None:
    job = await client.submit(REPLICATE)
    fakes.replicate.advance(job.id)
    fakes.replicate.finish(job.id)
    start, logs, output, completed = fakes.replicate.deliveries
    # the final event first, then the earlier ones late, then a repeat: none moves the job back
    answers = [(await deliver(replicate_app, d)).status_code for d in (completed, start, logs, output, completed)]
    assert answers == [204] * 5
    entry = ledger.find("replicate", job.id)
    assert entry is not None and entry.state is LedgerState.SUCCEEDED and entry.job and entry.job.outputs
    assert [(e.state.value, e.source) for e in ledger.events(entry.ref)] == [("queued", "submit"),
                                                                             ("succeeded", "webhook")]
    assert len(fakes.replicate.requests) == 1  # no confirming poll: a signed prediction says it all


async def test_replicate_events_in_order_walk_the_job_forward(replicate_app: WebhookApp, client: AsyncClient,
                                                              fakes: FakeProviders, ledger: Ledger) -> None:
    job = await client.submit(REPLICATE)
    fakes.replicate.advance(job.id)
    fakes.replicate.jobs[job.id].outcome = "fail"
    fakes.replicate.finish(job.id)
    for delivery in fakes.replicate.deliveries:
        assert (await deliver(replicate_app, delivery)).status_code == 204
    entry = ledger.find("replicate", job.id)
    assert entry is not None
    assert [e.state.value for e in ledger.events(entry.ref)] == ["queued", "running", "failed"]


async def test_a_replicate_delivery_with_a_bad_signature_is_401(replicate_app: WebhookApp, client: AsyncClient,
                                                                fakes: FakeProviders) -> None:
    await client.submit(REPLICATE)
    [start] = fakes.replicate.deliveries
    resp = await deliver(replicate_app, start, body=start.body.replace(b"starting", b"succeeded"))
    assert resp.status_code == 401 and resp.json() == {"error": "signature_mismatch"}
    stale = Delivery(start.url, {**start.headers, "webhook-timestamp": "1"}, start.body)
    assert (await deliver(replicate_app, stale)).status_code == 401
