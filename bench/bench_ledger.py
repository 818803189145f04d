"""The job ledger's cost: overhead per submit, and jobs/s on SQLite and PostgreSQL with 1 and 4 workers.

    python bench/bench_ledger.py [--rounds 5] [--batch 200] [--jobs 400] [--postgres URL]

1. Overhead per submit: ``Client.submit`` against the in-process fake providers (no
   sockets, so the ledger's writes are the only I/O), without a ledger and with one on
   SQLite (``synchronous=full``, the default, and ``normal``) and on PostgreSQL (loopback).
   Candidates run in interleaved rounds; figures are medians, ratios to no ledger.
2. Throughput: ``genwire fake-server`` in its own process (``--steps 1``), then 1 or 4
   worker processes sharing one ledger, each submitting its share of ``--jobs`` through
   ``Client(ledger=...)`` and reconciling until no job is open. jobs/s = jobs / wall time
   from the workers' start to the last one done; the no-ledger row runs the same work with
   ``client.wait`` instead of reconcile.

PostgreSQL: ``--postgres URL``, else ``$GENWIRE_TEST_POSTGRES_URL``, else a throwaway server
started like the tests do (genwire.testing.postgres).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _harness import machine  # noqa: E402

from genwire import Client, GenerationRequest, PollPolicy, RetryPolicy  # noqa: E402
from genwire.ledger import open_ledger  # noqa: E402
from genwire.testing import FakeClipia, FakeProviders  # noqa: E402

REQUEST = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})
FAST = PollPolicy(initial_interval=0.005, max_interval=0.02)


def _postgres(url: str | None) -> tuple[str, Callable[[], None]]:
    url = url or os.environ.get("GENWIRE_TEST_POSTGRES_URL")
    if url:
        return url, lambda: None
    from genwire.testing.postgres import start, stop

    base = Path(tempfile.mkdtemp(prefix="genwire-bench-pg-"))
    return start(base), lambda: stop(base)


def _fresh_schema(server: str) -> str:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in server else "?"
    return f"{server}{sep}options=-csearch_path%3D{schema}"


# -- 1. overhead per submit --------------------------------------------------------------------------

def overhead(pg_server: str, rounds: int, batch: int) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp(prefix="genwire-bench-"))
    urls = {"none": None, "sqlite": f"sqlite:///{tmp}/full.db", "sqlite (synchronous=normal)":
            f"sqlite:///{tmp}/normal.db?synchronous=normal", "postgresql": _fresh_schema(pg_server)}
    clients = {}
    for name, url in urls.items():
        ledger = open_ledger(url) if url else None
        clients[name] = FakeProviders(clipia=FakeClipia(credits=1e12)).client(ledger=ledger)
    for client in clients.values():  # warm up: catalog, validators, connections
        for _ in range(20):
            client.submit(REQUEST)
    times: dict[str, list[float]] = {name: [] for name in clients}
    order = list(clients)
    for r in range(rounds):
        for name in order[r % len(order):] + order[: r % len(order)]:
            client = clients[name]
            start = time.perf_counter()
            for _ in range(batch):
                client.submit(REQUEST)
            times[name].append((time.perf_counter() - start) / batch)
    for client in clients.values():
        client.close()
        if client.ledger is not None:
            client.ledger.close()
    return {name: statistics.median(t) for name, t in times.items()}


# -- 2. throughput with worker processes ------------------------------------------------------------------

def worker(config: dict[str, object]) -> None:
    base_urls, keys = config["base_urls"], config["api_keys"]
    db = config["db"]
    ledger = open_ledger(str(db)) if db else None
    with Client(api_keys=keys, base_urls=base_urls, ledger=ledger, poll=FAST,  # type: ignore[arg-type]
                retry=RetryPolicy(initial_delay=0.01, max_delay=0.05)) as client:
        jobs = [client.submit(REQUEST) for _ in range(int(config["count"]))]  # type: ignore[call-overload]
        if ledger is None:
            for job in jobs:
                client.wait(job, timeout=120)
        else:
            while any(ledger.counts().get(s, 0) for s in ("submitting", "queued", "running")):
                if not ledger.reconcile(client, older_than=0, limit=200, lease=30).claimed:
                    time.sleep(0.005)
            ledger.close()


def throughput(db: str | None, workers: int, jobs: int) -> float:
    server = subprocess.Popen([sys.executable, "-m", "genwire", "fake-server", "--steps", "1"], cwd=ROOT,
                              stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        announced = json.loads(server.stdout.readline())
        # it logs a line per request: keep reading, or a full pipe stalls it
        threading.Thread(target=lambda: [None for _ in server.stdout or ()], daemon=True).start()
        if db:
            open_ledger(db).close()  # the schema, before the clock starts
        config = {**announced, "db": db, "count": jobs // workers}
        start = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, __file__, "--worker", json.dumps(config)], cwd=ROOT)
                 for _ in range(workers)]
        for p in procs:
            if p.wait() != 0:
                raise SystemExit("a worker failed")
        return jobs / (time.perf_counter() - start)
    finally:
        server.terminate()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--postgres")
    parser.add_argument("--worker")
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    pg, stop = _postgres(args.postgres)
    try:
        print(f"# ledger bench ({machine()})")
        per_submit = overhead(pg, args.rounds, args.batch) if args.rounds else {}
        base = per_submit.get("none", 1.0)
        print(f"\n## overhead per submit (in-process fakes, {args.rounds} rounds x {args.batch} submits, medians)")
        print("| ledger | µs/submit | ratio to no ledger |\n|---|---:|---:|")
        for name, seconds in per_submit.items():
            print(f"| {name} | {seconds * 1e6:.0f} | {seconds / base:.2f}x |")
        print(f"\n## throughput ({args.jobs} jobs: submit, then settle; fake-server --steps 1 in its own process)")
        print("| ledger | workers | jobs/s |\n|---|---:|---:|")
        tmp = Path(tempfile.mkdtemp(prefix="genwire-bench-"))
        for name, make in (("none (client.wait)", lambda w: None),
                           ("sqlite", lambda w: f"sqlite:///{tmp}/t{w}.db"),
                           ("postgresql", lambda w: _fresh_schema(pg))):
            for w in (1, 4):
                print(f"| {name} | {w} | {throughput(make(w), w, args.jobs):.0f} |", flush=True)
    finally:
        stop()


if __name__ == "__main__":
    main()
