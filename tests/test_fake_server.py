"""The fake providers on a real loopback socket: FakeServer and `genwire fake-server`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from support import TTS_YAML
from support import call as _call

from genwire import (
    AsyncClient,
    Catalog,
    Client,
    GenerationRequest,
    Job,
    JobStatus,
    NetworkError,
    SubmissionUncertainError,
)
from genwire._policy.retry import PollPolicy, RetryPolicy
from genwire.testing import FakeClipia, FakeCliprise, FakeProviders
from genwire.testing.fakes import FAKES
from genwire.testing.server import FakeServer

pytestmark = pytest.mark.anyio

POLL = PollPolicy(initial_interval=0.001, max_interval=0.002)
RETRY = RetryPolicy(initial_delay=0.001, max_delay=0.002)
REQUESTS = {
    "clipia": GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"}),
    "cliprise": GenerationRequest(provider="cliprise", model="veo-3-fast", input={"prompt": "a fox"}),
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as srv:
        yield srv


@pytest.fixture(params=["sync", "async"])
async def client(request: pytest.FixtureRequest, server: FakeServer) -> AsyncIterator[Client | AsyncClient]:
    """A real client of the parametrised kind, talking to the server over its socket (no transport)."""
    options: dict[str, Any] = {"base_urls": server.base_urls, "api_keys": server.api_keys, "poll": POLL,
                               "retry": RETRY}
    if request.param == "sync":
        with Client(**options) as sync_client:
            yield sync_client
    else:
        async with AsyncClient(**options) as async_client:
            yield async_client


@pytest.mark.parametrize("provider", ["clipia", "cliprise"])
async def test_both_fakes_run_jobs_and_serve_outputs_over_the_socket(
        client: Client | AsyncClient, server: FakeServer, provider: str) -> None:
    job: Job = await _call(client, "run", REQUESTS[provider], timeout=10)
    assert job.status is JobStatus.SUCCEEDED and job.provider == provider
    assert job.outputs[0].url.startswith(server.origin)  # even the media comes over the socket
    content = await _call(client, "download", job.outputs[0])
    assert content[:4] in (b"\x89PNG", b"\x00\x00\x00\x18", b"\x00\x00\x00\x14") or len(content) > 16
    assert server.stats()[provider] == {"submits": 1, "jobs": 1, "charged": 1, "unfinished": 0,
                                        "requests": server.fakes.fakes[provider].stats()["requests"]}


async def test_a_lost_reply_is_counted_as_a_charged_job(client: Client | AsyncClient, server: FakeServer) -> None:
    server.fakes.cliprise.disconnect_next(before_send=False, path="/generate")
    with pytest.raises(SubmissionUncertainError):
        await _call(client, "submit", REQUESTS["cliprise"])
    stats = server.stats()["cliprise"]
    assert (stats["submits"], stats["charged"]) == (1, 1)  # the job exists although the client got no reply


async def test_a_retried_clipia_submit_creates_one_charged_job(client: Client | AsyncClient,
                                                               server: FakeServer) -> None:
    server.fakes.clipia.disconnect_next(before_send=False, path="/v1/models")
    job: Job = await _call(client, "submit", REQUESTS["clipia"])
    stats = server.stats()["clipia"]
    assert (stats["submits"], stats["jobs"], stats["charged"]) == (2, 1, 1)
    assert job.id in server.fakes.clipia.jobs


def test_admin_endpoints_script_and_finish_jobs_over_http(server: FakeServer) -> None:
    with Client(base_urls=server.base_urls, api_keys=server.api_keys, poll=POLL, retry=RETRY) as client, \
            httpx.Client(base_url=server.origin) as admin:
        job = client.submit(REQUESTS["cliprise"])
        assert admin.get("/_fake/stats").json()["cliprise"]["unfinished"] == 1
        finished = admin.post("/_fake/finish", json={"provider": "cliprise", "job": job.id})
        assert finished.status_code == 200 and finished.json()["cliprise"]["unfinished"] == 0
        assert client.status(job).status is JobStatus.SUCCEEDED
        second = client.submit(REQUESTS["clipia"])
        assert admin.post("/_fake/advance", json={"provider": "clipia", "job": second.id}).status_code == 200
        assert server.fakes.clipia.jobs[second.id].status is JobStatus.RUNNING
        assert admin.post("/_fake/disconnect_next", json={"provider": "clipia", "times": 3}).status_code == 200
        with pytest.raises(NetworkError):
            client.status(second)  # each attempt's connection is closed without a reply
        assert admin.post("/_fake/fail_next", json={"provider": "clipia", "status": 503}).status_code == 200
        assert admin.post("/_fake/script_outcome", json={"provider": "clipia", "outcome": "fail"}).status_code == 200
        assert server.fakes.clipia.stats()["jobs"] == 1
        refused = admin.post("/_fake/finish", json={"provider": "nope"})
        assert refused.status_code == 400 and "'provider' must be one of" in refused.json()["error"]
        assert admin.post("/_fake/finish", json={"provider": "cliprise", "job": "missing"}).status_code == 400
        assert admin.get("/_fake/nothing").status_code == 404


def test_the_fakes_follow_an_overlay_catalog(tmp_path: Any) -> None:
    (tmp_path / "clipia").mkdir()
    (tmp_path / "clipia" / "fake-tts.yaml").write_text(TTS_YAML)
    overlay = Catalog.load(tmp_path)
    request = GenerationRequest(provider="clipia", model="fake-tts", input={"prompt": "hello"})
    with FakeProviders(catalog=overlay).client(poll=POLL) as client:  # the client gets the fakes' catalog
        assert client.run(request, timeout=5).outputs[0].kind == "audio"
    with FakeProviders().client(catalog=overlay, poll=POLL) as client:  # the fakes get the client's catalog
        assert client.run(request, timeout=5).status is JobStatus.SUCCEEDED
    with FakeServer(catalog=overlay) as srv, \
            Client(base_urls=srv.base_urls, api_keys=srv.api_keys, catalog=overlay, poll=POLL) as client:
        assert client.run(request, timeout=5).status is JobStatus.SUCCEEDED


def test_custom_fakes_are_served_with_their_settings() -> None:
    fakes = FakeProviders(FakeClipia(steps=0), FakeCliprise(keys=("k1", "k2")))
    with FakeServer(fakes) as srv, \
            Client(base_urls=srv.base_urls, api_keys={**srv.api_keys, "cliprise": "k2"}) as client:
        assert srv.api_keys["cliprise"] == "k1"
        assert client.submit(REQUESTS["cliprise"]).id in fakes.cliprise.jobs
        assert client.submit(REQUESTS["clipia"]).status is JobStatus.SUCCEEDED  # steps=0: done at once


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_the_command_announces_logs_without_keys_and_stops_on_a_signal(sig: signal.Signals) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "genwire", "fake-server", "--steps", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert set(first) == {"base_urls", "api_keys", "webhook_secrets"} and set(first["base_urls"]) == set(FAKES)
        keys = first["api_keys"]
        with Client(base_urls=first["base_urls"], api_keys=keys, poll=POLL) as client:
            job = client.run(REQUESTS["cliprise"], timeout=10)
        assert job.status is JobStatus.SUCCEEDED
        lines = [proc.stdout.readline() for _ in range(2)]  # the submit and the one poll
        assert lines[0].startswith("POST /cliprise/generate -> 200")
        assert lines[1].startswith("GET /cliprise/status?taskId=") and "-> 200" in lines[1]
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill() if proc.poll() is None else None
    assert proc.returncode == 0 and err == ""
    assert all(key not in "".join(lines) + out for key in keys.values())


def test_the_command_refuses_a_port_it_cannot_bind(server: FakeServer) -> None:
    result = subprocess.run([sys.executable, "-m", "genwire", "fake-server", "--port", str(server.port)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and result.stderr.startswith("genwire: cannot listen on 127.0.0.1:")
    assert len(result.stderr.splitlines()) == 1


def test_the_json_log_has_one_object_per_request() -> None:
    lines: list[str] = []
    with FakeServer(log=lines.append, json_log=True) as srv, \
            Client(base_urls=srv.base_urls, api_keys=srv.api_keys, poll=POLL) as client:
        job = client.submit(REQUESTS["cliprise"])
        client.status(job)
    records = [json.loads(line) for line in lines]
    assert [(r["method"], r["status"]) for r in records] == [("POST", 200), ("GET", 200)]
    assert records[1]["path"] == f"/cliprise/status?taskId={job.id}"


def test_requests_do_not_stall_on_delayed_acks(server: FakeServer) -> None:
    # with Nagle's algorithm on, each reply (headers, then body) waited ~40 ms for a delayed ACK
    with Client(base_urls=server.base_urls, api_keys=server.api_keys) as client:
        client.balance("clipia")
        started = time.perf_counter()
        for _ in range(40):
            client.balance("clipia")
        assert time.perf_counter() - started < 1.2  # 40 stalls alone would take 1.6 s
