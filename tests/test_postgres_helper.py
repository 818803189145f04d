"""The PostgreSQL helper shipped for users' tests: fixtures and a throwaway server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import run_pytest

from genwire.testing.postgres import PostgresServer, PostgresUnavailable, find_bin

USERS_TESTS = '''
from genwire import GenerationRequest
from genwire.ledger import open_ledger

REQUEST = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})


def test_writes_a_job(postgres_url):
    with open_ledger(postgres_url) as ledger:
        ledger.record_intent(REQUEST, provider="clipia", model="nano-banana-2", task="text-to-image",
                             idempotency_key="k1")
        assert ledger.counts() == {"submitting": 1}


def test_starts_from_an_empty_schema(postgres_url):
    with open_ledger(postgres_url) as ledger:
        assert ledger.counts() == {}
'''


def test_the_plugins_postgres_url_is_an_empty_schema_of_its_own(postgres_url: str) -> None:
    from genwire.ledger import open_ledger

    with open_ledger(postgres_url) as ledger:
        assert ledger.counts() == {}
    assert "search_path" in postgres_url


@pytest.mark.slow  # a pytest subprocess: seconds
def test_a_users_tests_get_a_fresh_schema_each_from_the_plugin(postgres_server_url: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "test_gateway_ledger.py").write_text(USERS_TESTS, encoding="utf-8")
    monkeypatch.setenv("GENWIRE_TEST_POSTGRES_URL", postgres_server_url)  # reuse this session's server
    proc = run_pytest(tmp_path, "-p", "no:asyncio")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


@pytest.mark.slow
def test_a_throwaway_server_starts_answers_and_is_removed() -> None:
    psycopg = pytest.importorskip("psycopg")
    if find_bin() is None and not os.environ.get("CI"):
        pytest.skip("no PostgreSQL server binaries")
    try:
        with PostgresServer() as pg:
            with psycopg.connect(pg.url) as conn:
                assert conn.execute("select 1").fetchone() == (1,)
            base = pg.base
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    assert not base.exists()
