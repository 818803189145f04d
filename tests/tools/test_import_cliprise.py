"""Drafting catalog YAML from the parsed Cliprise reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from genwire.catalog._meta import MODEL_FILE_SCHEMA
from tools.cliprise_doc import DocModel, parse_document
from tools.import_cliprise import draft_model, draft_models, main, normalize_enum, normalize_name, render_yaml

FIXTURE = Path(__file__).parents[1] / "fixtures" / "cliprise" / "excerpt.txt"


@pytest.fixture(scope="module")
def models() -> dict[str, DocModel]:
    return {m.model_id: m for m in parse_document(FIXTURE.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def drafts(models: dict[str, DocModel]) -> dict[str, dict[str, Any]]:
    return {k: draft_model(m)[0] for k, m in models.items()}


@pytest.mark.parametrize(("wire", "values", "expected"), [
    ("aspectRatio", [], "aspect_ratio"), ("ratio", [], "aspect_ratio"), ("seeds", [], "seed"),
    ("outputFormat", [], "output_format"), ("sound", [], "generate_audio"), ("text", [], "prompt"),
    ("inputImage", [], "image_urls"), ("imageUrl", [], "image_urls"), ("image", [], "image_urls"),
    ("input_urls", [], "image_urls"), ("videoUrl", [], "video_urls"), ("audio_url", [], "audio_urls"),
    ("n_frames", [], "duration"), ("image_size", ["1:1", "auto"], "aspect_ratio"),
    ("image_size", ["square", "square_hd"], "image_size"), ("quality", ["720p"], "resolution"),
    ("quality", ["medium"], "quality"), ("enableTranslation", [], "enable_translation"),
])
def test_wire_names_map_to_normalized_names(wire: str, values: list[str], expected: str) -> None:
    assert normalize_name(wire, values) == expected


def test_portrait_and_landscape_become_ratios_sent_as_words() -> None:
    assert normalize_enum("aspect_ratio", ["portrait", "landscape"]) == (
        ["9:16", "16:9"], {"9:16": "portrait", "16:9": "landscape"})


def test_upper_case_resolution_is_normalized_and_mapped_back() -> None:
    assert normalize_enum("resolution", ["720P"]) == (["720p"], {"720p": "720P"})


def test_string_durations_become_numbers_without_a_wire_map() -> None:
    assert normalize_enum("duration", ["5", "10"]) == ([5, 10], {})


def test_nested_model_keeps_the_default_placement(drafts: dict[str, dict[str, Any]]) -> None:
    assert "placement" not in drafts["demo-image"]


def test_top_level_model_is_placed_top(drafts: dict[str, dict[str, Any]]) -> None:
    assert drafts["demo-veo"]["placement"] == "top"


def test_shared_params_go_to_the_model_and_the_rest_to_the_task(drafts: dict[str, dict[str, Any]]) -> None:
    d = drafts["demo-image"]
    assert "image_urls" not in d["params"] and "image_urls" in d["tasks"]["image-to-image"]["params"]


def test_tasks_are_inferred_from_image_inputs(drafts: dict[str, dict[str, Any]]) -> None:
    assert list(drafts["demo-image"]["tasks"]) == ["text-to-image", "image-to-image"]


def test_tasks_are_inferred_from_generation_type(drafts: dict[str, dict[str, Any]]) -> None:
    assert list(drafts["demo-veo"]["tasks"]) == ["frames-to-video", "text-to-video"]


def test_audio_model_with_a_voice_is_text_to_speech(drafts: dict[str, dict[str, Any]]) -> None:
    assert list(drafts["demo-voice"]["tasks"]) == ["text-to-speech"]


def test_generation_type_is_fixed_on_the_task(drafts: dict[str, dict[str, Any]]) -> None:
    assert drafts["demo-veo"]["tasks"]["text-to-video"]["fixed"] == {"generationType": "TEXT_2_VIDEO"}


def test_tier_choice_becomes_a_model_mapping(drafts: dict[str, dict[str, Any]]) -> None:
    assert drafts["demo-veo"]["tasks"]["text-to-video"]["model"] == {
        "param": "tier", "values": ["demo-veo-fast", "demo-veo-max"], "description": "Model tier."}


def test_tier_choice_is_flagged_for_review(models: dict[str, DocModel]) -> None:
    text = draft_models([models["demo-veo"]])["demo-veo"]
    assert "model: {param: tier" in text and "# TODO review: tier choice" in text


def test_differing_single_model_value_is_sent_as_is(drafts: dict[str, dict[str, Any]]) -> None:
    assert drafts["demo-voice"]["tasks"]["text-to-speech"]["model"] == "demo-voice-v2"


def test_auto_is_normalized_with_a_wire_value(drafts: dict[str, dict[str, Any]]) -> None:
    spec = drafts["demo-veo"]["params"]["aspect_ratio"]
    assert (spec["wire"], spec["wire_values"]) == ("aspectRatio", {"auto": "Auto"})


def test_string_duration_is_a_number_sent_as_a_string(drafts: dict[str, dict[str, Any]]) -> None:
    spec = drafts["demo-veo"]["params"]["duration"]
    assert (spec["type"], spec["transform"], spec["enum"]) == ("number", "to_string", [5, 10])


def test_single_image_string_field_takes_a_one_item_list(drafts: dict[str, dict[str, Any]]) -> None:
    spec = drafts["demo-clip"]["params"]["image_urls"]
    assert (spec["wire"], spec["transform"], spec["max_items"]) == ("image_url", "first", 1)


def test_two_compulsory_frames_become_slots_of_the_wire_list(drafts: dict[str, dict[str, Any]]) -> None:
    params = drafts["demo-veo"]["tasks"]["frames-to-video"]["params"]
    assert {k: (v["wire"], v["type"], v["required"]) for k, v in params.items()} == {
        "first_frame_url": ("imageUrls[0]", "url", True), "last_frame_url": ("imageUrls[1]", "url", True)}


def test_required_image_list_needs_at_least_one_item(drafts: dict[str, dict[str, Any]]) -> None:
    spec = drafts["demo-image"]["tasks"]["image-to-image"]["params"]["image_urls"]
    assert (spec["min_items"], spec["max_items"]) == (1, 4)


def test_seed_range_is_an_integer_range(drafts: dict[str, dict[str, Any]]) -> None:
    assert drafts["demo-image"]["params"]["seed"] == {
        "type": "integer", "description": "Random seed.", "minimum": 10000, "maximum": 99999}


def test_range_breaking_sample_becomes_a_note(drafts: dict[str, dict[str, Any]]) -> None:
    assert any("duration 10000" in n for n in drafts["demo-clip"]["notes"])


def test_model_id_mismatch_becomes_a_note(drafts: dict[str, dict[str, Any]]) -> None:
    assert any("Model ID demo-voice" in n for n in drafts["demo-voice"]["notes"])


def test_notes_found_on_one_variant_stay_on_its_task(drafts: dict[str, dict[str, Any]]) -> None:
    assert any("imageUrls[0]" in n for n in drafts["demo-veo"]["tasks"]["frames-to-video"]["notes"])


def test_descriptions_are_our_own_words(drafts: dict[str, dict[str, Any]]) -> None:
    assert drafts["demo-image"]["params"]["prompt"]["description"] == "Text prompt."


def test_drafts_satisfy_the_catalog_meta_schema(drafts: dict[str, dict[str, Any]]) -> None:
    validator = Draft202012Validator(MODEL_FILE_SCHEMA)
    assert [e.message for d in drafts.values() for e in validator.iter_errors(d)] == []


def test_rendered_yaml_loads_back_to_the_draft(models: dict[str, DocModel],
                                               drafts: dict[str, dict[str, Any]]) -> None:
    texts = draft_models(models.values())
    assert {k: yaml.safe_load(t) for k, t in texts.items()} == drafts


def test_rendering_quotes_ratios_and_yaml_keywords() -> None:
    assert render_yaml({"enum": ["16:9", "no", "auto"]}) == 'enum: ["16:9", "no", auto]\n'


def test_long_lists_wrap_and_still_load() -> None:
    data = {"enum": [f"value{i:03d}" for i in range(40)]}
    text = render_yaml(data)
    assert text.count("\n") > 1 and yaml.safe_load(text) == data


def test_output_is_deterministic(models: dict[str, DocModel]) -> None:
    assert draft_models(models.values()) == draft_models(models.values())


def test_cli_writes_one_file_per_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(FIXTURE), "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "demo-clip.yaml", "demo-image.yaml", "demo-veo.yaml", "demo-voice.yaml"]


def test_cli_model_filter_limits_the_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main([str(FIXTURE), "--model", "demo-veo", "--out", str(tmp_path)])
    assert [p.name for p in tmp_path.iterdir()] == ["demo-veo.yaml"]


def test_cli_rejects_an_unknown_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(FIXTURE), "--model", "nope", "--out", str(tmp_path)]) == 2
