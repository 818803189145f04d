"""Catalog: lookups, schemas, validation with every violation, task inference, families, loading."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from genwire import (
    Catalog,
    GenerationRequest,
    InvalidInputError,
    ModelSpec,
    NotFoundError,
    UnsupportedParameterError,
)
from genwire.catalog._catalog import _default_catalog, bundled_paths

CATALOG = Catalog.default()
IMG = "https://example.com/in.png"
IMG2 = "https://example.com/other.png"


def _paths(err: InvalidInputError) -> list[str]:
    return [v.path for v in err.violations]


# -- lookups and filters -----------------------------------------------------------------------------

def test_default_is_one_shared_instance() -> None:
    assert Catalog.default() is Catalog.default()


def test_default_catalog_lists_every_compiled_model() -> None:
    _, schemas = bundled_paths()
    dirs = {f"{p.parent.name}/{p.name}" for p in schemas.glob("*/*") if p.is_dir()}
    assert {f"{m.provider}/{m.id}" for m in CATALOG.models()} == dirs


def test_providers() -> None:
    assert {"clipia", "cliprise", "replicate"} <= set(CATALOG.providers)


def _keys(specs: list[ModelSpec]) -> set[tuple[str, str]]:
    return {(m.provider, m.id) for m in specs}


def test_filter_by_provider() -> None:
    found = _keys(CATALOG.models(provider="clipia"))
    assert {("clipia", "nano-banana-2"), ("clipia", "seedance-2-fast-i2v")} <= found
    assert found == {k for k in _keys(CATALOG.models()) if k[0] == "clipia"}


def test_filter_by_kind() -> None:
    video = CATALOG.models(kind="video")
    assert {m.kind for m in video} == {"video"}
    assert ("cliprise", "veo-3-fast") in _keys(video)
    assert ("cliprise", "veo-3-fast") not in _keys(CATALOG.models(kind="image"))


def test_filter_by_task() -> None:
    found = CATALOG.models(task="frames-to-video")
    assert ("cliprise", "veo-3-fast") in _keys(found)
    assert ("cliprise", "nano-banana") not in _keys(found)
    assert _keys(found) == {m.key for m in CATALOG.models() if "frames-to-video" in m.tasks}


def test_filter_by_family() -> None:
    found = CATALOG.models(family="seedance-2-fast")
    assert {("clipia", "seedance-2-fast-t2v"), ("clipia", "seedance-2-fast-i2v")} <= _keys(found)
    assert {m.family for m in found} == {"seedance-2-fast"}


def test_filters_combine() -> None:
    found = CATALOG.models(provider="cliprise", kind="image", task="image-to-image")
    assert {("cliprise", "nano-banana"), ("cliprise", "flux-kontext")} <= _keys(found)
    assert all(m.provider == "cliprise" and m.kind == "image" and "image-to-image" in m.tasks for m in found)
    assert _keys(found) == _keys(CATALOG.models(provider="cliprise")) & _keys(CATALOG.models(kind="image")) & _keys(
        CATALOG.models(task="image-to-image"))


def test_get_returns_the_spec() -> None:
    spec = CATALOG.get("cliprise", "veo-3-fast")
    assert isinstance(spec, ModelSpec)
    assert (spec.provider, spec.id, spec.kind) == ("cliprise", "veo-3-fast", "video")
    assert list(spec.tasks) == ["text-to-video", "frames-to-video", "reference-to-video"]
    assert CATALOG.get("clipia", "nano-banana-2").family == "nano-banana-2"


def test_unknown_model_suggests_close_names() -> None:
    with pytest.raises(NotFoundError, match="did you mean veo-3-fast") as info:
        CATALOG.get("cliprise", "veo-3-fats")
    assert info.value.code == "unknown_model"


def test_unknown_provider_lists_known_ones() -> None:
    with pytest.raises(NotFoundError, match="clipia"):
        CATALOG.get("acme", "veo-3-fast")


def test_unknown_task_lists_offered_ones() -> None:
    with pytest.raises(NotFoundError, match="frames-to-video") as info:
        CATALOG.input_schema("cliprise", "veo-3-fast", "image-to-video")
    assert info.value.code == "unknown_task"


# -- schemas ------------------------------------------------------------------------------------------------

ALL_TASKS = [(m.provider, m.id, t) for m in CATALOG.models() for t in m.tasks]
TASK_IDS = [f"{p}/{m}/{t}" for p, m, t in ALL_TASKS]


@pytest.mark.parametrize("key", ALL_TASKS, ids=TASK_IDS)
@pytest.mark.parametrize("which", ["input", "wire"])
def test_schemas_are_valid_draft_2020_12_with_id_and_title(key: tuple[str, str, str], which: str) -> None:
    schema = CATALOG.input_schema(*key) if which == "input" else CATALOG.wire_schema(*key)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/{'/'.join(key)}.{which}.json")
    assert key[1] in schema["title"]


def test_returned_schemas_are_copies() -> None:
    first = CATALOG.input_schema("cliprise", "nano-banana", "text-to-image")
    first["properties"].clear()
    wire = CATALOG.wire_schema("cliprise", "nano-banana", "text-to-image")
    wire["required"].append("nonsense")
    assert "prompt" in CATALOG.input_schema("cliprise", "nano-banana", "text-to-image")["properties"]
    assert "nonsense" not in CATALOG.wire_schema("cliprise", "nano-banana", "text-to-image")["required"]
    CATALOG.validate("cliprise", "nano-banana", "text-to-image", {"prompt": "still validates"})


# -- validation -----------------------------------------------------------------------------------------------

def test_validate_applies_defaults() -> None:
    out = CATALOG.validate("clipia", "seedance-2-fast-i2v", "image-to-video", {"image_urls": [IMG]})
    assert out == {"image_urls": [IMG], "duration": 4, "resolution": "720p"}


def test_validate_keeps_given_values_over_defaults() -> None:
    out = CATALOG.validate("clipia", "seedance-2-fast-i2v", "image-to-video",
                           {"image_urls": [IMG], "duration": 8, "resolution": "1080p"})
    assert (out["duration"], out["resolution"]) == (8, "1080p")


def test_validate_applies_tier_default() -> None:
    out = CATALOG.validate("cliprise", "flux-kontext", "text-to-image", {"prompt": "a fox"})
    assert out == {"prompt": "a fox", "tier": "flux-kontext-pro"}


def test_validate_does_not_mutate_the_input() -> None:
    given = {"image_urls": [IMG]}
    CATALOG.validate("clipia", "seedance-2-fast-i2v", "image-to-video", given)
    assert given == {"image_urls": [IMG]}


def test_validate_lists_every_violation_wan() -> None:
    with pytest.raises(InvalidInputError) as info:
        CATALOG.validate("cliprise", "wan-2-5", "text-to-video",
                         {"prompt": 7, "duration": 7, "seed": 5, "negative_prompt": "x" * 501})
    assert _paths(info.value) == ["$.duration", "$.negative_prompt", "$.prompt", "$.resolution", "$.seed"]
    assert info.value.code == "invalid_input"
    assert "$.resolution: is required" in str(info.value)


def test_validate_lists_every_violation_veo() -> None:
    with pytest.raises(InvalidInputError) as info:
        CATALOG.validate("cliprise", "veo-3-fast", "frames-to-video",
                         {"first_frame_url": "not a url", "aspect_ratio": "4:3", "seed": 100000,
                          "enable_translation": "yes"})
    assert _paths(info.value) == ["$.aspect_ratio", "$.enable_translation", "$.first_frame_url",
                                  "$.last_frame_url", "$.prompt", "$.seed"]


def test_validate_lists_every_violation_nano_banana_items() -> None:
    with pytest.raises(InvalidInputError) as info:
        CATALOG.validate("cliprise", "nano-banana", "image-to-image",
                         {"image_urls": [IMG, "ftp://example.com/x", "nope"], "output_format": "gif"})
    assert _paths(info.value) == ["$.image_urls[1]", "$.image_urls[2]", "$.output_format", "$.prompt"]
    assert "not an http(s) URL" in str(info.value)


def test_validate_reports_too_many_items() -> None:
    with pytest.raises(InvalidInputError) as info:
        CATALOG.validate("cliprise", "nano-banana", "image-to-image", {"prompt": "p", "image_urls": [IMG] * 11})
    assert _paths(info.value) == ["$.image_urls"]


def test_validate_reports_nested_item_paths_dialogue() -> None:
    example = CATALOG.input_schema("cliprise", "elevenlabs-v3-dialogue", "dialogue")["examples"][0]
    voice = example["dialogue"][0]["voice"]
    with pytest.raises(InvalidInputError) as info:
        CATALOG.validate("cliprise", "elevenlabs-v3-dialogue", "dialogue",
                         {"dialogue": [{"text": "Hi", "voice": voice}, {"text": "Yo"},
                                       {"text": 3, "voice": "not-a-voice", "speed": 2}],
                          "stability": 0.3})
    assert _paths(info.value) == ["$.dialogue[1].voice", "$.dialogue[2].speed", "$.dialogue[2].text",
                                  "$.dialogue[2].voice", "$.stability"]


def test_validate_refuses_non_object_input() -> None:
    with pytest.raises(InvalidInputError) as info:
        CATALOG.validate("cliprise", "nano-banana", "text-to-image", ["a fox"])  # type: ignore[arg-type]
    assert _paths(info.value) == ["$"]


def test_unknown_parameters_are_refused_listing_each() -> None:
    with pytest.raises(UnsupportedParameterError) as info:
        CATALOG.validate("cliprise", "nano-banana", "text-to-image", {"prompt": "p", "steps": 4, "guidance": 2})
    assert info.value.code == "unsupported_parameter"
    assert _paths(info.value) == ["$.guidance", "$.steps"]
    assert "'steps'" in info.value.message and "'guidance'" in info.value.message


def test_unknown_parameters_are_refused_along_with_other_violations() -> None:
    with pytest.raises(UnsupportedParameterError) as info:
        CATALOG.validate("cliprise", "nano-banana", "text-to-image", {"steps": 4})
    assert _paths(info.value) == ["$.prompt", "$.steps"]


def test_warn_policy_drops_unknown_parameters_with_warnings() -> None:
    [resolved] = CATALOG.resolve(GenerationRequest(
        provider="cliprise", model="nano-banana", task="text-to-image",
        input={"prompt": "p", "steps": 4, "guidance": 2}, unsupported="warn"))
    assert resolved.input == {"prompt": "p"}
    assert len(resolved.warnings) == 2
    assert [(w.code, w.parameter) for w in resolved.warnings] == [("unsupported_parameter", "steps"),
                                                                  ("unsupported_parameter", "guidance")]
    assert "'steps'" in str(resolved.warnings[0])


def test_warn_policy_still_refuses_invalid_values() -> None:
    with pytest.raises(InvalidInputError) as info:
        CATALOG.resolve(GenerationRequest(provider="cliprise", model="nano-banana", task="text-to-image",
                                          input={"prompt": 1, "steps": 4}, unsupported="warn"))
    assert not isinstance(info.value, UnsupportedParameterError)
    assert _paths(info.value) == ["$.prompt"]


def test_warn_policy_with_task_inference() -> None:
    [resolved] = CATALOG.resolve(GenerationRequest(
        provider="cliprise", model="nano-banana", input={"prompt": "p", "image_urls": [IMG], "steps": 4},
        unsupported="warn"))
    assert resolved.task.name == "image-to-image"
    assert resolved.input == {"prompt": "p", "image_urls": [IMG]}
    assert len(resolved.warnings) == 1


def test_unknown_parameter_is_named_even_without_a_task() -> None:
    with pytest.raises(UnsupportedParameterError) as info:
        CATALOG.validate("cliprise", "nano-banana", None, {"prompt": "p", "steps": 4})
    assert _paths(info.value) == ["$.steps"]


# -- task inference ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("provider", "model", "given", "task"),
    [
        ("cliprise", "nano-banana", {"prompt": "p"}, "text-to-image"),
        ("cliprise", "nano-banana", {"prompt": "p", "image_urls": [IMG]}, "image-to-image"),
        ("cliprise", "veo-3-fast", {"prompt": "p"}, "text-to-video"),
        ("cliprise", "veo-3-fast", {"prompt": "p", "first_frame_url": IMG, "last_frame_url": IMG2}, "frames-to-video"),
        ("cliprise", "veo-3-fast", {"prompt": "p", "image_urls": [IMG]}, "reference-to-video"),
        ("cliprise", "wan-2-5", {"prompt": "p", "image_urls": [IMG], "duration": 5, "resolution": "720p"},
         "image-to-video"),
        ("cliprise", "flux-kontext", {"prompt": "p", "tier": "flux-kontext-max"}, "text-to-image"),
        ("clipia", "seedance-2-fast-i2v", {}, "image-to-video"),
    ],
    ids=["nano-text", "nano-image", "veo-text", "veo-frames", "veo-reference", "wan-image", "flux-tier",
         "single-task"],
)
def test_task_is_inferred_when_unambiguous(provider: str, model: str, given: dict[str, object], task: str) -> None:
    assert CATALOG.resolve_task(provider, model, given) == task


def test_inferred_task_is_used_by_validate() -> None:
    out = CATALOG.validate("cliprise", "veo-3-fast", None,
                           {"prompt": "p", "first_frame_url": IMG, "last_frame_url": IMG2})
    assert out["first_frame_url"] == IMG


def test_inference_picks_the_only_task_taking_the_input_and_names_what_is_missing() -> None:
    with pytest.raises(InvalidInputError) as info:
        CATALOG.validate("cliprise", "veo-3-fast", None, {"prompt": "p", "first_frame_url": IMG})
    assert info.value.code == "invalid_input"
    assert [v.path for v in info.value.violations] == ["$.last_frame_url"]


@pytest.mark.parametrize(
    "given",
    [{"first_frame_url": IMG, "last_frame_url": IMG2, "image_urls": [IMG]}, {}],
    ids=["frames-and-references", "empty"],
)
def test_impossible_or_ambiguous_input_needs_a_task(given: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError) as info:
        CATALOG.validate("cliprise", "veo-3-fast", None, given)
    assert info.value.code == "ambiguous_task"
    assert "frames-to-video" in str(info.value)


def test_an_explicit_task_wins_over_inference() -> None:
    with pytest.raises(UnsupportedParameterError):
        CATALOG.validate("cliprise", "nano-banana", "text-to-image", {"prompt": "p", "image_urls": [IMG]})


# -- families -------------------------------------------------------------------------------------------------------

def test_family_request_resolves_to_the_providers_offering_it() -> None:
    resolved = CATALOG.resolve(GenerationRequest(family="nano-banana-2", input={"prompt": "p"}))
    assert [(r.spec.provider, r.spec.id, r.task.name) for r in resolved] == [
        ("clipia", "nano-banana-2", "text-to-image"), ("cliprise", "nano-banana-2", "text-to-image")]


def test_family_request_follows_the_given_provider_order() -> None:
    resolved = CATALOG.resolve(GenerationRequest(family="nano-banana-2", input={"prompt": "p"}),
                               providers=["cliprise", "clipia"])
    assert [r.spec.provider for r in resolved] == ["cliprise", "clipia"]


def test_plan_is_each_resolved_candidate_with_its_providers_envelope() -> None:
    # the one call submit planning makes
    request = GenerationRequest(family="nano-banana-2", input={"prompt": "p"})
    planned = CATALOG.plan(request, providers=["cliprise", "clipia"])
    assert [(r.spec.provider, r.input, envelope) for r, envelope in planned] == [
        (r.spec.provider, r.input, CATALOG.envelope(r.spec.provider))
        for r in CATALOG.resolve(request, providers=["cliprise", "clipia"])]
    assert len(planned) == 2


def test_family_request_picks_the_member_whose_task_fits() -> None:
    text = CATALOG.resolve(GenerationRequest(family="seedance-2-fast", input={"prompt": "p"}))
    image = CATALOG.resolve(GenerationRequest(family="seedance-2-fast", input={"image_urls": [IMG]}))
    # Cliprise's member takes the family input too: families.yaml fills what it requires
    assert [(r.spec.id, r.task.name) for r in text] == [("seedance-2-fast-t2v", "text-to-video"),
                                                        ("seedance-2-fast", "text-to-video")]
    assert [(r.spec.id, r.task.name) for r in image] == [("seedance-2-fast-i2v", "image-to-video")]
    assert image[0].input["duration"] == 4


def test_family_request_with_explicit_task() -> None:
    resolved = CATALOG.resolve(GenerationRequest(family="seedance-2-fast", task="image-to-video",
                                                 input={"image_urls": [IMG], "prompt": "p"}))
    assert [r.spec.id for r in resolved] == ["seedance-2-fast-i2v"]


def test_family_request_raises_when_no_member_takes_the_input() -> None:
    with pytest.raises(InvalidInputError):
        CATALOG.resolve(GenerationRequest(family="nano-banana-2", input={"prompt": 3}))


def test_unknown_family_is_not_found() -> None:
    with pytest.raises(NotFoundError) as info:
        CATALOG.resolve(GenerationRequest(family="no-such-family", input={"prompt": "p"}))
    assert info.value.code == "unknown_family"


def test_family_request_limited_to_providers() -> None:
    resolved = CATALOG.resolve(GenerationRequest(family="nano-banana-2", input={"prompt": "p"}),
                               providers=["clipia"])
    assert [r.spec.provider for r in resolved] == ["clipia"]
    with pytest.raises(NotFoundError):
        CATALOG.resolve(GenerationRequest(family="nano-banana-2", input={"prompt": "p"}), providers=["acme"])


# -- loading a maintainer's directory ----------------------------------------------------------------------------------

NEW_MODEL = """\
id: brand-new
name: Brand New
kind: image
output: {kind: image}
tasks:
  text-to-image:
    params:
      prompt: {type: string, required: true, max_length: 10}
