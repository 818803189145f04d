"""Helpers shared by the test modules: canned replies, a hand driver for policy flows, fixtures' YAML."""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

from genwire._policy import Send, Sleep
from genwire.adapters import WireResponse

__all__ = ["TTS_YAML", "Clock", "drive", "reply"]

# a priced audio model, for catalogs built in tests
TTS_YAML = """\
id: fake-tts
name: Fake TTS
kind: audio
output: {kind: audio, formats: [mp3]}
price: {credits: 3}
tasks:
  text-to-speech:
    description: Speak a text.
    params:
      prompt: {type: string, required: true, description: The text to speak.}
"""


def reply(status: int, body: Any, **headers: str) -> WireResponse:
    """A provider reply; ``body`` is JSON-encoded unless it is already bytes; ``retry_after=`` -> ``retry-after``."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return WireResponse(status, {k.lower().replace("_", "-"): v for k, v in headers.items()}, raw)


class Clock:
    """A clock that moves only when a flow sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def drive(flow: Generator[Any, Any, Any], replies: list[Any], clock: Clock | None = None) -> tuple[list[Any], Any]:
    """Run a flow, answering each Send with the next reply (or throwing it); sleeping advances ``clock``."""
    effects: list[Any] = []
    try:
        effect = next(flow)
        while True:
            effects.append(effect)
            if isinstance(effect, Send):
                answer = replies.pop(0)
                effect = flow.throw(answer) if isinstance(answer, Exception) else flow.send(answer)
            else:
                if isinstance(effect, Sleep) and clock is not None:
                    clock.now += effect.seconds
                effect = flow.send(None)
    except StopIteration as stop:
        return effects, stop.value
