"""Replicate's live catalog: a model's latest version's OpenAPI schema, Cog's quirks included, through
the same converter and compiler into the same ModelSpec, cached like Clipia's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from genwire import Catalog, ConfigurationError, GenerationRequest, InvalidInputError
from genwire.catalog._from_replicate import replicate_to_catalog
from genwire.live import compile_live
from genwire.testing import FakeProviders

BASE = Catalog.default()

# the shape an older Cog (0.8) publishes: choices as allOf $refs to enum components, file inputs as
# uri strings, a streaming text output marked x-cog-array-type
OLD_COG: dict[str, Any] = {
    "owner": "acme", "name": "sdxl-lite", "latest_version": {"id": "abc123", "openapi_schema": {"components": {
        "schemas": {
            "Input": {"type": "object", "title": "Input", "required": ["prompt"], "properties": {
                "seed": {"type": "integer", "title": "Seed", "x-order": 3},
                "prompt": {"type": "string", "title": "Prompt", "x-order": 0, "description": "Input prompt"},
                "image": {"type": "string", "format": "uri", "title": "Image", "x-order": 1},
                "scheduler": {"allOf": [{"$ref": "#/components/schemas/scheduler"}], "default": "K_EULER",
                              "x-order": 2, "description": "scheduler"},
                "num_outputs": {"type": "integer", "minimum": 1, "maximum": 4, "default": 1, "x-order": 4},
                "refs": {"type": "array", "items": {"type": "string", "format": "uri"}, "x-order": 5},
            }},
            "scheduler": {"enum": ["DDIM", "K_EULER"], "type": "string", "title": "scheduler",
                          "description": "An enumeration."},
            "Output": {"type": "array", "items": {"type": "string"}, "x-cog-array-type": "iterator",
                       "x-cog-array-display": "concatenate", "title": "Output"},
        }}}},
}


def test_old_cog_quirks_become_catalog_parameters() -> None:
    data, comments = replicate_to_catalog(OLD_COG)
    [(task, body)] = data["tasks"].items()
    assert task == "text-to-image" and body["model"] == "acme/sdxl-lite:abc123"
    params = body["params"]
    assert list(params) == ["prompt", "image_urls", "scheduler", "seed", "num_outputs", "refs"]  # x-order
    assert params["scheduler"]["enum"] == ["DDIM", "K_EULER"] and params["scheduler"]["default"] == "K_EULER"
    assert params["image_urls"] == {"wire": "image", "type": "array", "items": {"type": "url"},
                                    "transform": "first", "description": params["image_urls"]["description"],
                                    "max_items": 1}
    assert params["refs"]["items"] == {"type": "url"} and params["prompt"]["required"] is True
    assert (params["num_outputs"]["minimum"], params["num_outputs"]["maximum"]) == (1, 4)
    assert ("kind",) in comments  # Replicate publishes no media kind


def test_a_live_model_compiles_into_the_same_validation_and_wire_body() -> None:
    live = compile_live("replicate", [{**OLD_COG, "slug": "acme/sdxl-lite"}], BASE)
    assert live.problems == ()
    catalog = live.catalog
    [resolved] = catalog.resolve(GenerationRequest(provider="replicate", model="sdxl-lite",
                                                   input={"prompt": "x", "image_urls": ["https://x.test/a.png"]}))
    assert resolved.task.model == "acme/sdxl-lite:abc123"
    with pytest.raises(InvalidInputError) as info:
        catalog.resolve(GenerationRequest(provider="replicate", model="sdxl-lite",
                                          input={"prompt": "x", "scheduler": "PNDM", "num_outputs": 9}))
    assert {v.path for v in info.value.violations} == {"$.scheduler", "$.num_outputs"}


def test_refresh_reads_each_named_model_keeping_the_bundled_id_kind_and_pinning() -> None:
    fakes = FakeProviders()
    with fakes.client() as client:
        catalog = client.refresh_catalog("replicate", ["luma/ray", "meta/musicgen"])
        job = client.run("replicate/musicgen", input={"prompt": "jazz"}, timeout=30)
    ray, music = catalog.get("replicate", "luma-ray"), catalog.get("replicate", "musicgen")
    assert (ray.kind, [t.model for t in ray.tasks.values()]) == ("video", ["luma/ray"])
    assert music.kind == "audio" and next(iter(music.tasks.values())).model.startswith("meta/musicgen:7a76")
    assert job.outputs[0].kind == "audio"
    assert [r.path for r in fakes.replicate.requests][:2] == ["/v1/models/luma/ray", "/v1/models/meta/musicgen"]


def test_live_models_are_cached_on_disk_like_clipias(tmp_path: Path) -> None:
    fakes = FakeProviders()
    with fakes.client() as client:
        client.refresh_catalog("replicate", ["luma/ray"], cache_dir=tmp_path)
        client.refresh_catalog("replicate", ["luma/ray"], cache_dir=tmp_path)
    assert len(fakes.replicate.requests) == 1 and (tmp_path / "replicate.json").is_file()


def test_models_must_be_named_since_the_list_is_the_whole_registry() -> None:
    with FakeProviders().client() as client:
        with pytest.raises(ConfigurationError, match="name the models"):
            client.refresh_catalog("replicate")
        with pytest.raises(ConfigurationError, match="owner/name"):
            client.refresh_catalog("replicate", ["ray"])


def test_a_model_without_a_readable_version_is_left_out_with_the_reason() -> None:
    live = compile_live("replicate", [{"owner": "a", "name": "b", "slug": "a/b", "latest_version": None}], BASE)
    assert live.specs == () and "no latest version" in live.problems[0]
