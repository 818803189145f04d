"""The spending guard: allowed models, a per-job limit and a lifetime budget, checked against the
estimate before anything is submitted; every refusal says why."""

from __future__ import annotations

import pytest

from genwire.errors import ConfigurationError
from genwire.mcp import Guard
from genwire.testing import FakeClipia, FakeCliprise, FakeProviders

from .conftest import session

pytestmark = pytest.mark.anyio

PROMPT = {"prompt": "a fox"}
NANO = {"model": "clipia/nano-banana-2", "input": PROMPT}  # 12 credits, quoted by the provider


async def test_a_model_outside_allow_is_refused_before_the_wire() -> None:
    async with session(guard=Guard(allow=("clipia",))) as s:
        err = await s.error("generate", {"model": "cliprise/veo-3-fast", "input": PROMPT})
        ok = await s.ok("generate", NANO)
    assert err["code"] == "spending_guard" and err["type"] == "SpendingRefused"
    assert "cliprise/veo-3-fast" in err["message"] and "clipia" in err["message"]
    assert s.fakes.stats()["cliprise"]["requests"] == 0 and ok["provider"] == "clipia"


@pytest.mark.parametrize("allow", ["cliprise/veo-3-fast", "cliprise/*", "cliprise"])
async def test_allow_takes_a_model_a_provider_glob_or_a_provider(allow: str) -> None:
    assert Guard(allow=(allow,)).allows("cliprise", "veo-3-fast", None)
    assert not Guard(allow=(allow,)).allows("clipia", "nano-banana-2", "nano-banana-2")


async def test_a_family_is_allowed_only_when_every_provider_it_may_run_on_is() -> None:
    async with session(guard=Guard(allow=("clipia",))) as s:
        err = await s.error("generate", {"model": "nano-banana-2", "input": PROMPT})
    async with session(guard=Guard(allow=("nano-banana-2",))) as s2:
        job = await s2.ok("generate", {"model": "nano-banana-2", "input": PROMPT})
    assert err["code"] == "spending_guard" and "cliprise/nano-banana-2" in err["message"]
    assert job["model"] == "nano-banana-2"


async def test_a_job_estimated_over_the_per_job_limit_is_refused_with_the_figures() -> None:
    async with session(guard=Guard(max_per_job=10)) as s:
        err = await s.error("generate", NANO)
    assert err["code"] == "spending_guard" and "12" in err["message"] and "10" in err["message"]
    assert s.fakes.stats()["clipia"]["jobs"] == 0


async def test_the_lifetime_budget_refuses_the_job_that_would_pass_it() -> None:
    async with session(guard=Guard(max_total=30)) as s:
        await s.ok("generate", NANO)
        await s.ok("generate", NANO)
        err = await s.error("generate", NANO)
    assert "24 of this server's 30" in err["message"] and "6 left" in err["message"]
    assert s.fakes.stats()["clipia"]["jobs"] == 2


async def test_a_retried_call_does_not_spend_the_budget_twice() -> None:
    async with session(guard=Guard(max_total=12)) as s:
        first = await s.ok("generate", {**NANO, "idempotency_key": "k"})
        again = await s.ok("generate", {**NANO, "idempotency_key": "k"})
    assert first["id"] == again["id"] and s.tools.guard.spent == 12


async def test_a_refused_submit_gives_its_credits_back() -> None:
    fakes = FakeProviders(FakeClipia(steps=2, credits=5), FakeCliprise(steps=2))
    async with session(fakes, guard=Guard(max_total=12)) as s:
        err = await s.error("generate", NANO)  # quoted 12, then refused: the balance is 5
        assert err["type"] == "InsufficientCreditsError" and s.tools.guard.spent == 0
        fakes.clipia.balance = 100
        job = await s.ok("generate", NANO)  # the 12 credits are still there to spend
    assert job["provider"] == "clipia" and s.tools.guard.spent == 12


async def test_with_a_limit_a_job_of_unknown_cost_is_refused_unless_allowed() -> None:
    veo = {"model": "cliprise/veo-3-fast", "input": PROMPT}  # Cliprise quotes nothing, the catalog has no price
    async with session(guard=Guard(max_total=100)) as s:
        err = await s.error("generate", veo)
    async with session(guard=Guard(max_total=100, allow_unpriced=True)) as s2:
        job = await s2.ok("generate", veo)
    assert err["code"] == "spending_guard" and "cannot be estimated" in err["message"]
    assert job["provider"] == "cliprise"


def test_a_guard_with_a_negative_limit_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="max_per_job"):
        Guard(max_per_job=-1)
