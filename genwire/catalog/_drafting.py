"""Drafting catalog YAML from a provider's published parameters: normalized names and
values, and a deterministic YAML rendering. Shared by the maintainer importers in
``tools/`` and by the live catalog (``genwire catalog pull``), so both name things alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

__all__ = [
    "AUDIO_WIRES",
    "CANONICAL_SCALAR_TYPES",
    "DESCRIPTIONS",
    "IMAGE_WIRES",
    "MEDIA_PARAMS",
    "normalize_enum",
    "normalize_name",
    "render_yaml",
    "snake_case",
    "VIDEO_WIRES",
]

IMAGE_WIRES = {"image_urls", "input_urls", "image_input", "imageUrls", "image_url", "inputImage",
                "imageUrl", "image", "reference_image_urls", "referenceImage"}
VIDEO_WIRES = {"video_urls", "video_url", "videoUrl", "videoUrls", "reference_video_urls"}
AUDIO_WIRES = {"audio_urls", "audio_url", "audioUrl", "reference_audio_urls"}
# names outside the vocabulary that the catalog spells its own way
_OWN_NAMES = {"n_frames": "duration", "waterMark": "watermark", "speed": "speech_speed",
              "fixed_lens": "camera_fixed", "multi_prompt": "prompt"}

#: normalized names of media inputs (what decides between a text-to-X and an X-to-Y task)
MEDIA_PARAMS = frozenset({"image_urls", "video_urls", "audio_urls", "first_frame_url", "last_frame_url"})
#: canonical names whose type does not follow the wire type (frames are URLs, seconds are numbers)
CANONICAL_SCALAR_TYPES = {"first_frame_url": "url", "last_frame_url": "url", "seed": "integer", "duration": "number"}
_RATIO = re.compile(r"^\d+:\d+$")
_RESOLUTION = re.compile(r"^\d+[pPkK]$")


@cache
def _renames() -> dict[str, str]:
    """Wire name -> canonical name: the vocabulary's aliases (from the compiled index), then our own."""
    from ._catalog import Catalog

    vocab = Catalog.default()._index["vocabulary"]
    aliases = {alias: name for name, spec in vocab["params"].items() for alias in spec.get("aliases", ())
               if alias != name}
    return {**aliases, **_OWN_NAMES}


#: Our one-line descriptions of normalized parameters (never the provider's prose).
_DESCRIPTIONS = {
    "prompt": "Text prompt", "negative_prompt": "What to keep out of the output",
    "image_urls": "Input image URLs", "video_urls": "Input video URLs", "audio_urls": "Input audio URLs",
    "first_frame_url": "Image for the first frame", "last_frame_url": "Image for the last frame",
    "aspect_ratio": "Frame shape", "resolution": "Output size class", "duration": "Length in seconds",
    "seed": "Random seed", "output_format": "Output file format", "generate_audio": "Add a sound track",
    "image_size": "Named output size preset", "quality": "Quality level", "style": "Style preset",
    "rendering_speed": "Speed/quality trade-off", "acceleration": "Speed-up level",
    "guidance_scale": "Prompt adherence strength",
    "num_inference_steps": "Number of denoising steps", "watermark": "Watermark text",
    "enable_translation": "Translate the prompt to English first", "remove_watermark": "Remove the watermark",
    "enhance_prompt": "Let the model rewrite the prompt", "camera_fixed": "Keep the camera still",
    "enable_safety_checker": "Run the safety checker",
    "mode": "Generation mode",
    "character_orientation": "Take the character's orientation from the image or the video",
    "num_frames": "Number of frames", "frames_per_second": "Frame rate", "shift": "Sampling shift",
    "web_search": "Allow web search", "bgm": "Add background music", "kling_elements": "Referenced elements",
    "voice": "Voice name or id", "stability": "Voice stability", "speech_speed": "Speech speed",
    "similarity_boost": "Closeness to the original voice", "language_code": "Language code (empty: detect)",
    "tag_audio_events": "Tag non-speech events", "prompt_influence": "Prompt adherence strength",
    "loop": "Make the sound loop seamlessly", "dialogue": "Dialogue lines, each with text and voice",
}
DESCRIPTIONS = {k: f"{v}." for k, v in _DESCRIPTIONS.items()}

