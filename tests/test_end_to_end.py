"""A real Client and AsyncClient against the fake providers: one parametrised test per behaviour."""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from support import TTS_YAML

from genwire import (
    Catalog,
    GenerationRequest,
    GenwireError,
    InvalidInputError,
    Job,
    JobFailedError,
    JobStatus,
    SubmissionUncertainError,
    WaitTimeoutError,
)
from genwire._policy.retry import PollPolicy, RetryPolicy
from genwire.adapters import get_adapter
from genwire.client import AsyncClient, Client
from genwire.models import Media
from genwire.testing import FakeClipia, FakeCliprise, FakeProviders
from genwire.webhooks import parse_webhook

pytestmark = pytest.mark.anyio

POLL = PollPolicy(initial_interval=0.001, max_interval=0.002)
RETRY = RetryPolicy(initial_delay=0.001, max_delay=0.002)
SECRET_KEY = "cliprise_SECRET_0123456789abcdef"
# an optional single-image parameter (list unwrapped to its first item), as on Cliprise's runway page
I2V_YAML = """\
id: fake-i2v
name: Fake I2V
kind: video
output: {kind: video, formats: [mp4]}
tasks:
  image-to-video:
    description: Animate an optional start image.
    params:
      prompt: {type: string, required: true, description: Text prompt.}
      image_urls:
        wire: imageUrl
        type: array
        items: {type: url}
        max_items: 1
        transform: first
        description: The start image (optional).
"""
# a Clipia model whose wire slug is not its catalog id
ALIAS_YAML = """\
id: fake-alias
name: Fake Alias
kind: image
output: {kind: image, formats: [png]}
tasks:
  text-to-image:
    model: fake-alias-v2
    description: Generate an image.
    params:
      prompt: {type: string, required: true, description: Text prompt.}
"""

IMAGE = {"clipia": GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"}),
         "cliprise": GenerationRequest(provider="cliprise", model="nano-banana", task="text-to-image",
                                       input={"prompt": "a fox"})}
