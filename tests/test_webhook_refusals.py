"""The webhook receiver logs every refusal with a reason, and never a secret."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from genwire import GenerationRequest
from genwire.asgi import WebhookApp
from genwire.ledger import open_ledger
from genwire.testing import DEFAULT_WEBHOOK_SECRET, FakeProviders

pytestmark = pytest.mark.anyio
TOKEN = "callback-token-0123456789abcdef"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_every_refusal_is_logged_with_its_reason_and_no_secret(tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    fakes = FakeProviders()
    ledger = open_ledger(f"sqlite:///{tmp_path}/jobs.db")
    async with fakes.async_client(ledger=ledger, callback_token=TOKEN) as client:
        job = await client.submit(GenerationRequest(provider="clipia", model="nano-banana-2",
                                                    input={"prompt": "a fox"}, webhook_url="https://gw/hooks/clipia"))
        fakes.clipia.finish(job.id)
        [delivery] = fakes.clipia.deliveries
        app = WebhookApp(ledger, secrets={"clipia": DEFAULT_WEBHOOK_SECRET, "cliprise": TOKEN}, client=client,
                         prefix="/hooks")
        stranger = FakeProviders()                 # a job this ledger never saw, correctly signed
        with stranger.client() as other:
            unknown = other.submit("clipia/nano-banana-2", input={"prompt": "x"}, webhook_url="https://gw/h")
        stranger.clipia.finish(unknown.id)
        [foreign] = stranger.clipia.deliveries
        caplog.set_level(logging.INFO, logger="genwire")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
            answers = [
                (await http.post("/hooks/clipia", content=delivery.body + b" ", headers=dict(delivery.headers)))
                .status_code,
                (await http.post("/hooks/nowhere", content=b"{}")).status_code,
                (await http.get("/hooks/clipia")).status_code,
                (await http.post("/hooks/clipia", content=foreign.body, headers=dict(foreign.headers))).status_code,
                (await http.post("/hooks/cliprise?genwire_ref=k&genwire_token=forged", content=b"{}")).status_code,
            ]
    ledger.close()
    refusals = [r for r in caplog.records if r.getMessage().startswith("webhook refused")]
    assert answers == [401, 404, 405, 404, 401]
    assert [getattr(r, "genwire_code", None) for r in refusals] == [
        "signature_mismatch", "no_route", "method_not_allowed", "unknown_job", "invalid_callback_token"]
    assert all(": " in r.getMessage().split("code=", 1)[1] for r in refusals)   # each with a reason
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert DEFAULT_WEBHOOK_SECRET not in logged and TOKEN not in logged
