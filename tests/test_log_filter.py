"""The redacting log filter sits on the loggers exactly while an owner of secrets lives."""

from __future__ import annotations

import gc
import logging

import pytest

from genwire._util.logfilter import LOGGER_NAMES, RedactingFilter


class _Owner:
    """Stands for a client: the filter keeps its secrets while it lives."""


def _on_loggers(f: RedactingFilter) -> set[str]:
    return {name for name in LOGGER_NAMES if f in logging.getLogger(name).filters}


def test_secrets_are_masked_while_their_owner_lives(caplog: pytest.LogCaptureFixture) -> None:
    f = RedactingFilter()
    owner = _Owner()
    f.register(owner, ["sk_live_0123456789"])
    try:
        caplog.set_level(logging.DEBUG, logger="httpx")
        logging.getLogger("httpx").debug("GET https://x.test/?key=%s", "sk_live_0123456789")
        assert "sk_live_0123456789" not in caplog.text and "***" in caplog.text
    finally:
        del owner
        gc.collect()


def test_the_filter_leaves_the_loggers_with_its_last_owner_and_returns_with_the_next() -> None:
    f = RedactingFilter()
    first, second = _Owner(), _Owner()
    f.register(first, ["sk_live_first000"])
    f.register(second, ["sk_live_second00"])
    assert _on_loggers(f) == set(LOGGER_NAMES)
    del first
    gc.collect()
    assert _on_loggers(f) == set(LOGGER_NAMES)  # the second owner's secrets still need it
    del second
    gc.collect()
    # nothing left to mask: off the loggers (at exit too, so logging keeps no genwire module alive)
    assert _on_loggers(f) == set()
    third = _Owner()
    f.register(third, ["sk_live_third000"])
    assert _on_loggers(f) == set(LOGGER_NAMES)
    del third
    gc.collect()
    assert _on_loggers(f) == set()
