"""generate, get_generation, wait_generation, cancel_generation and get_balance through MCP,
against the fake providers: jobs on both providers, one paid job per idempotency key, waits with
progress, provider errors as tool errors."""

from __future__ import annotations

import base64
from typing import Any

import anyio
import pytest
from mcp.types import ImageContent, ResourceLink

from genwire.testing import FakeClipia, FakeCliprise, FakeProviders

from .conftest import session

pytestmark = pytest.mark.anyio

PROMPT = {"prompt": "a fox"}
TARGETS = [("clipia/nano-banana-2", "clipia"), ("cliprise/veo-3-fast", "cliprise"), ("replicate/flux-pro", "replicate")]


@pytest.mark.parametrize(("model", "provider"), TARGETS)
async def test_generate_returns_the_job_at_once_and_says_how_to_follow_it(model: str, provider: str) -> None:
    async with session() as s:
        job = await s.ok("generate", {"model": model, "input": PROMPT})
    assert job["provider"] == provider and job["status"] in ("queued", "running") and not job["done"]
    assert "wait_generation" in job["next"] and job["id"] in job["next"]


@pytest.mark.parametrize(("model", "provider"), TARGETS)
async def test_wait_generation_reports_rising_progress_and_ends_with_outputs(model: str, provider: str) -> None:
    reports: list[tuple[float, float | None, str | None]] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        reports.append((value, total, message))

    async with session() as s:
        job = await s.ok("generate", {"model": model, "input": PROMPT})
        done = await s.ok("wait_generation", {"provider": provider, "id": job["id"], "timeout": 10}, progress)
    assert done["status"] == "succeeded" and done["done"] and done["next"] is None and done["outputs"]
    values = [r[0] for r in reports]
    assert values == sorted(set(values)) and values[-1] == 100.0 and all(r[1] == 100.0 for r in reports)
    assert all(job["id"] in (r[2] or "") for r in reports)


async def test_generate_with_wait_returns_the_finished_job_with_links_and_a_small_image() -> None:
    async with session() as s:
        result = await s.call("generate", {"model": "clipia/nano-banana-2", "input": PROMPT, "wait": 10})
    assert not result.is_error and result.structured_content is not None
    [output] = result.structured_content["outputs"]
    links = [c for c in result.content if isinstance(c, ResourceLink)]
    images = [c for c in result.content if isinstance(c, ImageContent)]
    assert [str(link.uri) for link in links] == [output["url"]]
    assert len(images) == 1 and base64.b64decode(images[0].data).startswith(b"\x89PNG")


async def test_images_are_only_linked_when_inlining_is_off() -> None:
    async with session(inline_image_bytes=0) as s:
        result = await s.call("generate", {"model": "clipia/nano-banana-2", "input": PROMPT, "wait": 10})
    assert not any(isinstance(c, ImageContent) for c in result.content)
    assert any(isinstance(c, ResourceLink) for c in result.content)


async def test_an_output_that_needs_the_key_is_read_through_the_server_without_showing_it() -> None:
    async with session() as s:
        job = await s.ok("generate", {"model": "cliprise/veo-3-fast", "input": PROMPT, "wait": 10})
        [output] = job["outputs"]
        read = await s.client.read_resource(output["url"])
        listed = await s.client.list_resources()
    key = s.fakes.api_keys["cliprise"]
    assert key not in output["url"] and [str(r.uri) for r in listed.resources] == [output["url"]]
    blob = read.contents[0]
    assert base64.b64decode(blob.blob)  # type: ignore[union-attr]


@pytest.mark.parametrize(("model", "provider"), TARGETS)
async def test_a_retried_generate_with_one_key_starts_one_paid_job(model: str, provider: str) -> None:
    async with session() as s:
        first = await s.ok("generate", {"model": model, "input": PROMPT, "idempotency_key": "agent-call-1"})
        again = await s.ok("generate", {"model": model, "input": PROMPT, "idempotency_key": "agent-call-1"})
        other = await s.ok("generate", {"model": model, "input": PROMPT, "idempotency_key": "agent-call-2"})
    assert again["id"] == first["id"] != other["id"]
    assert s.fakes.stats()[provider]["jobs"] == 2


async def test_a_retry_arriving_while_the_first_call_is_on_the_wire_gets_the_same_job() -> None:
    args = {"model": "cliprise/veo-3-fast", "input": PROMPT, "idempotency_key": "racing"}
    ids: list[str] = []
    async with session() as s:

        async def call() -> None:
            ids.append((await s.ok("generate", args))["id"])

        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(call)
    assert len(ids) == 3 and len(set(ids)) == 1 and s.fakes.stats()["cliprise"]["submits"] == 1


async def test_a_key_reused_for_another_request_is_refused() -> None:
    async with session() as s:
        await s.ok("generate", {"model": "cliprise/veo-3-fast", "input": PROMPT, "idempotency_key": "k"})
        err = await s.error("generate", {"model": "cliprise/veo-3-fast", "input": {"prompt": "a cat"},
                                         "idempotency_key": "k"})
    assert err["type"] == "IdempotencyConflictError" and err["code"] == "idempotency_key_reuse"
    assert s.fakes.stats()["cliprise"]["jobs"] == 1


async def test_a_clipia_key_still_gives_one_job_after_a_server_restart() -> None:
    fakes = FakeProviders(FakeClipia(steps=2), FakeCliprise(steps=2))
    ids = []
    for _ in range(2):  # a new server each time: nothing remembered, the provider deduplicates
        async with session(fakes) as s:
            ids.append((await s.ok("generate", {"model": "clipia/nano-banana-2", "input": PROMPT,
                                                "idempotency_key": "restart"}))["id"])
    assert ids[0] == ids[1] and fakes.stats()["clipia"]["jobs"] == 1


