"""Clipia's live catalog: fetched through the client's policy, cached, compiled like bundled YAML."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from support import Call, clients_over

from genwire import (
    Catalog,
    CatalogError,
    GenerationRequest,
    InvalidInputError,
    JobStatus,
    NotFoundError,
)
from genwire._policy.retry import PollPolicy, RetryPolicy
from genwire.live import LiveCatalog, compile_live, drift, require
from genwire.testing import FakeClipia, FakeProviders

pytestmark = pytest.mark.anyio

POLL = PollPolicy(initial_interval=0.001, max_interval=0.002)
RETRY = RetryPolicy(initial_delay=0.001, max_delay=0.002)
# a model only the (fake) provider knows: numeric choices sent as strings, a bounded prompt
LIVE_YAML = """\
id: fake-live-video
name: Fake Live Video
kind: video
output: {kind: video, formats: [mp4]}
price: {credits: 30}
tasks:
  text-to-video:
    params:
      prompt: {type: string, required: true, max_length: 100, description: Text prompt.}
      duration: {type: integer, transform: to_string, enum: [5, 10], default: 5, description: Seconds.}
      camera_fixed: {type: boolean, description: Keep the camera still.}
"""
NEW = GenerationRequest(provider="clipia", model="fake-live-video", input={"prompt": "a fox", "duration": 10})


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def provider_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    root = tmp_path_factory.mktemp("provider")
    (root / "clipia").mkdir()
    (root / "clipia" / "fake-live-video.yaml").write_text(LIVE_YAML)
    return Catalog.load(root)


@pytest.fixture
def fakes(provider_catalog: Catalog) -> FakeProviders:
    return FakeProviders(FakeClipia(provider_catalog))


@pytest.fixture(params=["sync", "async"])
async def make(request: pytest.FixtureRequest, fakes: FakeProviders) -> AsyncIterator[Callable[..., Call]]:
    async with clients_over(fakes, request.param, poll=POLL, retry=RETRY) as build:
        yield build


def catalog_reads(fake: FakeClipia) -> list[str]:
    return [r.path for r in fake.requests if r.method == "GET" and r.path.startswith("/v1/models")]


async def test_live_round_trip_fetch_cache_validate_submit_refuse(
        make: Callable[..., Call], fakes: FakeProviders, tmp_path: Path) -> None:
    assert Catalog.default().find("clipia", "fake-live-video") is None
    live = await make()("refresh_catalog", "clipia", cache_dir=tmp_path)
    reads = catalog_reads(fakes.clipia)
    assert reads[0] == "/v1/models" and "/v1/models/fake-live-video" in reads
    spec = live.get("clipia", "fake-live-video")
    assert (spec.kind, list(spec.tasks), spec.price and spec.price.credits) == ("video", ["text-to-video"], 30)

    # cached: a second process starts without a round trip
    before = len(fakes.clipia.requests)
    cached = await make()("refresh_catalog", "clipia", cache_dir=tmp_path)
    assert len(fakes.clipia.requests) == before
    assert cached.input_schema("clipia", "fake-live-video", "text-to-video") == \
        live.input_schema("clipia", "fake-live-video", "text-to-video")

    call = make(catalog=cached)
    job = await call("run", NEW)
    assert job.status is JobStatus.SUCCEEDED and job.model == "fake-live-video"
    (submit,) = [r for r in fakes.clipia.requests if r.method == "POST"]
    assert submit.json["input"]["duration"] == "10"  # sent as the provider publishes it

    sent = len(fakes.clipia.requests)
    with pytest.raises(InvalidInputError) as info:
        await call("submit", NEW.model_copy(update={"input": {"prompt": "x" * 101, "duration": 7}}))
    assert {v.path for v in info.value.violations} == {"$.prompt", "$.duration"}
    assert len(fakes.clipia.requests) == sent  # refused before the wire


async def test_a_stale_cache_is_fetched_again(make: Callable[..., Call], fakes: FakeProviders,
                                              tmp_path: Path) -> None:
    await make()("refresh_catalog", "clipia", cache_dir=tmp_path)
    first = len(catalog_reads(fakes.clipia))
    await make()("refresh_catalog", "clipia", cache_dir=tmp_path, ttl=0)
    assert len(catalog_reads(fakes.clipia)) == 2 * first


async def test_refresh_named_models_fetches_only_those(make: Callable[..., Call], fakes: FakeProviders) -> None:
    live = await make()("refresh_catalog", "clipia", ["fake-live-video"])
    assert catalog_reads(fakes.clipia) == ["/v1/models/fake-live-video"]
    assert live.find("clipia", "fake-live-video") is not None
    assert live.find("clipia", "nano-banana-2") is not None  # bundled models stay


async def test_list_and_get_model_give_compiled_specs(make: Callable[..., Call]) -> None:
    call = make()
    listed = {s.id: s for s in await call("list_models", "clipia")}
    assert {"fake-live-video", "nano-banana-2", "seedance-2-fast-i2v"} <= set(listed)
    one = await call("get_model", "clipia", "seedance-2-fast-i2v")
    assert one.tasks["image-to-video"].params["image_urls"].wire == "image_url"
    assert one.family == "seedance-2-fast"  # kept from the bundled entry
    with pytest.raises(NotFoundError):
        await call("get_model", "clipia", "no-such-model")


async def test_a_live_model_keeps_the_bundled_validation(make: Callable[..., Call]) -> None:
    live = await make()("refresh_catalog", "clipia")
    for model, task, value in [("seedance-2-fast-i2v", "image-to-video",
                                {"image_urls": ["https://x.test/a.png"], "duration": 8}),
                               ("nano-banana-2", "image-to-image", {"prompt": "p", "image_urls": ["https://x.test/a.png"]})]:
        assert live.validate("clipia", model, task, value) == Catalog.default().validate("clipia", model, task, value)
    with pytest.raises(InvalidInputError):
        live.validate("clipia", "seedance-2-fast-i2v", "image-to-video", {"image_urls": [], "duration": 5})


async def test_the_live_catalog_needs_a_provider_that_publishes_one(make: Callable[..., Call]) -> None:
    with pytest.raises(NotFoundError):
        await make()("list_models", "cliprise")


def test_models_that_do_not_compile_are_left_out_and_named() -> None:
    entries = [{"slug": "odd", "type": "image", "name": "Odd", "capabilities": ["paint-by-numbers"],
                "input_schema": {"prompt": {"type": "string", "required": True}}},
               {"slug": "fine", "type": "image", "name": "Fine", "capabilities": ["text-to-image"],
                "input_schema": {"prompt": {"type": "string", "required": True}}},
               {"id": "gpt-5.6-sol", "object": "model"}]
    live = compile_live("clipia", entries, Catalog.default())
    assert [s.id for s in live.specs] == ["fine"]
    assert any("live:clipia/odd" in p for p in live.problems) and len(live.problems) == 2


def test_a_named_model_that_does_not_compile_is_an_error() -> None:
    live = compile_live("clipia", [{"slug": "odd", "type": "image", "capabilities": ["paint"]}], Catalog.default())
    with pytest.raises(CatalogError):
        require(live, ["odd"])


async def test_the_bundled_models_served_live_show_no_drift(make: Callable[..., Call]) -> None:
    specs = await make()("list_models", "clipia")
    report = drift(Catalog.default(), LiveCatalog(Catalog.default(), tuple(specs)))
    assert report == ["clipia/fake-live-video: live, not bundled"]
