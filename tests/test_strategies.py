"""genwire.testing.strategies: drawn from the catalog's parameter specs, on any current Hypothesis.

The per-model properties (everything valid is accepted and builds a wire-valid body,
everything invalid is refused at its path) are in test_properties.py; these pin what a
test author sees: minimal shrinking, realistic values, reach, and the dependency set.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from genwire import Catalog, GenerationRequest, InvalidInputError
from genwire.testing.strategies import invalid_inputs, requests, valid_inputs, value_of

CATALOG = Catalog.default()
# find() without the explain phase (which traces every line run and costs ~10x here)
SEARCH = settings(max_examples=500, database=None, suppress_health_check=list(HealthCheck),
                  phases=(Phase.generate, Phase.shrink))
PROMPT_START = "a red fox running through snow"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def test_the_suite_runs_a_hypothesis_the_old_pin_excluded() -> None:
    # hypothesis-jsonschema broke on 6.170.10; genwire[testing] no longer caps Hypothesis, so a fresh
    # install (CI) gets the newest release and every strategy test here runs on it
    assert _version(importlib.metadata.version("hypothesis")) >= (6, 170, 10)


def test_the_testing_extra_has_no_upper_pin_and_no_hypothesis_jsonschema() -> None:
    requires = [r for r in importlib.metadata.requires("genwire") or [] if "testing" in r]
    assert not any("hypothesis-jsonschema" in r or "hypothesis_jsonschema" in r for r in requires)
    hypothesis = [r.split(";")[0] for r in requires if r.startswith("hypothesis")]
    assert hypothesis and "<" not in hypothesis[0], hypothesis


def test_importing_the_strategies_does_not_import_hypothesis_jsonschema() -> None:
    code = "import sys, genwire.testing.strategies; sys.exit('hypothesis_jsonschema' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize(("key", "minimal"), [
    (("cliprise", "veo-3-fast", "text-to-video"), {"prompt": PROMPT_START}),
    (("cliprise", "veo-3-fast", "frames-to-video"),
     {"prompt": PROMPT_START, "first_frame_url": "https://example.com/media/1.png",
      "last_frame_url": "https://example.com/media/1.png"}),
    (("clipia", "seedance-2-fast-i2v", "image-to-video"), {"image_urls": ["https://example.com/media/1.png"]}),
], ids=lambda v: "/".join(v) if isinstance(v, tuple) else "")
def test_valid_inputs_shrink_to_the_required_parameters_at_realistic_values(
        key: tuple[str, str, str], minimal: dict[str, Any]) -> None:
    assert find(valid_inputs(*key), lambda value: True, settings=SEARCH) == minimal


def test_a_nested_list_of_objects_shrinks_to_one_item_with_its_required_fields() -> None:
    found = find(valid_inputs("cliprise", "elevenlabs-v3-dialogue", "dialogue"), lambda value: True, settings=SEARCH)
    assert list(found) == ["dialogue"] and len(found["dialogue"]) == 1
    assert set(found["dialogue"][0]) == {"text", "voice"} and found["dialogue"][0]["text"] == PROMPT_START


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_prompts_are_never_empty_and_start_like_a_prompt(data: st.DataObject) -> None:
    value = data.draw(valid_inputs("cliprise", "veo-3-fast", "text-to-video"))
    assert value["prompt"].strip()
    assert value["prompt"].startswith((
        "a red fox running through snow", "a lighthouse on a cliff at dusk", "cinematic close-up", "watercolor",
        "slow camera pan to the left", "neon city street in the rain", "an old sailor telling a story",
        "soft morning light"))


@pytest.mark.parametrize("key", [
    ("cliprise", "flux-kontext", "image-to-image"),
    ("cliprise", "veo-3-fast", "frames-to-video"),
    ("cliprise", "elevenlabs-v3-dialogue", "dialogue"),
], ids="/".join)
def test_valid_inputs_reach_every_parameter_at_once(key: tuple[str, str, str]) -> None:
    accepted = CATALOG.task(*key).accepted
    # each optional parameter is in about half the draws: allow plenty before calling one unreachable
    found = find(valid_inputs(*key), lambda value: set(value) == accepted, settings=settings(SEARCH, max_examples=5000))
    assert CATALOG.validate(*key, found)


@pytest.mark.parametrize(("key", "path"), [
    (("cliprise", "flux-kontext", "image-to-image"), "$.tier"),
    (("cliprise", "flux-kontext", "image-to-image"), "$.image_urls"),
    (("cliprise", "flux-kontext", "image-to-image"), "$.image_urls[0]"),
    (("cliprise", "veo-3-fast", "frames-to-video"), "$.seed"),
    (("cliprise", "veo-3-fast", "frames-to-video"), "$.last_frame_url"),
    (("cliprise", "elevenlabs-v3-dialogue", "dialogue"), "$.dialogue[0].text"),
    (("cliprise", "elevenlabs-v3-dialogue", "dialogue"), "$.dialogue[0].voice"),
    (("cliprise", "elevenlabs-v3-dialogue", "dialogue"), "$.dialogue[0].unknown_field"),
    (("clipia", "seedance-2-fast-i2v", "image-to-video"), "$.duration"),
], ids=lambda v: "/".join(v) if isinstance(v, tuple) else v)
def test_invalid_inputs_reach_each_kind_of_mistake_and_name_its_path(key: tuple[str, str, str], path: str) -> None:
    bad, at = find(invalid_inputs(*key), lambda case: case[1] == path, settings=SEARCH)
    with pytest.raises(InvalidInputError) as info:
        CATALOG.validate(*key, bad)
    assert at in [v.path for v in info.value.violations]


def test_invalid_inputs_shrink_to_the_simplest_mistake() -> None:
    # a missing required parameter from the minimal input: nothing else in it
    assert find(invalid_inputs("cliprise", "veo-3-fast", "text-to-video"), lambda case: True,
                settings=SEARCH) == ({}, "$.prompt")


@pytest.mark.parametrize("spec", [
    {"type": "integer", "minimum": 10000, "maximum": 99999},
    {"type": "number", "minimum": 0.5, "maximum": 2},
    {"type": "number", "transform": "to_string", "minimum": 0, "maximum": 1},
    {"type": "string", "min_length": 40, "max_length": 45},
    {"type": "array", "items": {"type": "url"}, "min_items": 2, "max_items": 3},
    {"type": "object", "properties": {"a": {"type": "boolean", "required": True}, "b": {"type": "integer"}}},
], ids=lambda spec: spec["type"])
def test_value_of_keeps_within_the_spec(spec: dict[str, Any]) -> None:
    from jsonschema import Draft202012Validator

    from genwire.catalog._json_schema import param_schema

    validator = Draft202012Validator(param_schema(spec))

    @settings(max_examples=50, deadline=None, database=None)
    @given(value_of(spec))
    def check(value: Any) -> None:
        assert validator.is_valid(value), value
        if spec.get("transform") == "to_string":
            assert "e" not in str(value)

    check()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests(provider="clipia", kind="video"))
def test_requests_follow_the_provider_and_kind_filters(request: GenerationRequest) -> None:
    assert request.provider == "clipia" and request.model is not None and request.task is not None
    assert CATALOG.get("clipia", request.model).kind == "video"
    CATALOG.resolve(request)


def test_requests_refuse_a_filter_nothing_matches() -> None:
    with pytest.raises(ValueError, match="no model"):
        requests(provider="nobody")


def test_strategies_follow_a_given_catalog(tmp_path: Any) -> None:
    from support import TTS_YAML

    (tmp_path / "cliprise").mkdir()
    (tmp_path / "cliprise" / "fake-tts.yaml").write_text(TTS_YAML)
    catalog = Catalog.load(tmp_path)
    assert find(valid_inputs("cliprise", "fake-tts", "text-to-speech", catalog), lambda v: True,
                settings=SEARCH) == {"prompt": PROMPT_START}
    with pytest.raises(Exception, match="no model"):
        valid_inputs("cliprise", "fake-tts", "text-to-speech")
