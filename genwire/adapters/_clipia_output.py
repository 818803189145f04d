"""Reading Clipia's result output (``images``, ``videos``, ``audios``...) into ``Media``, and the
number and URL readers its replies share. Part of ``clipia`` (kept apart for its size)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._util.redact import strip_query_secrets
from ..models import Media
from .base import finite_number

__all__ = ["parse_output"]  # and _integer, _number, _url for clipia

# output keys -> media kind; "audios" lists every track and repeats "audio" first
_OUTPUT_KEYS: tuple[tuple[str, str], ...] = (
    ("images", "image"), ("image", "image"), ("videos", "video"), ("video", "video"),
    ("audios", "audio"), ("audio", "audio"),
)

def _format_of(url: str, item: Mapping[str, Any]) -> str | None:
    fmt = item.get("format") or item.get("content_type")
    if isinstance(fmt, str) and fmt:
        return fmt.rsplit("/", 1)[-1]
    tail = url.split("?", 1)[0].rsplit("/", 1)[-1]
    return tail.rsplit(".", 1)[-1].lower() if "." in tail else None


def _number(value: Any) -> float | None:
    return finite_number(value)  # huge integers are unknown, not an OverflowError


def _integer(value: Any) -> int | None:
    """A whole number (``1024`` or ``1024.0``); anything else is unknown, not an error."""
    if type(value) is int:
        return value
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value)


def _url(value: Any) -> str | None:
    return strip_query_secrets(value) if isinstance(value, str) and value else None


def _media(item: Any, kind: str) -> Media | None:
    if not isinstance(item, Mapping) or not isinstance(item.get("url"), str):
        return None
    url = strip_query_secrets(item["url"])
    return Media(
        url=url, kind=kind,  # type: ignore[arg-type]
        format=_format_of(url, item),
        width=_integer(item.get("width")), height=_integer(item.get("height")),
        duration=_number(item.get("duration")),
    )


def parse_output(output: Any) -> tuple[Media, ...]:
    if not isinstance(output, Mapping):
        return ()
    found: list[Media] = []
    seen: set[str] = set()
    for key, kind in _OUTPUT_KEYS:
        value = output.get(key)
        for item in value if isinstance(value, list) else [value]:
            media = _media(item, kind)
            if media is not None and media.url not in seen:
                seen.add(media.url)
                found.append(media)
    return tuple(found)