"""


def _own_catalog(tmp_path: Path) -> Path:
    (tmp_path / "cliprise").mkdir()
    (tmp_path / "cliprise" / "brand-new.yaml").write_text(NEW_MODEL, encoding="utf-8")
    src, _ = bundled_paths()
    text = (src / "cliprise" / "nano-banana.yaml").read_text(encoding="utf-8")
    assert text.count("max_length: 5000") == 1
    (tmp_path / "cliprise" / "nano-banana.yaml").write_text(text.replace("max_length: 5000", "max_length: 20"),
                                                            encoding="utf-8")
    return tmp_path


def test_load_merges_over_the_bundled_catalog(tmp_path: Path) -> None:
    catalog = Catalog.load(_own_catalog(tmp_path))
    ids = {(m.provider, m.id) for m in catalog.models()}
    assert ids == {(m.provider, m.id) for m in CATALOG.models()} | {("cliprise", "brand-new")}
    with pytest.raises(InvalidInputError):  # the override's limit applies
        catalog.validate("cliprise", "nano-banana", "text-to-image", {"prompt": "x" * 21})
    assert catalog.validate("cliprise", "brand-new", "text-to-image", {"prompt": "fox"}) == {"prompt": "fox"}
    # untouched bundled models still validate, from the bundled schemas
    assert catalog.validate("cliprise", "wan-2-5", "text-to-video",
                            {"prompt": "p", "duration": 5, "resolution": "720p"})["duration"] == 5


def test_load_does_not_change_the_default_catalog(tmp_path: Path) -> None:
    Catalog.load(_own_catalog(tmp_path))
    CATALOG.validate("cliprise", "nano-banana", "text-to-image", {"prompt": "x" * 21})
    with pytest.raises(NotFoundError):
        CATALOG.get("cliprise", "brand-new")


def test_load_without_merge_stands_alone(tmp_path: Path) -> None:
    catalog = Catalog.load(_own_catalog(tmp_path), merge=False)
    assert {(m.provider, m.id) for m in catalog.models()} == {("cliprise", "brand-new"), ("cliprise", "nano-banana")}
    with pytest.raises(NotFoundError):
        catalog.get("clipia", "nano-banana-2")


def test_load_of_a_full_copy_equals_the_default(tmp_path: Path) -> None:
    src, _ = bundled_paths()
    shutil.copytree(src, tmp_path / "catalog")
    catalog = Catalog.load(tmp_path / "catalog", merge=False)
    assert [m.key for m in catalog.models()] == [m.key for m in CATALOG.models()]
    for key in ALL_TASKS:
        assert catalog.input_schema(*key) == CATALOG.input_schema(*key)
        assert catalog.wire_schema(*key) == CATALOG.wire_schema(*key)


# -- validator caching ---------------------------------------------------------------------------------

def test_the_bundled_catalog_reads_a_provider_model_list_on_its_first_lookup() -> None:
    fresh = _default_catalog.__wrapped__()
    every = set(CATALOG.providers)
    assert set(fresh._unread) == every
    assert fresh.get("clipia", "nano-banana-2").provider == "clipia"
    assert set(fresh._unread) == every - {"clipia"}
    with pytest.raises(NotFoundError, match="did you mean veo-3-fast"):
        fresh.get("cliprise", "veo-3-fst")
    assert set(fresh._unread) == every - {"clipia", "cliprise"}


def test_a_catalog_read_per_provider_lists_models_in_index_order() -> None:
    fresh = _default_catalog.__wrapped__()
    fresh.get("cliprise", "veo-3-fast")  # the second provider read first
    assert [m.key for m in fresh.models()] == [m.key for m in CATALOG.models()]
    assert [m.provider for m in fresh.models()] == sorted(m.provider for m in fresh.models())
    assert fresh.families().keys() == CATALOG.families().keys()


def test_validators_are_compiled_lazily() -> None:
    fresh = _default_catalog.__wrapped__()  # the bundled catalog, not the shared instance
    assert fresh._validators == {}
    fresh.validate("cliprise", "nano-banana", "text-to-image", {"prompt": "p"})
    assert list(fresh._validators) == [("cliprise", "nano-banana", "text-to-image")]


def test_validators_are_cached() -> None:
    CATALOG.validate("cliprise", "wan-2-5", "image-to-video",
                     {"prompt": "p", "duration": 5, "resolution": "720p", "image_urls": [IMG]})
    first = CATALOG._validator("cliprise", "wan-2-5", "image-to-video")
    CATALOG.validate("cliprise", "wan-2-5", "image-to-video",
                     {"prompt": "q", "duration": 10, "resolution": "1080p", "image_urls": [IMG]})
    assert CATALOG._validator("cliprise", "wan-2-5", "image-to-video") is first


def test_loaded_catalog_compiles_validators_lazily(tmp_path: Path) -> None:
    catalog = Catalog.load(_own_catalog(tmp_path))
    assert catalog._validators == {}


def test_a_long_enum_is_summarized_in_the_violation_message() -> None:
    with pytest.raises(InvalidInputError) as info:
        CATALOG.validate("cliprise", "elevenlabs-v3-dialogue", "dialogue",
                         {"dialogue": [{"text": "hi", "voice": "Adam"}]})
    [violation] = info.value.violations
    assert violation.path == "$.dialogue[0].voice"
    assert "is not one of the 68 allowed values" in violation.message
    assert len(violation.message) < 400
