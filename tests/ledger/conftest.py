"""Ledger fixtures: every ledger test runs on SQLite and on a real PostgreSQL server.

PostgreSQL comes from the genwire pytest plugin's ``postgres_url`` fixture
(genwire.testing.postgres): GENWIRE_TEST_POSTGRES_URL (set by .ci/run) or a throwaway
server it starts. Locally the PostgreSQL half skips with the reason when none can be
had; in CI (CI=true) it fails instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from genwire.ledger import Ledger, open_ledger

BACKENDS = ("sqlite", "postgres")


@pytest.fixture(params=BACKENDS)
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/jobs.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    with open_ledger(ledger_url) as opened:
        yield opened
