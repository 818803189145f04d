"""Validated normalized input -> the provider's request body, for each known wire shape."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from genwire import Catalog
from genwire.catalog._translate import build_body

CATALOG = Catalog.default()
IMG = "https://example.com/in.png"
IMG2 = "https://example.com/end.png"
HOOK = "https://hooks.example.com/genwire"


def _body(provider: str, model: str, task: str, given: dict[str, Any], webhook: str | None = HOOK) -> dict[str, Any]:
    values = CATALOG.validate(provider, model, task, given)
    body = build_body(CATALOG.envelope(provider), CATALOG.task(provider, model, task), values, webhook)
    errors = [e.message for e in Draft202012Validator(CATALOG.wire_schema(provider, model, task)).iter_errors(body)]
    assert errors == [], "the body must satisfy the wire schema"
    return body


def test_clipia_nests_input_without_a_model_key() -> None:
    body = _body("clipia", "nano-banana-2", "text-to-image", {"prompt": "a fox"})
    assert body == {"input": {"prompt": "a fox"}, "webhook_url": HOOK}


def test_clipia_sends_defaults_explicitly() -> None:
    body = _body("clipia", "seedance-2-fast-t2v", "text-to-video", {"prompt": "a fox"})
    assert body == {"input": {"prompt": "a fox", "duration": 4, "resolution": "720p"}, "webhook_url": HOOK}


def test_cliprise_nests_input_with_model_and_callback() -> None:
    body = _body("cliprise", "nano-banana", "text-to-image", {"prompt": "a fox", "aspect_ratio": "16:9"})
    assert body == {"model": "nano-banana", "callBackUrl": HOOK,
                    "input": {"prompt": "a fox", "image_size": "16:9"}}


def test_no_webhook_key_without_a_webhook() -> None:
    assert "callBackUrl" not in _body("cliprise", "nano-banana", "text-to-image", {"prompt": "p"}, webhook=None)
    assert "webhook_url" not in _body("clipia", "nano-banana-2", "text-to-image", {"prompt": "p"}, webhook=None)


def test_veo_is_top_level_with_generation_type() -> None:
    body = _body("cliprise", "veo-3-fast", "text-to-video", {"prompt": "a fox", "seed": 12345,
                                                             "enable_translation": False})
    assert body == {"model": "veo-3-fast", "callBackUrl": HOOK, "generationType": "TEXT_2_VIDEO",
                    "prompt": "a fox", "seeds": 12345, "enableTranslation": False}


@pytest.mark.parametrize(
    ("task", "extra", "generation_type"),
    [("frames-to-video", {"first_frame_url": IMG, "last_frame_url": IMG2}, "FIRST_AND_LAST_FRAMES_2_VIDEO"),
     ("reference-to-video", {"image_urls": [IMG, IMG2]}, "REFERENCE_2_VIDEO")],
)
def test_veo_variants_carry_their_discriminator(task: str, extra: dict[str, Any], generation_type: str) -> None:
    body = _body("cliprise", "veo-3-fast", task, {"prompt": "p", **extra})
    assert body["generationType"] == generation_type
    assert "input" not in body


def test_veo_frames_fill_image_urls_in_order() -> None:
    # given last before first: the wire list still follows the slot positions
    body = _body("cliprise", "veo-3-fast", "frames-to-video",
                 {"prompt": "p", "last_frame_url": IMG2, "first_frame_url": IMG})
    assert body["imageUrls"] == [IMG, IMG2]


def test_veo_reference_images_stay_a_list() -> None:
    body = _body("cliprise", "veo-3-fast", "reference-to-video", {"prompt": "p", "image_urls": [IMG]})
    assert body["imageUrls"] == [IMG]


def test_veo_auto_aspect_ratio_is_capitalized_on_the_wire() -> None:
    body = _body("cliprise", "veo-3-fast", "text-to-video", {"prompt": "p", "aspect_ratio": "auto"})
    assert body["aspectRatio"] == "Auto"


def test_veo_other_aspect_ratios_pass_unchanged() -> None:
    body = _body("cliprise", "veo-3-fast", "text-to-video", {"prompt": "p", "aspect_ratio": "9:16"})
    assert body["aspectRatio"] == "9:16"


@pytest.mark.parametrize("duration", [5, 10])
def test_wan_duration_is_sent_as_a_string(duration: int) -> None:
    body = _body("cliprise", "wan-2-5", "text-to-video", {"prompt": "p", "duration": duration, "resolution": "720p"})
    assert body["input"]["duration"] == str(duration)


def test_wan_single_image_is_unwrapped() -> None:
    body = _body("cliprise", "wan-2-5", "image-to-video",
                 {"prompt": "p", "duration": 5, "resolution": "720p", "image_urls": [IMG]})
    assert body["input"]["image_url"] == IMG
    assert "image_urls" not in body["input"]


def test_seedance_single_image_is_unwrapped() -> None:
    body = _body("clipia", "seedance-2-fast-i2v", "image-to-video", {"image_urls": [IMG]})
    assert body["input"]["image_url"] == IMG


def test_flux_single_image_goes_to_input_image() -> None:
    body = _body("cliprise", "flux-kontext", "image-to-image", {"prompt": "p", "image_urls": [IMG]})
    assert body["inputImage"] == IMG


def test_flux_tier_selects_the_wire_model() -> None:
    body = _body("cliprise", "flux-kontext", "text-to-image", {"prompt": "p", "tier": "flux-kontext-max"})
    assert body["model"] == "flux-kontext-max"
    assert "tier" not in body


def test_flux_default_tier_is_pro() -> None:
    assert _body("cliprise", "flux-kontext", "text-to-image", {"prompt": "p"})["model"] == "flux-kontext-pro"


def test_flux_wire_names_are_camel_case_at_top_level() -> None:
    body = _body("cliprise", "flux-kontext", "text-to-image",
                 {"prompt": "p", "output_format": "png", "aspect_ratio": "21:9", "enable_translation": True})
    assert body == {"model": "flux-kontext-pro", "callBackUrl": HOOK, "prompt": "p", "outputFormat": "png",
                    "aspectRatio": "21:9", "enableTranslation": True}


def test_nano_banana_keeps_a_list_of_images() -> None:
    body = _body("cliprise", "nano-banana", "image-to-image", {"prompt": "p", "image_urls": [IMG, IMG2]})
    assert body["input"]["image_urls"] == [IMG, IMG2]


def test_dialogue_items_are_sent_as_given() -> None:
    example = CATALOG.input_schema("cliprise", "elevenlabs-v3-dialogue", "dialogue")["examples"][0]
    first, second = (line["voice"] for line in example["dialogue"][:2])
    lines = [{"text": "Hello", "voice": first}, {"text": "Hi", "voice": second}]
    body = _body("cliprise", "elevenlabs-v3-dialogue", "dialogue", {"dialogue": lines, "stability": 0.5})
    assert body["input"] == {"dialogue": lines, "stability": 0.5}
