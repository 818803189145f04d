"""The job ledger's cost: overhead per submit, and jobs/s on SQLite and PostgreSQL with 1 and 4 workers.

    python bench/bench_ledger.py [--size tiny|full] [--postgres URL]

1. Overhead per submit: ``Client.submit`` against the in-process fake providers (no
   sockets, so the ledger's writes are the only I/O), without a ledger and with one on
   SQLite (``synchronous=full``, the default, and ``normal``) and on PostgreSQL (loopback).
   Candidates run in interleaved rounds; figures are medians, ratios to no ledger.
2. Throughput: the fake providers on a loopback socket in their own process (as ``genwire
   fake-server --steps 1``, with credits for any number of jobs), then 1 or 4
   worker processes sharing one ledger, each submitting its share of ``--jobs`` through
   ``Client(ledger=...)`` and reconciling until no job is open. jobs/s = jobs / wall time
   from the workers' start to the last one done; the no-ledger row runs the same work with
   ``client.wait`` instead of reconcile.

3. Sequential per job: ``client.run`` (submit, then read the result) one job at a time through
   the same server with ``--steps 0`` (jobs end at once: no poll sleep), interleaved rounds of no
   ledger, SQLite (full durability) and PostgreSQL in one process; ratios per round.
4. Concurrent: 64 ``AsyncClient.run`` at a time through the same server; jobs/s per round.

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

from _harness import Row, machine, print_rows  # noqa: E402

from genwire import AsyncClient, Client, GenerationRequest, PollPolicy, RetryPolicy  # noqa: E402
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
    with _Server(1) as server:
        if db:
            open_ledger(db).close()  # the schema, before the clock starts
        config = {**server.announced, "db": db, "count": jobs // workers}
        start = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, __file__, "--worker", json.dumps(config)], cwd=ROOT)
                 for _ in range(workers)]
        for p in procs:
            if p.wait() != 0:
                raise SystemExit("a worker failed")
        return jobs / (time.perf_counter() - start)


def serve_fakes(steps: int) -> None:
    """The fake providers on a loopback socket (as ``genwire fake-server``), with credits for any
    number of jobs and no request log; prints the announcement line, serves until killed."""
    from genwire.testing import FakeCliprise, FakeServer

    fakes = FakeProviders(clipia=FakeClipia(steps=steps, credits=1e12), cliprise=FakeCliprise(steps=steps))
    with FakeServer(fakes) as server:
        print(json.dumps(server.announcement()), flush=True)
        threading.Event().wait()


class _Server:
    """``serve_fakes`` in its own process, for the duration of a ``with``."""

    def __init__(self, steps: int) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve-fakes", str(steps)], cwd=ROOT,
                                     stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        self.announced: dict[str, object] = json.loads(self.proc.stdout.readline())

    def __enter__(self) -> _Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _ledger_urls(pg_server: str, tmp: Path, tag: str) -> dict[str, str | None]:
    return {"none": None, "sqlite": f"sqlite:///{tmp}/{tag}.db", "postgresql": _fresh_schema(pg_server)}


def sequential(pg_server: str, rounds: int, jobs: int) -> dict[str, list[float]]:
    """Seconds per job (submit + result) per round, candidates interleaved."""
    tmp = Path(tempfile.mkdtemp(prefix="genwire-bench-"))
    with _Server(0) as server:
        clients = {name: Client(api_keys=server.announced["api_keys"],  # type: ignore[arg-type]
                                base_urls=server.announced["base_urls"],  # type: ignore[arg-type]
                                ledger=open_ledger(url) if url else None)
                   for name, url in _ledger_urls(pg_server, tmp, "seq").items()}
        for client in clients.values():
            for _ in range(3):
                client.run(REQUEST, timeout=60)
        per_job: dict[str, list[float]] = {name: [] for name in clients}
        order = list(clients)
        for r in range(rounds):
            for name in order[r % len(order):] + order[: r % len(order)]:
                start = time.perf_counter()
                for _ in range(jobs):
                    clients[name].run(REQUEST, timeout=60)
                per_job[name].append((time.perf_counter() - start) / jobs)
        for client in clients.values():
            ledger = client.ledger
            client.close()
            if ledger is not None:
                ledger.close()
    return per_job


def concurrent(pg_server: str, rounds: int, jobs: int, width: int = 64) -> dict[str, list[float]]:
    """Jobs/s per round with ``width`` ``AsyncClient.run`` in flight, candidates interleaved."""
    import asyncio

    tmp = Path(tempfile.mkdtemp(prefix="genwire-bench-"))

    async def drive(client: AsyncClient, count: int) -> float:
        gate = asyncio.Semaphore(width)

        async def one() -> None:
            async with gate:
                await client.run(REQUEST, timeout=120)

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        return count / (time.perf_counter() - start)

    async def main(server: _Server) -> dict[str, list[float]]:
        clients = {name: AsyncClient(api_keys=server.announced["api_keys"],  # type: ignore[arg-type]
                                     base_urls=server.announced["base_urls"],  # type: ignore[arg-type]
                                     ledger=open_ledger(url) if url else None, max_connections=width)
                   for name, url in _ledger_urls(pg_server, tmp, "conc").items()}
        for client in clients.values():
            await drive(client, min(jobs, width))
        rates: dict[str, list[float]] = {name: [] for name in clients}
        order = list(clients)
        for r in range(rounds):
            for name in order[r % len(order):] + order[: r % len(order)]:
                rates[name].append(await drive(clients[name], jobs))
        for client in clients.values():
            ledger = client.ledger
            await client.aclose()
            if ledger is not None:
                ledger.close()
        return rates

    with _Server(0) as server:
        return asyncio.run(main(server))


#: (sequential rounds, jobs per round, concurrent rounds, jobs per round, worker jobs, overhead rounds, batch)
SIZES = {"tiny": (1, 5, 1, 16, 16, 1, 5), "full": (7, 40, 5, 512, 400, 5, 200)}


def rows(size: str, postgres: str | None = None) -> list[Row]:
    seq_rounds, seq_jobs, conc_rounds, conc_jobs, worker_jobs, _, _ = SIZES[size]
    pg, stop = _postgres(postgres)
    found = []
    try:
        per_job = sequential(pg, seq_rounds, seq_jobs)
        for name, goal in (("sqlite", 1.5), ("postgresql", 2.0)):
            found.append(Row("ledger", "sequential submit + result per job, fake-server", f"{name} ledger",
                             "no ledger", [a / b for a, b in zip(per_job[name], per_job["none"], strict=True)], goal,
                             detail=f"{statistics.median(per_job[name]) * 1e3:.2f} / "
                                    f"{statistics.median(per_job['none']) * 1e3:.2f} ms"))
        rates = concurrent(pg, conc_rounds, conc_jobs)
        for name in ("sqlite", "postgresql"):
            found.append(Row("ledger", "64 concurrent AsyncClient.run, jobs/s", f"{name} ledger", "no ledger",
                             [a / b for a, b in zip(rates[name], rates["none"], strict=True)], 0.95, floor=True,
                             detail=f"{statistics.median(rates[name]):.0f} / {statistics.median(rates['none']):.0f}"))
        tmp = Path(tempfile.mkdtemp(prefix="genwire-bench-"))
        for workers in (1, 4):
            base = throughput(None, workers, worker_jobs)
            for name, db in (("sqlite", f"sqlite:///{tmp}/t{workers}.db"), ("postgresql", _fresh_schema(pg))):
                rate = throughput(db, workers, worker_jobs)
                found.append(Row("ledger", f"{workers} worker process(es), submit then settle, jobs/s",
                                 f"{name} ledger (reconcile)", "no ledger (client.wait)", [rate / base], 0.95,
                                 floor=True, detail=f"{rate:.0f} / {base:.0f}"))
    finally:
        stop()
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", choices=list(SIZES), default="full")
    parser.add_argument("--postgres")
    parser.add_argument("--worker")
    parser.add_argument("--serve-fakes", type=int)
    args = parser.parse_args()
    if args.serve_fakes is not None:
        serve_fakes(args.serve_fakes)
        return
    if args.worker:
        worker(json.loads(args.worker))
        return
    _, _, _, _, _, rounds, batch = SIZES[args.size]
    pg, stop = _postgres(args.postgres)
    try:
        print(f"# ledger bench ({machine()})")
        per_submit = overhead(pg, rounds, batch)
        base = per_submit.get("none", 1.0)
        print(f"\n## overhead per submit (in-process fakes, {rounds} rounds x {batch} submits, medians)")
        print("| ledger | µs/submit | ratio to no ledger |\n|---|---:|---:|")
        for name, seconds in per_submit.items():
            print(f"| {name} | {seconds * 1e6:.0f} | {seconds / base:.2f}x |")
    finally:
        stop()
    print()
    print_rows(rows(args.size, args.postgres))


if __name__ == "__main__":
    main()