async def test_an_uncertain_cliprise_submit_is_reported_and_never_resent() -> None:
    fakes = FakeProviders(FakeClipia(steps=2), FakeCliprise(steps=2))
    fakes.cliprise.disconnect_next(before_send=False, path="/generate")
    args = {"model": "cliprise/veo-3-fast", "input": PROMPT, "idempotency_key": "once"}
    async with session(fakes) as s:
        first = await s.error("generate", args)
        again = await s.error("generate", args)
    assert first["type"] == again["type"] == "SubmissionUncertainError" and first["uncertain"]
    assert fakes.stats()["cliprise"]["submits"] == 1


async def test_invalid_input_is_refused_before_the_wire_with_every_path() -> None:
    async with session() as s:
        err = await s.error("generate", {"model": "cliprise/wan-2-5", "input": {"prompt": 7, "duration": 7}})
    assert err["type"] == "InvalidInputError" and {v["path"] for v in err["violations"]} >= {"$.prompt"}
    assert s.fakes.stats()["cliprise"]["requests"] == 0


async def test_a_provider_refusal_is_a_tool_error_with_its_code_and_no_key() -> None:
    fakes = FakeProviders(FakeClipia(steps=2, credits=1), FakeCliprise(steps=2))
    async with session(fakes) as s:
        result = await s.call("generate", {"model": "clipia/nano-banana-2", "input": PROMPT})
    assert result.is_error and result.structured_content is not None
    err = result.structured_content["error"]
    assert err["type"] == "InsufficientCreditsError" and err["status"] == 402 and err["provider"] == "clipia"
    text = "".join(getattr(c, "text", "") for c in result.content)
    assert "Traceback" not in text and fakes.api_keys["clipia"] not in text + str(err)


async def test_a_failed_job_is_returned_with_its_error() -> None:
    fakes = FakeProviders(FakeClipia(steps=1), FakeCliprise(steps=1))
    fakes.cliprise.script_outcome("fail", message="content policy")
    async with session(fakes) as s:
        job = await s.ok("generate", {"model": "cliprise/veo-3-fast", "input": PROMPT, "wait": 10})
    assert job["status"] == "failed" and job["done"] and "content policy" in job["error"]["message"]


async def test_a_wait_that_runs_out_returns_the_running_job_and_how_to_go_on() -> None:
    fakes = FakeProviders(FakeClipia(steps=10_000), FakeCliprise(steps=2))
    async with session(fakes) as s:
        job = await s.ok("generate", {"model": "clipia/nano-banana-2", "input": PROMPT})
        later = await s.ok("wait_generation", {"provider": "clipia", "id": job["id"], "timeout": 0.2})
    assert later["id"] == job["id"] and not later["done"] and "wait_generation" in later["next"]


async def test_wait_and_get_reject_an_out_of_bounds_timeout_and_an_unknown_provider() -> None:
    async with session() as s:
        too_long = await s.error("wait_generation", {"provider": "clipia", "id": "x", "timeout": 300})
        unknown = await s.error("get_generation", {"provider": "nope", "id": "x"})
    assert too_long["code"] == "invalid_arguments" and too_long["violations"][0]["path"] == "$.timeout"
    assert unknown["type"] == "UnknownNameError" and unknown["code"] == "unknown_provider"


async def test_get_generation_of_a_job_submitted_elsewhere_reads_it_by_provider_and_id() -> None:
    fakes = FakeProviders(FakeClipia(steps=0), FakeCliprise(steps=0))
    with fakes.client() as direct:
        submitted = direct.submit("cliprise/veo-3-fast", input=PROMPT)
    async with session(fakes) as s:
        job = await s.ok("get_generation", {"provider": "cliprise", "id": submitted.id})
        missing = await s.error("get_generation", {"provider": "cliprise", "id": "no-such-task"})
    assert job["status"] == "succeeded" and job["outputs"]
    assert missing["type"] == "ProviderNotFoundError"   # a NotFoundError


async def test_cancel_stops_a_running_job_where_the_provider_can_cancel() -> None:
    async with session() as s:
        job = await s.ok("generate", {"model": "replicate/flux-pro", "input": PROMPT})
        canceled = await s.ok("cancel_generation", {"provider": "replicate", "id": job["id"]})
        later = await s.ok("get_generation", {"provider": "replicate", "id": job["id"]})
    assert canceled["id"] == job["id"] and canceled["status"] == later["status"] == "canceled" and canceled["done"]


async def test_cancel_is_a_typed_not_offered_where_the_provider_cannot_cancel() -> None:
    async with session() as s:
        job = await s.ok("generate", {"model": "cliprise/veo-3-fast", "input": PROMPT})
        before = s.fakes.stats()["cliprise"]["requests"]
        err = await s.error("cancel_generation", {"provider": "cliprise", "id": job["id"]})
    assert err["type"] == "UnsupportedOperationError" and err["code"] == "unsupported_operation"
    assert s.fakes.stats()["cliprise"]["requests"] == before  # refused before anything was sent


async def test_get_balance_reports_each_provider_and_which_has_none() -> None:
    async with session() as s:
        every = await s.ok("get_balance")
        one = await s.ok("get_balance", {"provider": "clipia"})
        none = await s.error("get_balance", {"provider": "cliprise"})
    by: dict[str, Any] = {b["provider"]: b for b in every["balances"]}
    assert by["clipia"]["offered"] and by["clipia"]["credits"] == s.fakes.clipia.balance
    assert not by["cliprise"]["offered"] and by["cliprise"]["credits"] is None
    assert one["balances"][0]["credits"] == s.fakes.clipia.balance
    assert none["type"] == "UnsupportedOperationError"
