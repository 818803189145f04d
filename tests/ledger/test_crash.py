"""kill -9 a gateway worker at each step of a submit; restart (``genwire jobs reconcile`` in a
fresh process); count against the loopback fake server, which counts charges:
0 jobs lost, 0 duplicate charges, every job in its true final state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from genwire import Client
from genwire._client.checks import KEY_ENV_VARS as KEY_ENV
from genwire.adapters import ADAPTERS
from genwire.ledger import LedgerState, open_ledger
from genwire.testing.server import FakeServer

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("worker.py")
CASES = [(provider, step) for provider in ADAPTERS for step in ("before-post", "after-accept", "during-wait")]


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as srv:
        yield srv


def _env(server: FakeServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEY_ENV.values()}
    env.update({KEY_ENV[p]: key for p, key in server.api_keys.items()})
    env["PYTHONPATH"] = str(ROOT)
    return env


def _cli(server: FakeServer, *args: str) -> dict[str, Any]:
    base = [f"--base-url={p}={u}" for p, u in server.base_urls.items()] if args[0] == "reconcile" else []
    done = subprocess.run([sys.executable, "-m", "genwire", "jobs", *args, *base, "--json"], env=_env(server),
                          capture_output=True, text=True, timeout=120, cwd=ROOT, stdin=subprocess.DEVNULL,
                          check=False)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _kill_at(server: FakeServer, db: str, provider: str, step: str) -> None:
    config = {"db": db, "step": step, "provider": provider, "api_keys": server.api_keys,
              "base_urls": server.base_urls, "intent_lease": 0.5}
    worker = subprocess.Popen([sys.executable, str(WORKER), "crash", json.dumps(config)], env=_env(server),
                              stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, cwd=ROOT)
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == f"AT {step}"
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(30)
        if worker.stdout is not None:
            worker.stdout.close()
    time.sleep(0.6)  # the dead worker's intent lease runs out


def _reconcile_until_settled(server: FakeServer, db: str) -> None:
    """The restarted gateway: one `genwire jobs reconcile` process, then rounds in this one."""
    report = _cli(server, "reconcile", "--db", db, "--older-than", "0")
    assert report["errors"] == []
    with Client(api_keys=server.api_keys, base_urls=server.base_urls) as client, open_ledger(db) as ledger:
        for _ in range(8):
            again = ledger.reconcile(client, older_than=0)
            assert again.errors == []
            if again.claimed == 0:
                return


def test_a_worker_killed_after_an_unrecorded_cliprise_acceptance_loses_nothing(tmp_path: Path,
                                                                             server: FakeServer) -> None:
    # the quick version: the case that needs an operator, on SQLite; the slow one runs every case on both
    _killed_and_restarted(f"sqlite:///{tmp_path}/jobs.db", server, "cliprise", "after-accept")


@pytest.mark.slow
@pytest.mark.parametrize(("provider", "step"), CASES)
def test_a_worker_killed_at_any_step_of_a_submit_loses_no_job_and_charges_once(
        ledger_url: str, server: FakeServer, provider: str, step: str) -> None:
    _killed_and_restarted(ledger_url, server, provider, step)


def _killed_and_restarted(ledger_url: str, server: FakeServer, provider: str, step: str) -> None:
    _kill_at(server, ledger_url, provider, step)
    _reconcile_until_settled(server, ledger_url)
    fake = server.fakes.fakes[provider]
    with open_ledger(ledger_url) as ledger:
        [entry] = ledger.entries()
        if not ADAPTERS[provider].submit_replay_safe and step == "after-accept":
            # sent, accepted, never recorded, no idempotency: an operator's call, never a resend
            assert entry.state is LedgerState.UNCERTAIN and "genwire jobs attach" in (entry.error or "")
            [task_id] = fake.jobs  # what the operator finds in the provider's dashboard
            _cli(server, "attach", entry.ref, task_id, "--db", ledger_url)
            _reconcile_until_settled(server, ledger_url)
        [entry] = ledger.entries()
        charged = server.stats()[provider]["charged"]
        recorded = {e.provider_id for e in ledger.entries() if e.provider_id}
        lost = len(set(fake.jobs) - recorded)
        assert (lost, charged - len(recorded), charged) == (0, 0, 1)
        assert entry.state.value == fake.jobs[entry.provider_id or ""].status.value == "succeeded"
        assert sorted(e.state.value for e in ledger.events(entry.ref)).count("succeeded") == 1
