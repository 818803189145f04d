"""The fake server calls back: real signed (Clipia) and token-bound (Cliprise) deliveries, retried
on non-2xx, readable over HTTP; and its admin endpoints refuse a wrong body with a clear message."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from genwire import AsyncClient, Client, GenerationRequest, JobStatus
from genwire._stdwebhooks import verify_standard_webhook
from genwire.asgi import WebhookApp
from genwire.ledger import LedgerState, open_ledger
from genwire.testing import DEFAULT_WEBHOOK_SECRET, FakeServer
from genwire.webhooks import parse_webhook

TOKEN = "callback-token-0123456789abcdef"


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answers: list[int]) -> None:
        self.answers = answers
        self.got: list[tuple[str, dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.got.append((self.path, dict(self.headers.items()), body))
        status = self.server.answers.pop(0) if self.server.answers else 204
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver([500, 503])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_signed_clipia_delivery_is_posted_and_retried_until_2xx(receiver: _Receiver) -> None:
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hooks/clipia"
    with FakeServer() as srv, srv.client() as client:
        job = client.submit(GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"},
                                              webhook_url=hook))
        srv.fakes.clipia.finish(job.id)
        assert srv.settle_deliveries(10)
        [record] = srv.deliveries("clipia")
        over_http = httpx.get(f"{srv.origin}/_fake/deliveries", params={"provider": "clipia"}).json()
    assert [a["status"] for a in record["attempts"]] == [500, 503, 204] and record["state"] == "delivered"
    assert over_http == [record]
    path, headers, body = receiver.got[-1]
    assert path == "/hooks/clipia" and len(receiver.got) == 3
    verified = parse_webhook("clipia", headers, body, secret=srv.webhook_secrets["clipia"])
    assert (verified.id, verified.status) == (job.id, JobStatus.SUCCEEDED)
    assert srv.webhook_secrets["clipia"] == DEFAULT_WEBHOOK_SECRET and "cliprise" not in srv.webhook_secrets


def test_a_third_providers_fake_plugs_into_the_same_callbacks(receiver: _Receiver) -> None:
    receiver.answers[:] = []
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hooks/replicate"
    with FakeServer() as srv, srv.client() as client:
        job = client.submit(GenerationRequest(provider="replicate", model="flux-pro", input={"prompt": "a fox"},
                                              webhook_url=hook))
        srv.fakes.fakes["replicate"].finish(job.id)
        assert srv.settle_deliveries(10)
        records = srv.deliveries("replicate")
    assert records and all(r["state"] == "delivered" for r in records)
    _, headers, body = receiver.got[-1]
    verify_standard_webhook(headers, body, srv.webhook_secrets["replicate"])   # signed as Replicate signs
    assert json.loads(body)["id"] == job.id


def test_a_delivery_that_is_never_accepted_fails_after_the_providers_attempts(receiver: _Receiver) -> None:
    receiver.answers[:] = [500] * 10
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/cb"
    with FakeServer(callback_retry_delay=0.001) as srv, srv.client(callback_token=TOKEN) as client:
        job = client.submit(GenerationRequest(provider="cliprise", model="nano-banana", input={"prompt": "a fox"},
                                              webhook_url=hook))
        srv.fakes.cliprise.finish(job.id)
        assert srv.settle_deliveries(10)
        [record] = srv.deliveries()
    # Cliprise: the first attempt and up to 3 retries
    assert record["state"] == "failed" and [a["status"] for a in record["attempts"]] == [500] * 4
    assert "genwire_token=" in record["url"]      # the client's token-bound callback URL, as sent


def test_a_delivery_to_a_host_that_is_not_loopback_is_recorded_not_sent() -> None:
    with FakeServer() as srv, srv.client() as client:
        job = client.submit(GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"},
                                              webhook_url="https://gateway.example.com/hooks/clipia"))
        srv.fakes.clipia.finish(job.id)
        [record] = srv.deliveries()
    assert record["state"] == "skipped" and "loopback" in record["reason"] and record["attempts"] == []


@pytest.fixture(scope="module")
def shared() -> Iterator[FakeServer]:
    with FakeServer() as srv:
        yield srv


@pytest.mark.parametrize(("path", "body", "says"), [
    ("fail_next", {"provider": "clipia"}, "missing 'status' (an integer)"),
    ("fail_next", {"provider": "clipia", "status": "503"}, "'status' must be an integer, not \"503\""),
    ("script_outcome", {"provider": "clipia", "outcome": "fail", "mesage": "x"}, "unknown field 'mesage'"),
    ("finish", {"provider": "clippia"}, "'provider' must be one of clipia, cliprise"),
    ("finish", {}, "missing 'provider' (a string)"),
    ("finish", [1], "the body must be a JSON object, not list"),
    ("finish", {"provider": "clipia", "job": "nope"}, "has no job 'nope'"),
    ("script_outcome", {"provider": "clipia", "outcome": "explode"}, "outcome is 'succeed', 'fail' or 'cancel'"),
])
def test_a_wrong_admin_body_is_answered_with_what_is_wrong(shared: FakeServer, path: str, body: Any,
                                                           says: str) -> None:
    answer = httpx.post(f"{shared.origin}/_fake/{path}", json=body)
    assert answer.status_code == 400 and says in answer.json()["error"], answer.text


def _closing(app: WebhookApp, client: AsyncClient) -> Any:
    """``app``, closing ``client`` on its own loop when the server shuts down."""
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def receiving() -> Any:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await client.aclose()
            return message

        await app(scope, receiving if scope["type"] == "lifespan" else receive, send)

    return wrapped


def _uvicorn(app: Any) -> Iterator[str]:
    uvicorn = pytest.importorskip("uvicorn")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_fake_server_command_calls_a_webhook_app_under_uvicorn_which_fills_the_ledger(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "genwire", "fake-server", "--steps", "50"],
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        admin = first["base_urls"]["clipia"].rsplit("/", 1)[0] + "/_fake"
        ledger = open_ledger(f"sqlite:///{tmp_path}/jobs.db")
        confirmer = AsyncClient(base_urls=first["base_urls"], api_keys=first["api_keys"])
        app = WebhookApp(ledger, secrets={"clipia": first["webhook_secrets"]["clipia"], "cliprise": TOKEN},
                         client=confirmer, prefix="/hooks")
        served = _uvicorn(_closing(app, confirmer))
        hooks = next(served)
        try:
            with Client(base_urls=first["base_urls"], api_keys=first["api_keys"], ledger=ledger,
                        callback_token=TOKEN) as client:
                jobs = [client.submit(GenerationRequest(provider=p, model=m, input={"prompt": "a fox"},
                                                        webhook_url=f"{hooks}/hooks/{p}"))
                        for p, m in (("clipia", "nano-banana-2"), ("cliprise", "nano-banana"))]
            for provider in ("clipia", "cliprise"):
                assert httpx.post(f"{admin}/finish", json={"provider": provider}).status_code == 200
            deadline = time.monotonic() + 15
            states: list[LedgerState | None] = []
            while time.monotonic() < deadline:
                entries = [ledger.find(j.provider, j.id) for j in jobs]
                states = [e.state if e is not None else None for e in entries]
                if states == [LedgerState.SUCCEEDED] * 2:
                    break
                time.sleep(0.05)
            deliveries = httpx.get(f"{admin}/deliveries").json()
        finally:
            for _ in served:
                pass
            ledger.close()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert states == [LedgerState.SUCCEEDED] * 2, deliveries
    assert sorted((d["provider"], d["state"], d["attempts"][-1]["status"]) for d in deliveries) == [
        ("clipia", "delivered", 204), ("cliprise", "delivered", 202)]