# --- names and values --------------------------------------------------------

def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def normalize_name(wire: str, values: Iterable[Any] = ()) -> str:
    """The normalized (canonical or snake_case) name of a wire parameter."""
    vals = [str(v) for v in values]
    if wire in IMAGE_WIRES:
        return "image_urls"
    if wire in VIDEO_WIRES:
        return "video_urls"
    if wire in AUDIO_WIRES:
        return "audio_urls"
    renames = _renames()
    if wire in renames:
        return renames[wire]
    if wire == "image_size" and vals and all(_RATIO.match(v) or v.lower() == "auto" for v in vals):
        return "aspect_ratio"
    if wire == "quality" and vals and all(_RESOLUTION.match(v) for v in vals):
        return "resolution"
    return snake_case(wire)


def normalize_enum(name: str, values: list[Any]) -> tuple[list[Any], dict[Any, Any]]:
    """Normalized enum and the wire_values map for the values that differ."""
    mapping: dict[Any, Any] = {}
    out: list[Any] = []
    for v in values:
        n = v
        if name == "aspect_ratio" and isinstance(v, str):
            n = {"auto": "auto", "adaptive": "auto", "portrait": "9:16", "landscape": "16:9"}.get(v.lower(), v)
        elif name == "resolution" and isinstance(v, str) and v.endswith("P"):
            n = v[:-1] + "p"
        elif name in ("duration", "seed") and isinstance(v, str) and re.fullmatch(r"\d+(\.\d+)?", v):
            n = json.loads(v)
        if n != v and name not in ("duration", "seed"):
            mapping[n] = v
        out.append(n)
    return out, mapping



# --- YAML rendering ----------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*(?: [A-Za-z0-9_./()'-]+)*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}
_WIDTH = 110
_STRUCTURAL = {"tasks", "params", "notes"}


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        plain = _PLAIN.match(value) and value.lower() not in _RESERVED
        return value if plain else json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar(k)}: {_scalar(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot render {type(value).__name__}")


def _wrapped(head: str, items: list[Any], pad: str) -> list[str]:
    """A long flow list over several lines."""
    lines, cur = [], head + " ["
    for i, item in enumerate(items):
        piece = _scalar(item) + ("]" if i == len(items) - 1 else ",")
        if len(cur) + len(piece) + 1 > _WIDTH and not cur.endswith("["):
            lines.append(cur)
            cur = pad + "    " + piece
        else:
            cur += ("" if cur.endswith("[") else " ") + piece
    return [*lines, cur]


def _emit(data: dict[str, Any], depth: int, path: tuple[str, ...],
          comments: dict[tuple[str, ...], str], out: list[str]) -> None:
    pad = "  " * depth
    for key, value in data.items():
        here = (*path, str(key))
        note = f"  # {comments[here]}" if here in comments else ""
        head = f"{pad}{_scalar(key)}:"
        line = f"{head} {_scalar(value)}"
        structural = (depth == 0 and key not in ("output", "price")) or key in _STRUCTURAL or path[-1:] == ("tasks",)
        if isinstance(value, dict) and value and (structural or len(line) > _WIDTH):
            out.append(head + note)
            _emit(value, depth + 1, here, comments, out)
        elif isinstance(value, list) and value and key == "notes":
            out.append(head + note)
            out.extend(f"{pad}  - {_scalar(v)}" for v in value)
        elif isinstance(value, list) and len(line) > _WIDTH and not any(isinstance(v, (dict, list)) for v in value):
            wrapped = _wrapped(head, value, pad)
            out.extend([wrapped[0] + note, *wrapped[1:]] if len(wrapped) > 1 else [wrapped[0] + note])
        else:
            out.append(line + note)


def render_yaml(data: dict[str, Any], comments: dict[tuple[str, ...], str] | None = None) -> str:
    """Deterministic YAML: block structure, flow style for what fits on a line."""
    import yaml  # only drafting needs it; kept off the client's import path

    out: list[str] = []
    _emit(data, 0, (), comments or {}, out)
    text = "\n".join(out) + "\n"
    if yaml.safe_load(text) != data:
        raise AssertionError("rendered YAML does not load back to the same data")
    return text