#: the endpoint path (below the base URL) each provider's submit and poll use
SUBMIT_PATH = {"clipia": "/v1/models", "cliprise": "/generate"}
POLL_PATH = {"clipia": "/v1/requests", "cliprise": "/status"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The bundled catalog plus a Clipia audio model (the bundled one has none), a Clipia model
    whose slug differs from its id, and a Cliprise model with an optional single image."""
    root = tmp_path_factory.mktemp("catalog")
    (root / "clipia").mkdir()
    (root / "clipia" / "fake-tts.yaml").write_text(TTS_YAML)
    (root / "clipia" / "fake-alias.yaml").write_text(ALIAS_YAML)
    (root / "cliprise").mkdir()
    (root / "cliprise" / "fake-i2v.yaml").write_text(I2V_YAML)
    return Catalog.load(root)


@pytest.fixture
def fakes(catalog: Catalog) -> FakeProviders:
    return FakeProviders(FakeClipia(catalog), FakeCliprise(catalog))


class Driver:
    """The same calls on a sync or an async client, awaited either way."""

    def __init__(self, client: Client | AsyncClient) -> None:
        self.client = client

    async def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, name)(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    async def run(self, request: GenerationRequest, **kwargs: Any) -> Job:
        job: Job = await self.call("run", request, **kwargs)
        return job

    async def submit(self, request: GenerationRequest) -> Job:
        job: Job = await self.call("submit", request)
        return job

    async def wait(self, job: Job, **kwargs: Any) -> Job:
        done: Job = await self.call("wait", job, **kwargs)
        return done

    async def download(self, media: Media) -> bytes:
        content: bytes = await self.call("download", media)
        return content


MakeDriver = Callable[..., Driver]


@pytest.fixture(params=["sync", "async"])
async def make(request: pytest.FixtureRequest, fakes: FakeProviders, catalog: Catalog) -> AsyncIterator[MakeDriver]:
    """Build a driver for the parametrised client kind; extra keyword arguments go to the client."""
    made: list[Client | AsyncClient] = []

    def build(fake: FakeProviders | None = None, **kwargs: Any) -> Driver:
        target = fake or fakes
        options = {"poll": POLL, "retry": RETRY, "catalog": catalog, **kwargs}
        client = target.client(**options) if request.param == "sync" else target.async_client(**options)
        made.append(client)
        return Driver(client)

    yield build
    for client in made:
        if isinstance(client, AsyncClient):
            await client.aclose()
        else:
            client.close()


# -- happy paths --------------------------------------------------------------------------------

RUNS = [
    ("clipia", "nano-banana-2", "text-to-image", "image"),
    ("clipia", "seedance-2-fast-t2v", "text-to-video", "video"),
    ("clipia", "fake-tts", "text-to-speech", "audio"),
    ("cliprise", "nano-banana", "text-to-image", "image"),
    ("cliprise", "veo-3-fast", "text-to-video", "video"),
    ("cliprise", "elevenlabs-v3-dialogue", "dialogue", "audio"),
]


@pytest.mark.parametrize(("provider", "model", "task", "kind"), RUNS)
async def test_run_returns_a_succeeded_job_with_an_output_of_the_model_kind(
        make: MakeDriver, catalog: Catalog, provider: str, model: str, task: str, kind: str) -> None:
    value = catalog.input_schema(provider, model, task).get("examples", [{"prompt": "hello"}])[0]
    job = await make().run(GenerationRequest(provider=provider, model=model, task=task, input=value))
    assert (job.status, job.model, job.provider) == (JobStatus.SUCCEEDED, model, provider)
    assert [m.kind for m in job.outputs] == [kind]


@pytest.mark.parametrize("provider", ["clipia", "cliprise"])
async def test_download_fetches_the_output_bytes(make: MakeDriver, provider: str) -> None:
    driver = make()
    job = await driver.run(IMAGE[provider])
    assert (await driver.download(job.outputs[0])).startswith(b"\x89PNG")


async def test_clipia_media_is_downloaded_from_the_cdn_without_credentials(
        make: MakeDriver, fakes: FakeProviders) -> None:
    driver = make()
    job = await driver.run(IMAGE["clipia"])
    await driver.download(job.outputs[0])
    (fetch,) = [r for r in fakes.clipia.requests if r.url.startswith("https://media.clipia.ai/")]
    assert "authorization" not in fetch.headers


async def test_family_request_runs_on_a_provider_of_the_family(make: MakeDriver, catalog: Catalog) -> None:
    job = await make().run(GenerationRequest(family="nano-banana-2", task="text-to-image", input={"prompt": "a fox"}))
    members = {(s.provider, s.id) for s in catalog.families()["nano-banana-2"]}
    assert job.status is JobStatus.SUCCEEDED and (job.provider, job.model) in members


async def test_clipia_sandbox_key_runs_without_charging(make: MakeDriver, catalog: Catalog) -> None:
    fakes = FakeProviders(FakeClipia(catalog, keys=("clipia_test_fake",)), FakeCliprise(catalog))
    job = await make(fakes).run(IMAGE["clipia"])
    assert job.outputs[0].url == "https://media.clipia.ai/sandbox/sample.png"
    assert fakes.clipia.balance == 10_000


async def test_clipia_balance_and_estimate_come_from_the_account(make: MakeDriver) -> None:
    driver = make()
    await driver.run(IMAGE["clipia"])
    assert await driver.call("balance", "clipia") == 10_000 - 12
    assert (await driver.call("estimate", IMAGE["clipia"])).credits == 12


async def test_an_empty_single_image_list_is_refused_before_the_network(
        make: MakeDriver, fakes: FakeProviders) -> None:
    request = GenerationRequest(provider="cliprise", model="fake-i2v", input={"prompt": "x", "image_urls": []})
    with pytest.raises(InvalidInputError) as info:
        await make().submit(request)
    assert [v.path for v in info.value.violations] == ["$.image_urls"]
    assert fakes.cliprise.requests == []


# -- retries ------------------------------------------------------------------------------------

def submits(fake: FakeClipia | FakeCliprise) -> list[Any]:
    return [r for r in fake.requests if r.method == "POST"]


async def test_clipia_submit_is_retried_after_a_503_with_the_same_idempotency_key(
        make: MakeDriver, fakes: FakeProviders) -> None:
    fakes.clipia.fail_next(503, path="/v1/models")
    await make().submit(IMAGE["clipia"])
    keys = {r.headers["idempotency-key"] for r in submits(fakes.clipia)}
    assert (len(submits(fakes.clipia)), len(keys), len(fakes.clipia.jobs)) == (2, 1, 1)


@pytest.mark.parametrize("before_send", [True, False], ids=["connect-error", "read-timeout"])
async def test_clipia_submit_is_retried_after_a_network_error_creating_one_job(
        make: MakeDriver, fakes: FakeProviders, before_send: bool) -> None:
    fakes.clipia.disconnect_next(before_send=before_send, path="/v1/models")
    job = await make().submit(IMAGE["clipia"])
    keys = {r.headers["idempotency-key"] for r in submits(fakes.clipia)}
    assert (len(submits(fakes.clipia)), len(keys)) == (2, 1)
    assert list(fakes.clipia.jobs) == [job.id]


async def test_a_caller_chosen_idempotency_key_returns_the_same_clipia_job(
        make: MakeDriver, fakes: FakeProviders) -> None:
    driver = make()
    request = IMAGE["clipia"].model_copy(update={"idempotency_key": "order-42"})
    first, again = await driver.submit(request), await driver.submit(request)
    assert first.id == again.id and list(fakes.clipia.jobs) == [first.id]


async def test_cliprise_generate_is_not_resent_after_a_read_timeout(make: MakeDriver, fakes: FakeProviders) -> None:
    fakes.cliprise.disconnect_next(before_send=False, path="/generate")
    with pytest.raises(SubmissionUncertainError):
        await make().submit(IMAGE["cliprise"])
    assert (len(submits(fakes.cliprise)), len(fakes.cliprise.jobs)) == (1, 1)


async def test_cliprise_generate_is_not_resent_after_a_503(make: MakeDriver, fakes: FakeProviders) -> None:
    fakes.cliprise.fail_next(503, path="/generate")
    with pytest.raises(GenwireError) as info:
        await make().submit(IMAGE["cliprise"])
    assert info.value.status == 503 and not info.value.retryable
    assert len(submits(fakes.cliprise)) == 1


async def test_cliprise_generate_is_retried_after_a_connect_error(make: MakeDriver, fakes: FakeProviders) -> None:
    fakes.cliprise.disconnect_next(before_send=True, path="/generate")
    job = await make().submit(IMAGE["cliprise"])
    assert len(submits(fakes.cliprise)) == 2
    assert list(fakes.cliprise.jobs) == [job.id]


@pytest.mark.parametrize("provider", ["clipia", "cliprise"])
async def test_a_429_retry_after_is_waited_out(make: MakeDriver, fakes: FakeProviders, provider: str) -> None:
    fakes.fakes[provider].fail_next(429, retry_after=0.2, path=SUBMIT_PATH[provider])
    started = time.monotonic()
    job = await make().submit(IMAGE[provider])
    assert time.monotonic() - started >= 0.2  # the computed backoff is capped at 2 ms
    assert job.id in fakes.fakes[provider].jobs


@pytest.mark.parametrize("provider", ["clipia", "cliprise"])
async def test_polling_survives_two_consecutive_500s(make: MakeDriver, fakes: FakeProviders, provider: str) -> None:
    fakes.fakes[provider].fail_next(500, times=2, path=POLL_PATH[provider])
    job = await make().run(IMAGE[provider])
    assert job.status is JobStatus.SUCCEEDED


# -- failures carry the job ------------------------------------------------------------------------

@pytest.mark.parametrize("provider", ["clipia", "cliprise"])
async def test_a_failed_job_raises_job_failed_error_carrying_the_job(
        make: MakeDriver, fakes: FakeProviders, provider: str) -> None:
    fakes.fakes[provider].script_outcome("fail", message="content policy")
    with pytest.raises(JobFailedError) as info:
        await make().run(IMAGE[provider])
    job = info.value.job
    assert job is not None and job.id in fakes.fakes[provider].jobs
    assert job.status is JobStatus.FAILED and job.error is not None and job.error.message == "content policy"


async def test_a_canceled_clipia_job_raises_job_failed_error(make: MakeDriver, fakes: FakeProviders) -> None:
    fakes.clipia.script_outcome("cancel")
    with pytest.raises(JobFailedError) as info:
        await make().run(IMAGE["clipia"])
    assert info.value.job is not None and info.value.job.status is JobStatus.CANCELED


@pytest.mark.parametrize("provider", ["clipia", "cliprise"])
async def test_wait_timeout_raises_carrying_the_job(make: MakeDriver, catalog: Catalog, provider: str) -> None:
    slow = FakeProviders(FakeClipia(catalog, steps=10**6), FakeCliprise(catalog, steps=10**6))
    driver = make(slow)
    job = await driver.submit(IMAGE[provider])
    with pytest.raises(WaitTimeoutError) as info:
        await driver.wait(job, timeout=0.02)
    assert info.value.job is not None and info.value.job.id == job.id


# -- webhooks ----------------------------------------------------------------------------------

@pytest.mark.parametrize("provider", ["clipia", "cliprise"])
async def test_the_webhook_delivery_parses_into_the_job_polling_produced(
        make: MakeDriver, fakes: FakeProviders, provider: str) -> None:
    driver = make(callback_token=True)
    request = IMAGE[provider].model_copy(update={"webhook_url": "https://hooks.example/genwire"})
    polled = await driver.run(request)
    (delivery,) = fakes.fakes[provider].deliveries
    secret = fakes.clipia.webhook_secret if provider == "clipia" else driver.client.callback_token
    hooked = parse_webhook(provider, delivery.headers, delivery.body, secret=secret, url=delivery.url)
    # the task is not in the deliveries, so a model with several tasks leaves it open
    assert (hooked.id, hooked.status, hooked.model) == (polled.id, polled.status, polled.model)
    assert hooked.outputs == polled.outputs


async def test_a_clipia_delivery_names_the_catalog_model_like_polling_does(
        make: MakeDriver, fakes: FakeProviders, catalog: Catalog) -> None:
    request = GenerationRequest(provider="clipia", model="fake-alias", input={"prompt": "x"},
                                webhook_url="https://hooks.example/genwire")
    polled = await make().run(request)
    (delivery,) = fakes.clipia.deliveries
    hooked = get_adapter("clipia", catalog).parse_webhook(delivery.json(), dict(delivery.headers))
    assert (delivery.json()["model"], hooked.model) == ("fake-alias-v2", polled.model)


# -- the Cliprise key never leaks ---------------------------------------------------------------------

async def test_the_cliprise_key_appears_in_no_job_error_or_log(
        make: MakeDriver, catalog: Catalog, caplog: pytest.LogCaptureFixture) -> None:
    fakes = FakeProviders(FakeClipia(catalog), FakeCliprise(catalog, keys=(SECRET_KEY,)))
    driver = make(fakes)
    seen: list[str] = []
    caplog.set_level(logging.DEBUG)
    job = await driver.run(IMAGE["cliprise"].model_copy(update={"webhook_url": "https://hooks.example/r"}))
    await driver.download(job.outputs[0])
    seen += [job.model_dump_json(), repr(job), str(job)]
    hooked = parse_webhook("cliprise", fakes.cliprise.deliveries[0].headers, fakes.cliprise.deliveries[0].body,
                           secret=None)
    seen += [hooked.model_dump_json(), repr(hooked)]
    fakes.cliprise.script_outcome("fail", message="boom")
    with pytest.raises(JobFailedError) as failed:
        await driver.run(IMAGE["cliprise"])
    fakes.cliprise.fail_next(500, times=50, path="/status")
    with pytest.raises(GenwireError) as poll_failed:
        await driver.call("status", job.model_copy(update={"status": JobStatus.RUNNING}))
    for err in (failed.value, poll_failed.value):
        seen += [str(err), repr(err), err.job.model_dump_json() if err.job else "", err.body or ""]
    seen += [r.getMessage() for r in caplog.records] + [repr(r.args) for r in caplog.records]
    assert any("cliprise" in line for line in seen if "HTTP Request" in line)  # httpx did log the calls
    assert not [line for line in seen if SECRET_KEY in line]
