"""Issue 22's "done when", in one place: against the fake Replicate, sync and async, with and
without a ledger: submit, a polling wait, a held ``Prefer: wait`` run, cancel, and signed
webhook deliveries (``parse_webhook`` without a ledger; the ``WebhookApp`` ``/replicate`` route
applying every event once, forward only, with one)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from support import call, close

from genwire import AsyncClient, Client, JobStatus
from genwire._policy.retry import PollPolicy
from genwire.asgi import WebhookApp
from genwire.ledger import LedgerState, open_ledger
from genwire.testing import FakeProviders
from genwire.webhooks import parse_webhook

POLL = PollPolicy(initial_interval=0.001, max_interval=0.001)
HOOK = "https://gw.example.com/hooks/replicate"
PROMPT = {"prompt": "a fox"}


@pytest.mark.anyio
@pytest.mark.parametrize("with_ledger", [False, True], ids=["no-ledger", "ledger"])
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_submit_wait_sync_wait_cancel_and_signed_webhooks_end_to_end(mode: str, with_ledger: bool,
                                                                        tmp_path: Path) -> None:
    fakes = FakeProviders()
    fake = fakes.replicate
    ledger = open_ledger(f"sqlite:///{tmp_path}/jobs.db") if with_ledger else None
    client: Client | AsyncClient = (fakes.client if mode == "sync" else fakes.async_client)(poll=POLL, ledger=ledger)
    try:
        # submit, then a polling wait: created once, never with Prefer
        submitted = await call(client, "submit", "replicate/luma-ray", input=PROMPT)
        polled = await call(client, "wait", submitted, timeout=10)
        assert polled.status is JobStatus.SUCCEEDED and polled.outputs[0].kind == "video"
        assert polled.metrics is not None and [r.method for r in fake.requests] == ["POST", "GET", "GET"]
        # run: the create is held open (Prefer: wait) and the prediction ends within it, no poll
        before = len(fake.requests)
        ran = await call(client, "run", "replicate/musicgen", input={"prompt": "jazz", "duration": 5}, timeout=30)
        assert ran.status is JobStatus.SUCCEEDED and ran.outputs[0].kind == "audio"
        assert [r.headers.get("prefer") for r in fake.requests[before:]] == ["wait=28"]
        # cancel a running prediction
        running = await call(client, "submit", "replicate/flux-pro", input=PROMPT)
        canceled = await call(client, "cancel", running)
        assert canceled.status is JobStatus.CANCELED and fake.jobs[running.id].status is JobStatus.CANCELED
        # a job with a webhook: every event is signed (Standard Webhooks) and reads as the prediction
        hooked = await call(client, "submit", "replicate/flux-pro", input=PROMPT, webhook_url=HOOK)
        fake.advance(hooked.id)
        fake.finish(hooked.id)
        events = [d for d in fake.deliveries if d.json()["id"] == hooked.id]
        assert len(events) == 4 and all(d.headers["webhook-signature"].startswith("v1,") for d in events)
        parsed = [parse_webhook("replicate", d.headers, d.body, secret=fake.webhook_secret) for d in events]
        assert [j.status for j in parsed] == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED,
                                              JobStatus.SUCCEEDED]
        if ledger is None:
            return
        # with a ledger: the /replicate route applies them, the last first, each once, forward only
        app = WebhookApp(ledger, secrets={"replicate": fake.webhook_secret}, prefix="/hooks")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
            codes = [(await http.post("/hooks/replicate", content=d.body, headers=dict(d.headers))).status_code
                     for d in (events[-1], *events)]
        assert codes == [204] * 5
        states = {e.provider_id: e.state for e in ledger.entries()}
        assert states == {polled.id: LedgerState.SUCCEEDED, ran.id: LedgerState.SUCCEEDED,
                          running.id: LedgerState.CANCELED, hooked.id: LedgerState.SUCCEEDED}
        entry = ledger.find("replicate", hooked.id)
        assert entry is not None
        assert [(e.state.value, e.source) for e in ledger.events(entry.ref)] == [("queued", "submit"),
                                                                                 ("succeeded", "webhook")]
    finally:
        await close(client)
        if ledger is not None:
            ledger.close()
