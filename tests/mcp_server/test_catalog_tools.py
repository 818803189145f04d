"""list_models, get_model, validate_input and estimate_cost: the catalog through MCP, no job started."""

from __future__ import annotations

import pytest

from genwire import Catalog

from .conftest import session

pytestmark = pytest.mark.anyio

ALL = {"list_models", "get_model", "validate_input", "estimate_cost", "generate", "get_generation",
       "wait_generation", "cancel_generation", "get_balance"}


async def test_every_tool_is_listed_with_argument_and_result_schemas() -> None:
    async with session() as s:
        listed = (await s.client.list_tools()).tools
    assert {t.name for t in listed} == ALL  # list_generations only with a ledger
    for tool in listed:
        assert tool.input_schema["type"] == "object" and tool.input_schema["additionalProperties"] is False
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"
        assert tool.description and tool.annotations is not None


async def test_list_models_covers_every_provider_with_tasks_and_price() -> None:
    async with session() as s:
        every = await s.ok("list_models")
        videos = await s.ok("list_models", {"provider": "cliprise", "kind": "video"})
        family = await s.ok("list_models", {"family": "nano-banana-2"})
    assert every["count"] == len(Catalog.default().models())
    assert {m["provider"] for m in every["models"]} == set(Catalog.default().providers)
    assert videos["count"] > 0 and all(m["kind"] == "video" and m["provider"] == "cliprise"
                                       for m in videos["models"])
    assert {m["model"] for m in family["models"]} == {"clipia/nano-banana-2", "cliprise/nano-banana-2"}
    priced = next(m for m in every["models"] if m["model"] == "clipia/nano-banana-2")
    assert priced["price"] == {"credits": 12.0, "note": None} and priced["tasks"]


async def test_get_model_gives_each_tasks_input_schema_and_defaults() -> None:
    async with session() as s:
        model = await s.ok("get_model", {"model": "clipia/seedance-2-fast-i2v"})
    [task] = model["tasks"]
    assert task["input_schema"] == Catalog.default().input_schema("clipia", "seedance-2-fast-i2v", task["name"])
    assert task["defaults"]["duration"] == 4 and "image_urls" in task["required"]


async def test_get_model_of_an_unknown_model_is_a_tool_error_with_a_suggestion() -> None:
    async with session() as s:
        unknown = await s.error("get_model", {"model": "clipia/nano-banana"})
        family = await s.error("get_model", {"model": "nano-banana-2"})
    assert unknown["type"] == "UnknownNameError" and unknown["code"] == "unknown_model"   # a NotFoundError
    assert "nano-banana-2" in unknown["message"]
    assert family["code"] == "invalid_arguments" and "clipia/nano-banana-2" in family["message"]


async def test_validate_input_returns_the_input_with_defaults() -> None:
    async with session() as s:
        found = await s.ok("validate_input", {"model": "clipia/seedance-2-fast-i2v",
                                              "input": {"image_urls": ["https://example.com/a.png"]}})
    assert found["valid"] and found["task"] == "image-to-video" and found["input"]["duration"] == 4
    assert s.fakes.stats()["clipia"]["requests"] == 0


async def test_validate_input_lists_every_violation_with_its_path() -> None:
    async with session() as s:
        found = await s.ok("validate_input", {"model": "cliprise/veo-3-fast", "input": {"prompt": 7, "style": "x"}})
    assert not found["valid"]
    assert {v["path"] for v in found["violations"]} == {"$.prompt", "$.style"}


async def test_validate_input_of_a_family_names_the_other_providers() -> None:
    async with session() as s:
        found = await s.ok("validate_input", {"model": "nano-banana-2", "input": {"prompt": "a fox"}})
    assert found["valid"] and found["provider"] == "clipia"
    assert found["alternatives"] == [{"provider": "cliprise", "model": "nano-banana-2", "task": "text-to-image"}]


async def test_bad_arguments_are_a_tool_error_listing_each_with_its_path() -> None:
    async with session() as s:
        err = await s.error("validate_input", {"modl": "x", "input": []})
    assert err["type"] == "InvalidInputError" and err["code"] == "invalid_arguments"
    assert {v["path"] for v in err["violations"]} == {"$.model", "$.modl", "$.input"}


async def test_estimate_cost_is_the_providers_quote_or_the_catalog_price_or_unknown() -> None:
    async with session() as s:
        quoted = await s.ok("estimate_cost", {"model": "clipia/nano-banana-2", "input": {"prompt": "a fox"}})
        family = await s.ok("estimate_cost", {"model": "nano-banana-2", "input": {"prompt": "a fox"}})
    assert quoted["estimates"][0]["source"] == "provider" and quoted["credits"] == 12.0
    assert [e["provider"] for e in family["estimates"]] == ["clipia", "cliprise"]
    assert family["estimates"][1]["credits"] is None and family["credits"] is None  # cliprise has no price
    assert s.fakes.stats()["clipia"]["jobs"] == 0
