"""A fourth provider, added the way ``genwire.adapters`` says, and driven end to end (run as a
script by ``tests/test_registry.py``: ``python tests/fourth_provider.py [SOAK_JOBS]``; prints one
JSON object of what it saw).

"acme" serves Replicate's wire protocol (a Replicate-compatible host), so its adapter and fake
are two-line subclasses living outside genwire, and its catalog data is a copy of one bundled
Replicate model. What it touches is exactly what a new provider touches:

1. an adapter class (``AcmeAdapter`` below),
2. its catalog data (a directory ``acme/`` with ``_provider.yaml`` and one model),
3. its fake (``FakeAcme``),
4. one row in ``genwire.adapters.PROVIDERS`` (added here before the rest of genwire loads,
   as the row in ``genwire/adapters/__init__.py`` would be).

Nothing else: the clients, policy, ledger, webhook app, fakes table, fault soak and CLI-free
helpers below pick it up from the registry.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import genwire.adapters as adapters

sys.modules.setdefault("fourth_provider", sys.modules[__name__])  # the row names this module

# 4. the one row
adapters._ROWS["acme"] = adapters.ProviderEntry(
    "fourth_provider:AcmeAdapter", "https://api.acme.example", ("ACME_TOKEN",), fake="fourth_provider:FakeAcme")

from genwire.adapters.replicate import ReplicateAdapter  # noqa: E402
from genwire.testing._fake_replicate import FakeReplicate  # noqa: E402


class AcmeAdapter(ReplicateAdapter):  # 1. the adapter
    name = "acme"
    live_source = None


class FakeAcme(FakeReplicate):  # 3. the fake
    provider = "acme"


def catalog_data(root: Path) -> Path:
    """2. the catalog data: acme/_provider.yaml and acme/flux-pro.yaml."""
    bundled = Path(__file__).resolve().parents[1] / "catalog" / "replicate"
    (root / "acme").mkdir(parents=True)
    provider = (bundled / "_provider.yaml").read_text(encoding="utf-8")
    (root / "acme" / "_provider.yaml").write_text(
        provider.replace("provider: replicate", "provider: acme").replace("name: Replicate", "name: Acme"),
        encoding="utf-8")
    (root / "acme" / "flux-pro.yaml").write_text((bundled / "flux-pro.yaml").read_text(encoding="utf-8"),
                                                 encoding="utf-8")
    return root


def main(soak_jobs: int = 0) -> dict[str, Any]:
    from genwire import Catalog, JobStatus
    from genwire._client.checks import DEFAULT_BASE_URLS, KEY_ENV_VARS
    from genwire.asgi import WebhookApp
    from genwire.ledger import open_ledger
    from genwire.testing import FakeProviders, sample_request
    from genwire.testing.fakes import FAKES
    from genwire.webhooks import parse_webhook

    work = Path(tempfile.mkdtemp())
    catalog = Catalog.load(catalog_data(work / "catalog"))
    seen: dict[str, Any] = {"registered": {"fakes": sorted(FAKES), "base_url": DEFAULT_BASE_URLS["acme"],
                                           "key_env": KEY_ENV_VARS["acme"]}}
    fakes = FakeProviders(catalog=catalog)
    acme = fakes.fakes["acme"]
    request = sample_request("acme", "a fox", catalog=catalog)
    seen["sample"] = f"{request.provider}/{request.model}/{request.task}"

    # the key from its environment variable, a held create (Prefer: wait), no poll needed
    os.environ["ACME_TOKEN"] = acme.keys[0]
    keys = {p: k for p, k in fakes.api_keys.items() if p != "acme"}
    with fakes.client(api_keys=keys) as client:
        job = client.run(request, timeout=30)
        seen["run"] = [job.status.value, len(job.outputs), list(acme.waits), len(acme.requests)]
        # cancel, and a signed webhook delivery parsed and checked
        started = client.submit(request.model_copy(update={"webhook_url": "https://gw.example/hooks/acme"}))
        canceled = client.cancel(started)
        done = client.submit(request.model_copy(update={"webhook_url": "https://gw.example/hooks/acme"}))
        acme.finish(done.id)
        delivery = acme.deliveries[-1]
        hooked = parse_webhook("acme", delivery.headers, delivery.body, secret=acme.webhook_secret, catalog=catalog)
        seen["cancel"] = canceled.status.value
        seen["webhook"] = [hooked.id == done.id, hooked.status.value]

    # the async client: submit and poll; with a ledger, then the webhook app's /acme route
    async def drive() -> None:
        import httpx

        ledger = open_ledger(f"sqlite:///{work}/jobs.db")
        try:
            async with fakes.async_client(ledger=ledger) as aclient:
                polled = await aclient.wait(await aclient.submit(request), timeout=30)
                seen["async_poll"] = polled.status.value
                job = await aclient.submit(request.model_copy(update={"webhook_url": "https://gw/hooks/acme"}))
                acme.finish(job.id)
                app = WebhookApp(ledger, secrets={"acme": acme.webhook_secret}, catalog=catalog, prefix="/hooks")
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
                    codes = [(await http.post("/hooks/acme", content=d.body, headers=dict(d.headers))).status_code
                             for d in acme.deliveries if json.loads(d.body)["id"] == job.id]
                [entry] = [e for e in ledger.entries() if e.provider_id == job.id]
                seen["webhook_app"] = [sorted(set(codes)), entry.state.value]
                seen["ledger_states"] = sorted({e.state.value for e in ledger.entries()})
        finally:
            ledger.close()

    asyncio.run(drive())

    seen["succeeded"] = JobStatus.SUCCEEDED.value
    if not soak_jobs:
        return seen
    # the fault soak covers it, with no line of the soak naming it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import soak

    report = soak.run_soak(soak_jobs, seed=5, fault_rate=0.12, wait_timeout=0.4, concurrency=8, catalog=catalog)
    seen["soak"] = {"targets": sorted(report.per_target), "acme": report.per_target.get("acme", {}),
                    "lost": report.lost, "duplicates": report.duplicate_charges, "foreign": report.foreign_exceptions,
                    "overruns": report.wait_overruns, "wrong": report.wrong_final_states}
    return seen


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)))
