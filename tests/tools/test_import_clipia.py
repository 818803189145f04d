"""Drafting catalog YAML from Clipia's model JSON."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from genwire.catalog._meta import MODEL_FILE_SCHEMA
from tools.import_clipia import clipia_to_catalog, main, schema_entries

FIXTURES = Path(__file__).parents[1] / "fixtures" / "clipia"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def mapped() -> dict[str, Any]:
    return clipia_to_catalog(load("descriptor_map.json"))[0]


@pytest.fixture(scope="module")
def listed() -> dict[str, Any]:
    return clipia_to_catalog(load("parameter_list.json"))[0]


def test_slug_name_and_type_become_id_name_and_kind(mapped: dict[str, Any]) -> None:
    assert (mapped["id"], mapped["name"], mapped["kind"], mapped["output"]) == (
        "demo-i2v", "Demo I2V", "video", {"kind": "video"})


def test_each_capability_becomes_a_task(listed: dict[str, Any]) -> None:
    assert list(listed["tasks"]) == ["text-to-image", "image-to-image"]


def test_a_text_task_takes_no_media_and_an_image_task_needs_its_images(listed: dict[str, Any]) -> None:
    assert listed["tasks"]["text-to-image"] == {"params": {"image_urls": None}}
    images = listed["tasks"]["image-to-image"]["params"]["image_urls"]
    assert (images["required"], images["min_items"], images["max_items"]) == (True, 1, 4)


def test_text_limits_bound_the_prompt_and_per_unit_pricing_is_noted() -> None:
    data, _ = clipia_to_catalog({
        "slug": "demo-tts", "type": "audio", "name": "Demo TTS", "capabilities": ["text-to-speech"],
        "input_schema": {"parameters": [{"name": "prompt", "type": "string", "required": True},
                                        {"name": "voice", "type": "string", "default": "Zephyr"}]},
        "text_limits": {"min_chars": 1, "max_chars": 5000},
        "pricing": {"credits": 3, "billing_unit": "characters", "unit_size": 1000}})
    assert (data["params"]["prompt"]["min_length"], data["params"]["prompt"]["max_length"]) == (1, 5000)
    assert data["price"] == {"credits": 3, "note": "per 1000 characters"}


def test_a_text_model_of_the_unified_catalog_is_refused() -> None:
    with pytest.raises(ValueError, match=r"gpt-5\.6-sol"):
        clipia_to_catalog({"id": "gpt-5.6-sol", "object": "model", "context_length": 400000})


def test_pricing_becomes_the_price(listed: dict[str, Any]) -> None:
    assert listed["price"] == {"credits": 12, "note": "varies with size"}


def test_single_image_url_takes_a_one_item_list(mapped: dict[str, Any]) -> None:
    assert mapped["params"]["image_urls"] == {
        "wire": "image_url", "type": "array", "items": {"type": "url"}, "transform": "first",
        "description": "Input image URLs.", "required": True, "min_items": 1, "max_items": 1}


def test_descriptor_enum_and_default_carry_over(mapped: dict[str, Any]) -> None:
    spec = mapped["params"]["duration"]
    assert (spec["type"], spec["enum"], spec["default"]) == ("number", [4, 8], 4)


def test_parameter_list_shape_reads_names_in_order() -> None:
    names = [n for n, _ in schema_entries(load("parameter_list.json")["input_schema"])]
    assert names == ["prompt", "image_urls", "duration", "aspectRatio", "strength"]


def test_options_become_the_enum() -> None:
    entries = dict(schema_entries(load("parameter_list.json")["input_schema"]))
    assert entries["duration"]["enum"] == ["5", "10"]


def test_numeric_string_options_become_numbers_sent_as_strings(listed: dict[str, Any]) -> None:
    spec = listed["params"]["duration"]
    assert (spec["enum"], spec["default"], spec["transform"]) == ([5, 10], 5, "to_string")


def test_canonical_rename_maps_enum_and_default(listed: dict[str, Any]) -> None:
    spec = listed["params"]["aspect_ratio"]
    assert (spec["wire"], spec["enum"], spec["wire_values"], spec["default"]) == (
        "aspectRatio", ["auto", "16:9"], {"auto": "Auto"}, "auto")


def test_min_max_and_lengths_carry_over(listed: dict[str, Any]) -> None:
    assert (listed["params"]["strength"]["minimum"], listed["params"]["strength"]["maximum"],
            listed["params"]["prompt"]["min_length"], listed["params"]["prompt"]["max_length"]) == (0, 1, 1, 4000)


def test_label_describes_a_parameter_without_our_own_description(listed: dict[str, Any]) -> None:
    assert listed["params"]["strength"]["description"] == "Strength"


def test_array_item_limit_carries_over(listed: dict[str, Any]) -> None:
    assert listed["params"]["image_urls"]["max_items"] == 4


def test_unknown_schema_shape_is_rejected() -> None:
    with pytest.raises(ValueError, match="input_schema"):
        schema_entries(["not", "a", "schema"])


@pytest.mark.parametrize("name", ["descriptor_map.json", "parameter_list.json"])
def test_output_satisfies_the_catalog_meta_schema(name: str) -> None:
    data = clipia_to_catalog(load(name))[0]
    assert [e.message for e in Draft202012Validator(MODEL_FILE_SCHEMA).iter_errors(data)] == []


def test_cli_reads_stdin_and_prints_yaml(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                         mapped: dict[str, Any]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO((FIXTURES / "descriptor_map.json").read_text(encoding="utf-8")))
    main([])
    assert yaml.safe_load(capsys.readouterr().out) == mapped


def test_cli_writes_slug_named_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    listed: dict[str, Any]) -> None:
    main([str(FIXTURES / "parameter_list.json"), "--out", str(tmp_path)])
    assert yaml.safe_load((tmp_path / "demo-image.yaml").read_text(encoding="utf-8")) == listed
