"""With --ledger: every job the server submits is recorded, list_generations reads them back, and a
restarted server still knows an idempotency key (so a retry after a restart starts no second job)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import MCPError

from genwire.ledger import open_ledger
from genwire.testing import FakeClipia, FakeCliprise, FakeProviders

from .conftest import session

pytestmark = pytest.mark.anyio

PROMPT = {"prompt": "a fox"}


def _fakes() -> FakeProviders:
    return FakeProviders(FakeClipia(steps=1), FakeCliprise(steps=1))


async def test_list_generations_is_offered_only_with_a_ledger(tmp_path: Path) -> None:
    async with session() as plain, session(ledger=f"sqlite:///{tmp_path / 'jobs.db'}") as durable:
        without = {t.name for t in (await plain.client.list_tools()).tools}
        with_ledger = {t.name for t in (await durable.client.list_tools()).tools}
        with pytest.raises(MCPError, match="unknown tool 'list_generations'"):
            await plain.call("list_generations", {})
    assert "list_generations" not in without and with_ledger - without == {"list_generations"}


async def test_jobs_are_recorded_and_listed_newest_first_by_state_and_provider(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    async with session(_fakes(), ledger=url) as s:
        first = await s.ok("generate", {"model": "clipia/nano-banana-2", "input": PROMPT, "wait": 10})
        second = await s.ok("generate", {"model": "cliprise/veo-3-fast", "input": PROMPT})
        every = await s.ok("list_generations", {})
        clipia = await s.ok("list_generations", {"provider": "clipia", "state": "succeeded"})
        later = await s.ok("list_generations", {"since": "2999-01-01T00:00:00Z"})
        bad = await s.error("list_generations", {"since": "yesterday"})
    assert [g["id"] for g in every["generations"]] == [second["id"], first["id"]]
    [done] = clipia["generations"]
    assert done["id"] == first["id"] and done["outputs"][0]["url"] == first["outputs"][0]["url"]
    assert later["count"] == 0 and bad["violations"][0]["path"] == "$.since"
    with open_ledger(url) as ledger:  # what `genwire jobs list` reads
        assert {e.provider_id for e in ledger.entries()} == {first["id"], second["id"]}


async def test_a_restarted_server_returns_the_job_of_a_key_it_submitted_before(tmp_path: Path) -> None:
    fakes, url = _fakes(), f"sqlite:///{tmp_path / 'jobs.db'}"
    args = {"model": "cliprise/veo-3-fast", "input": PROMPT, "idempotency_key": "agent-1"}
    async with session(fakes, ledger=url) as s:
        first = await s.ok("generate", args)
    async with session(fakes, ledger=url) as restarted:  # Cliprise has no idempotency: only the ledger knows
        again = await restarted.ok("generate", args)
        conflict = await restarted.error("generate", {**args, "input": {"prompt": "a cat"}})
    assert again["id"] == first["id"] and fakes.stats()["cliprise"]["jobs"] == 1
    assert conflict["code"] == "idempotency_key_reuse"
