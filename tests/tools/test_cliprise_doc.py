"""The Cliprise reference parser: page structure, chip splitting, self-contradictions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.cliprise_doc import CHIP_OVERRIDES, DocModel, find_discrepancies, parse_document, split_chips

FIXTURE = Path(__file__).parents[1] / "fixtures" / "cliprise" / "excerpt.txt"


@pytest.fixture(scope="module")
def models() -> dict[str, DocModel]:
    return {m.model_id: m for m in parse_document(FIXTURE.read_text(encoding="utf-8"))}


def kinds(model: DocModel) -> set[tuple[int | None, str | None, str]]:
    return {(d.variant, d.path, d.kind) for d in find_discrepancies(model)}


# --- page structure --------------------------------------------------------

def test_every_page_and_variant_is_found(models: dict[str, DocModel]) -> None:
    assert {k: len(m.variants) for k, m in models.items()} == {
        "demo-image": 2, "demo-veo": 2, "demo-clip": 1, "demo-voice": 1}


def test_page_title_and_kind_come_from_the_heading(models: dict[str, DocModel]) -> None:
    assert (models["demo-veo"].title, models["demo-veo"].kind) == ("Demo Veo", "video")


def test_output_formats_come_from_the_catalog_table(models: dict[str, DocModel]) -> None:
    assert models["demo-voice"].output_formats == ["wav", "mp3"]


def test_nesting_distinguishes_input_top_and_mixed(models: dict[str, DocModel]) -> None:
    assert [models[m].variants[0].nesting for m in ("demo-image", "demo-veo", "demo-clip")] == [
        "input", "top", "mixed"]


def test_param_paths_keep_the_input_prefix(models: dict[str, DocModel]) -> None:
    assert [p.path for p in models["demo-image"].variants[1].params][-1] == "input.image_urls"


def test_wire_name_drops_the_input_prefix(models: dict[str, DocModel]) -> None:
    assert models["demo-image"].variants[1].params[-1].wire == "image_urls"


def test_required_marker_on_its_own_line(models: dict[str, DocModel]) -> None:
    param = models["demo-image"].variants[0].param("input.prompt")
    assert param is not None and param.required


def test_optional_marker_at_the_end_of_the_header_line(models: dict[str, DocModel]) -> None:
    param = models["demo-veo"].variants[0].param("watermark")
    assert param is not None and not param.required and not param.description.endswith("optional")


def test_character_limit_is_parsed(models: dict[str, DocModel]) -> None:
    param = models["demo-clip"].variants[0].param("input.negative_prompt")
    assert param is not None and param.max_length == 300


def test_numeric_range_is_parsed(models: dict[str, DocModel]) -> None:
    param = models["demo-image"].variants[0].param("input.seed")
    assert param is not None and (param.minimum, param.maximum) == (10000, 99999)


def test_item_limit_is_parsed(models: dict[str, DocModel]) -> None:
    param = models["demo-image"].variants[1].param("input.image_urls")
    assert param is not None and (param.min_items, param.max_items) == (None, 4)


def test_compulsory_count_sets_both_item_limits(models: dict[str, DocModel]) -> None:
    param = models["demo-veo"].variants[0].param("imageUrls")
    assert param is not None and (param.min_items, param.max_items) == (2, 2)


def test_sample_body_is_parsed_as_json(models: dict[str, DocModel]) -> None:
    v = models["demo-clip"].variants[0]
    assert v.sample_model == "demo-clip" and v.sample_values()["generate_audio"] is True


def test_model_row_chips_split_into_tier_values(models: dict[str, DocModel]) -> None:
    assert models["demo-veo"].variants[0].model_values == ["demo-veo-fast", "demo-veo-max"]


def test_one_value_mode_switch_becomes_fixed(models: dict[str, DocModel]) -> None:
    assert [v.fixed for v in models["demo-veo"].variants] == [
        {"generationType": "FIRST_AND_LAST_FRAMES_2_VIDEO"}, {"generationType": "TEXT_2_VIDEO"}]


def test_string_typed_enum_values_stay_strings(models: dict[str, DocModel]) -> None:
    param = models["demo-veo"].variants[0].param("duration")
    assert param is not None and param.enum == ["5", "10"]


def test_number_typed_enum_values_become_numbers(models: dict[str, DocModel]) -> None:
    param = models["demo-voice"].variants[0].param("input.stability")
    assert param is not None and param.enum == [0, 0.5, 1]


def test_boolean_typed_enum_values_become_booleans(models: dict[str, DocModel]) -> None:
    param = models["demo-clip"].variants[0].param("generate_audio")
    assert param is not None and param.enum == [True, False]


# --- chip splitting --------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("auto1:19:1616:93:2", ["auto", "1:1", "9:16", "16:9", "3:2"]),
    ("2:33:21:116:99:16", ["2:3", "3:2", "1:1", "16:9", "9:16"]),
    ("16:99:16Auto", ["16:9", "9:16", "Auto"]),
    ("1:14:33:416:99:1621:9adaptive", ["1:1", "4:3", "3:4", "16:9", "9:16", "21:9", "adaptive"]),
], ids=["auto-first", "ratios-only", "capitalised-word-last", "word-after-ratios"])
def test_ratio_chips_split_at_known_ratios(raw: str, expected: list[str]) -> None:
    assert split_chips(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("480p580p720p", ["480p", "580p", "720p"]),
    ("768P1080P", ["768P", "1080P"]),
    ("1K2K4K", ["1K", "2K", "4K"]),
    ("stdpro4K", ["std", "pro", "4K"]),
])
def test_resolution_chips_split_after_their_unit(raw: str, expected: list[str]) -> None:
    assert split_chips(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("510", ["5", "10"]), ("4812", ["4", "8", "12"]), ("51015", ["5", "10", "15"]), ("00.51", ["0", "0.5", "1"]),
    ("5", ["5"]),
])
def test_number_chips_split_into_a_rising_sequence(raw: str, expected: list[str]) -> None:
    assert split_chips(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("noneregularhigh", ["none", "regular", "high"]),
    ("TURBOBALANCEDQUALITY", ["TURBO", "BALANCED", "QUALITY"]),
    ("GeneralAnime", ["General", "Anime"]),
    ("squaresquare_hdportrait_4_3landscape_16_9", ["square", "square_hd", "portrait_4_3", "landscape_16_9"]),
])
def test_word_chips_split_by_lexicon_and_shape(raw: str, expected: list[str]) -> None:
    assert split_chips(raw) == expected


def test_quoted_chips_split_at_the_quotes() -> None:
    assert split_chips('"medium""high"') == ["medium", "high"]


def test_boolean_chips_split() -> None:
    assert split_chips("truefalse") == ["true", "false"]


def test_upper_snake_constant_stays_whole() -> None:
    assert split_chips("REFERENCE_2_VIDEO") == ["REFERENCE_2_VIDEO"]


def test_sample_value_teaches_an_unknown_word() -> None:
    assert split_chips("zorbquux", sample="zorb") == ["zorb", "quux"]


def test_voice_chips_split_into_names_then_twenty_character_ids() -> None:
    ids = ["Abcdefghij0123456789", "Zyxwvutsrq9876543210"]
    assert split_chips("AnnaBoris" + "".join(ids), key=("m", "input.voice")) == ["Anna", "Boris", *ids]


def test_override_applies_when_it_rebuilds_the_raw_text() -> None:
    codes = CHIP_OVERRIDES[("elevenlabs-tts", "input.language_code")]
    assert split_chips("".join(codes), key=("elevenlabs-tts", "input.language_code")) == codes


def test_override_is_ignored_when_the_raw_text_differs() -> None:
    assert split_chips("jpegpng", key=("z-image", "input.aspect_ratio")) == ["jpeg", "png"]


def test_ambiguous_ratio_run_uses_the_override() -> None:
    assert split_chips("4:33:416:99:1621:1", key=("z-image", "input.aspect_ratio"))[-2:] == ["9:16", "21:1"]


# --- self-contradictions ---------------------------------------------------

def test_model_id_differing_from_the_sample_model_is_reported(models: dict[str, DocModel]) -> None:
    assert (0, "model", "model-id") in kinds(models["demo-voice"])


def test_tier_choice_is_named_in_the_model_id_report(models: dict[str, DocModel]) -> None:
    detail = next(d.detail for d in find_discrepancies(models["demo-veo"]) if d.kind == "model-id")
    assert "demo-veo-max" in detail


def test_sample_value_outside_the_range_is_reported(models: dict[str, DocModel]) -> None:
    assert (0, "input.duration", "sample-range") in kinds(models["demo-clip"])


def test_sample_value_outside_the_enum_is_reported(models: dict[str, DocModel]) -> None:
    assert (0, "input.stability", "sample-enum") in kinds(models["demo-voice"])


def test_table_param_missing_from_the_sample_is_reported(models: dict[str, DocModel]) -> None:
    assert (0, "input.negative_prompt", "sample-missing") in kinds(models["demo-clip"])


def test_sample_key_missing_from_the_table_is_reported(models: dict[str, DocModel]) -> None:
    assert (0, "input.extra_flag", "sample-extra") in kinds(models["demo-clip"])


def test_top_level_param_on_a_nested_page_is_reported(models: dict[str, DocModel]) -> None:
    assert (0, "generate_audio", "placement") in kinds(models["demo-clip"])


def test_page_without_callback_is_reported(models: dict[str, DocModel]) -> None:
    assert (0, "callBackUrl", "no-callback") in kinds(models["demo-clip"])


def test_string_field_taking_several_images_is_reported(models: dict[str, DocModel]) -> None:
    assert (0, "imageUrls", "type") in kinds(models["demo-veo"])


def test_placeholder_samples_are_not_reported(models: dict[str, DocModel]) -> None:
    assert kinds(models["demo-image"]) == set()
