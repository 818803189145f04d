"""Four gateway worker processes on one ledger (a SQLite file; a PostgreSQL database): each
submits its share, serves the webhook app, and reconciles, while the provider finishes
jobs on its own clock and every webhook is delivered twice, shuffled, to any worker.
Every job must end in its true final state (the fake's), each state applied once,
none lost, none charged twice. The default run has 24 jobs on SQLite; the slow one 2,000 on both."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from genwire.ledger import LedgerState, open_ledger
from genwire.testing import FakeClipia, FakeProviders
from genwire.testing.fakes import Delivery
from genwire.testing.server import FakeServer

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("worker.py")
HOOK = "https://gw.example.com/hooks"
WORKERS = 4


class Provider(threading.Thread):
    """The providers' side: jobs end on their own clock; each delivery goes out twice, in a
    shuffled order, to any worker; a 404 (job not recorded yet) is delivered again later."""

    def __init__(self, server: FakeServer, ports: list[int], seed: int) -> None:
        super().__init__(daemon=True)
        self.server, self.ports, self.rng = server, ports, random.Random(seed)
        self.stop = threading.Event()
        self.seen = dict.fromkeys(server.fakes.fakes, 0)
        self.pending: list[Delivery] = []
        self.codes: Counter[int] = Counter()
        self.failures: list[str] = []
        self.unanswered: dict[int, int] = {}
        self.retried = 0

    def _finish_some(self) -> None:
        for fake in self.server.fakes.fakes.values():
            with fake._lock:
                open_ids = [j.id for j in fake.jobs.values() if not j.done]
            for job_id in self.rng.sample(open_ids, min(len(open_ids), 5)):
                fake.finish(job_id)

    def _collect(self) -> None:
        for name, fake in self.server.fakes.fakes.items():
            with fake._lock:
                new = fake.deliveries[self.seen[name]:]
                self.seen[name] += len(new)
            self.pending += new * 2

    def _post(self, http: httpx.Client, delivery: Delivery) -> bool:
        url = f"http://127.0.0.1:{self.rng.choice(self.ports)}/hooks" + delivery.url[len(HOOK):]
        try:
            status = http.post(url, content=delivery.body, headers=dict(delivery.headers)).status_code
        except httpx.HTTPError as exc:
            # no answer (a loaded machine): sent again later, as a provider retries, a few times
            self.unanswered[id(delivery)] = tries = self.unanswered.get(id(delivery), 0) + 1
            self.retried += 1
            if tries < 5:
                return False
            self.failures.append(repr(exc))
            return True
        self.codes[status] += 1
        if status >= 500 or status in (400, 401):
            self.failures.append(f"{status} for {delivery.url}")
        return status != 404

    def drained(self) -> bool:
        self._collect()
        return not self.pending

    def run(self) -> None:
        with httpx.Client(timeout=30) as http:
            while not self.stop.is_set():
                self._finish_some()
                self._collect()
                batch, self.pending = self.pending, []
                self.rng.shuffle(batch)
                self.pending += [d for d in batch if not self._post(http, d)]
                time.sleep(0.01)


def _scale(db: str, total: int, seed: int = 12) -> dict[str, Any]:
    with FakeServer(FakeProviders(clipia=FakeClipia(credits=1e9))) as server:
        for fake in server.fakes.fakes.values():
            fake.script_outcome("fail", times=max(1, total // 20))
        server.fakes.clipia.script_outcome("cancel", times=max(1, total // 40))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        started = time.monotonic()
        workers = [subprocess.Popen(
            [sys.executable, str(WORKER), "scale", json.dumps({
                "db": db, "api_keys": server.api_keys, "base_urls": server.base_urls, "index": i,
                "count": total // WORKERS, "webhook_secrets": server.webhook_secrets})],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT) for i in range(WORKERS)]
        try:
            ports = [int(_line(w, "PORT")) for w in workers]
            provider = Provider(server, ports, seed)
            provider.start()
            for w in workers:
                _line(w, "SUBMITTED")
            for w in workers:
                _line(w, "IDLE")
            deadline = time.monotonic() + 120
            while not provider.drained() and time.monotonic() < deadline:
                time.sleep(0.1)
            provider.stop.set()
            provider.join(60)
            done = []
            for w in workers:
                assert w.stdin is not None
                w.stdin.write("stop\n")
                w.stdin.flush()
                done.append(json.loads(_line(w, "DONE")))
        finally:
            for w in workers:
                if w.poll() is None:
                    w.kill()
                w.wait(30)
                for pipe in (w.stdin, w.stdout):
                    if pipe is not None:
                        pipe.close()
        elapsed = time.monotonic() - started
        return _count(db, server, done, provider, total, elapsed)


def _line(worker: subprocess.Popen[str], tag: str) -> str:
    assert worker.stdout is not None
    line = worker.stdout.readline().strip()
    assert line.startswith(tag), f"expected {tag}, got {line!r}"
    return line[len(tag):].strip()


def _count(db: str, server: FakeServer, done: list[dict[str, int]], provider: Provider, total: int,
           elapsed: float) -> dict[str, Any]:
    truth = {(name, job.id): job.status.value for name, fake in server.fakes.fakes.items()
             for job in fake.jobs.values()}
    with open_ledger(db) as ledger:
        entries = ledger.entries()
        events = ledger.events()
    recorded = {(e.provider, e.provider_id): e for e in entries if e.provider_id}
    by_ref: dict[str, list[LedgerState]] = {}
    for event in events:
        by_ref.setdefault(event.ref, []).append(event.state)
    backwards = sum(1 for states in by_ref.values()
                    if [s.rank for s in states] != sorted(s.rank for s in states) or len(set(states)) != len(states))
    charged = sum(server.stats()[name]["charged"] for name in server.fakes.fakes)
    wrong = [(key, e.state.value, truth.get(key)) for key, e in recorded.items() if e.state.value != truth.get(key)]
    if wrong:
        print("wrong final states:", wrong[:5])
    return {
        "jobs": total, "entries": len(entries), "elapsed_s": round(elapsed, 1),
        "lost": len(set(truth) - set(recorded)),
        "duplicate_charges": charged - len(set(truth) & set(recorded)),
        "wrong_final_state": sum(1 for key, e in recorded.items() if e.state.value != truth.get(key)),
        "not_final": sum(1 for e in entries if not e.done),
        "double_applies": sum(n - 1 for n in Counter((ev.ref, ev.state) for ev in events).values()) + backwards,
        "terminal_events": sum(1 for ev in events if ev.state.is_terminal),
        "outcomes": dict(Counter(e.state.value for e in entries)),
        "webhook_posts": dict(provider.codes), "webhook_failures": len(provider.failures),
        "webhook_failure_samples": provider.failures[:3], "webhook_posts_unanswered": provider.retried,
        "worker_errors": sum(d["failed_submits"] + d["reconcile_errors"] + d["app_errors"] for d in done),
    }


def _check(counts: dict[str, Any]) -> None:
    print("\nscale:", json.dumps(counts))
    zero = ("lost", "duplicate_charges", "wrong_final_state", "not_final", "double_applies", "webhook_failures",
            "worker_errors")
    assert {k: counts[k] for k in zero} == dict.fromkeys(zero, 0)
    assert counts["entries"] == counts["terminal_events"] == counts["jobs"]
    assert counts["webhook_posts"].get(204, 0) + counts["webhook_posts"].get(202, 0) > 0


def test_four_workers_settle_24_jobs_on_one_sqlite_file_exactly_once(tmp_path: Path) -> None:
    _check(_scale(f"sqlite:///{tmp_path}/jobs.db", 24))  # the quick version; the slow one runs both databases


@pytest.mark.slow
def test_four_workers_settle_2000_jobs_exactly_once(ledger_url: str) -> None:
    _check(_scale(ledger_url, 2000))
