"""Cancel as one normalized operation and sync waits (``Prefer: wait``), on both drivers, with and
without a ledger, against the fake Replicate; providers without cancel refuse before sending."""

from __future__ import annotations

import io
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from support import call, close

from genwire import AsyncClient, Client, JobStatus, UnsupportedOperationError, WaitTimeoutError
from genwire._policy.retry import PollPolicy
from genwire.cli import main
from genwire.ledger import LedgerState, open_ledger
from genwire.testing import FakeProviders, FakeReplicate
from genwire.testing.server import FakeServer

POLL = PollPolicy(initial_interval=0.01, max_interval=0.01)
FLUX = {"prompt": "a fox"}
MODES = ["sync", "async"]


@asynccontextmanager
async def _client(fakes: FakeProviders, mode: str, **kwargs: object) -> AsyncIterator[Callable[..., object]]:
    client: Client | AsyncClient = (fakes.client if mode == "sync" else fakes.async_client)(poll=POLL, **kwargs)
    try:
        yield lambda name, *args, **kw: call(client, name, *args, **kw)
    finally:
        await close(client)


def _creates(fake: FakeReplicate) -> list[str | None]:
    return [r.headers.get("prefer") for r in fake.requests if r.method == "POST" and r.path.endswith("predictions")]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_run_holds_the_create_open_and_needs_no_poll_when_the_job_ends_within(mode: str) -> None:
    fakes = FakeProviders()
    async with _client(fakes, mode) as do:
        job = await do("run", "replicate/flux-pro", input=FLUX, timeout=30)
    assert job.status is JobStatus.SUCCEEDED and job.outputs
    assert _creates(fakes.replicate) == ["wait=28"]  # the run's 30 s less the reply's way back
    assert len(fakes.replicate.requests) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_the_hold_never_exceeds_the_providers_limit_or_the_read_timeout(mode: str) -> None:
    fakes = FakeProviders()
    for read_timeout in (120, 60, 10):
        async with _client(fakes, mode, timeout=read_timeout) as do:
            await do("run", "replicate/flux-pro", input=FLUX, timeout=600)
    assert _creates(fakes.replicate) == ["wait=60", "wait=58", "wait=8"]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_an_unfinished_held_reply_falls_back_to_polling(mode: str) -> None:
    fakes = FakeProviders(FakeReplicate(sync_finishes=False))
    async with _client(fakes, mode) as do:
        job = await do("run", "replicate/luma-ray", input=FLUX, timeout=30)
    assert job.status is JobStatus.SUCCEEDED
    assert [r.method for r in fakes.replicate.requests] == ["POST", "GET", "GET"]
    assert job.metrics is not None and job.metrics.predict_time is not None and job.metrics.total_time is not None


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_a_deadline_too_short_to_hold_polls_without_the_header(mode: str) -> None:
    fakes = FakeProviders()
    async with _client(fakes, mode) as do:
        await do("run", "replicate/flux-pro", input=FLUX, timeout=2.5)
    assert _creates(fakes.replicate) == [None]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_providers_without_a_sync_mode_are_never_asked_to_hold(mode: str) -> None:
    fakes = FakeProviders()
    async with _client(fakes, mode) as do:
        await do("run", "clipia/nano-banana-2", input=FLUX, timeout=30)
    assert all("prefer" not in r.headers for r in fakes.clipia.requests)


@pytest.mark.slow
def test_a_held_create_and_the_polls_after_it_keep_the_wait_deadline() -> None:
    fake = FakeReplicate(sync_finishes=False, steps=10_000)

    def held(request: httpx.Request) -> httpx.Response:
        prefer = request.headers.get("prefer")
        if prefer is not None:
            time.sleep(int(prefer.partition("=")[2]))  # the provider holds the create that long
        return fake(request)

    with Client(api_keys={"replicate": fake.keys[0]}, transport=httpx.MockTransport(held), poll=POLL) as client:
        started = time.monotonic()
        with pytest.raises(WaitTimeoutError) as info:
            client.run("replicate/luma-ray", input=FLUX, timeout=3.5)
        took = time.monotonic() - started
    assert _creates(fake) == ["wait=1"] and info.value.job is not None
    assert 3.5 <= took <= 3.75


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_cancel_ends_a_running_job_and_reports_it_canceled(mode: str) -> None:
    fakes = FakeProviders()
    async with _client(fakes, mode) as do:
        job = await do("submit", "replicate/luma-ray", input=FLUX)
        canceled = await do("cancel", job)
        again = await do("cancel", canceled)
        by_id = await do("cancel", "replicate", job.id)
    assert canceled.status is JobStatus.CANCELED and canceled.error is not None and again == canceled
    assert (by_id.model, by_id.status) == ("luma-ray", JobStatus.CANCELED)
    assert fakes.replicate.cancels == 2  # a job known to have ended is not canceled again


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("target", ["clipia/nano-banana-2", "cliprise/veo-3-fast"])
async def test_a_provider_without_cancel_refuses_before_sending(mode: str, target: str) -> None:
    fakes = FakeProviders()
    provider = target.partition("/")[0]
    async with _client(fakes, mode) as do:
        job = await do("submit", target, input=FLUX)
        sent = len(fakes.fakes[provider].requests)
        with pytest.raises(UnsupportedOperationError) as info:
            await do("cancel", job)
    assert info.value.provider == provider and info.value.job == job
    assert len(fakes.fakes[provider].requests) == sent


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_the_ledger_records_a_cancel_and_a_sync_run(mode: str, tmp_path: Path) -> None:
    fakes = FakeProviders()
    with open_ledger(f"sqlite:///{tmp_path}/jobs.db") as ledger:
        async with _client(fakes, mode, ledger=ledger) as do:
            ran = await do("run", "replicate/musicgen", input={"prompt": "jazz"}, timeout=30)
            job = await do("submit", "replicate/luma-ray", input=FLUX)
            await do("cancel", job)
        states = {e.provider_id: e.state for e in ledger.entries()}
        assert states == {ran.id: LedgerState.SUCCEEDED, job.id: LedgerState.CANCELED}
        assert [e.source for e in ledger.events(next(e.ref for e in ledger.entries() if e.provider_id == job.id))
                if e.state is LedgerState.CANCELED] == ["cancel"]


def test_the_cancel_command_cancels_over_the_fake_server(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeServer() as srv:
        monkeypatch.setenv("GENWIRE_BASE_URL_REPLICATE", srv.base_urls["replicate"])
        monkeypatch.setenv("REPLICATE_API_TOKEN", srv.api_keys["replicate"])
        with Client(api_keys=srv.api_keys, base_urls=srv.base_urls) as client:
            job = client.submit("replicate/luma-ray", input=FLUX)
        out = io.StringIO()
        assert main(["cancel", "replicate", job.id, "--json"], out) == 0
        assert json.loads(out.getvalue())["status"] == "canceled"
        monkeypatch.setenv("CLIPIA_KEY", srv.api_keys["clipia"])
        assert main(["cancel", "clipia", "some-id"], io.StringIO()) == 1
