"""The webhook receiver under load: ``genwire.asgi.WebhookApp`` against a bare ASGI endpoint, both
under uvicorn, 64 concurrent senders, on SQLite and PostgreSQL.

    python bench/bench_webhook.py [--size tiny|full] [--postgres URL]

Per round and database, for each candidate: N jobs are submitted through a ledger (genwire's
in-process fake Clipia), finished, and the fake's signed deliveries (``X-Clipia-Signature``,
the result as payload) are posted by 64 concurrent senders to the candidate running in its
own uvicorn process. Timed: the first pass (every delivery once): deliveries/s and p50/p99
latency per delivery. Then every delivery is posted again (duplicates, untimed) and the
outcome checked: every job applied once (one webhook transition per job in the ledger
history; the bare endpoint's table holds one row per delivery), none lost.

The bare endpoint does what a hand-written receiver must do at least: read the body, check
the same HMAC signature and its timestamp, read the request id and run one
``INSERT ... ON CONFLICT DO NOTHING`` in a worker thread (SQLite in WAL mode with
``synchronous=FULL``, as the ledger's default; PostgreSQL autocommit), answering 204.
Candidates alternate from round to round; ratios are per round (same jobs count, same senders).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _harness import Row, machine, print_rows  # noqa: E402

SENDERS = 64
#: (jobs per round, rounds) per size
SIZES = {"tiny": (24, 1), "full": (1500, 3)}
SECRET_ENV = "GENWIRE_BENCH_WEBHOOK_SECRET"


# -- the candidates (run in the uvicorn process) ---------------------------------------------------

def genwire_app(url: str, secret: str) -> Any:
    from genwire.asgi import WebhookApp
    from genwire.ledger import open_ledger

    return WebhookApp(open_ledger(url), secrets={"clipia": secret}, prefix="/hooks")


def bare_app(url: str, secret: str) -> Any:
    """The least a receiver does: verify, parse, one idempotent INSERT."""
    key = secret.encode()
    local = threading.local()
    postgres = url.startswith("postgresql")

    def connection() -> Any:
        conn = getattr(local, "conn", None)
        if conn is None:
            if postgres:
                import psycopg

                conn = psycopg.connect(url, autocommit=True)
            else:
                conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
            local.conn = conn
        return conn

    def insert(request_id: str) -> None:
        sql = ("INSERT INTO deliveries (id) VALUES (%s) ON CONFLICT DO NOTHING" if postgres
               else "INSERT INTO deliveries (id) VALUES (?) ON CONFLICT DO NOTHING")
        connection().execute(sql, (request_id,))

    async def app(scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Any]],
                  send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                while (await receive())["type"] != "lifespan.shutdown":
                    await send({"type": "lifespan.startup.complete"})
                await send({"type": "lifespan.shutdown.complete"})
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        header = dict(scope["headers"]).get(b"x-clipia-signature", b"").decode()
        fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        status = 401
        if abs(time.time() - int(fields.get("t", "0"))) <= 300:
            expected = hmac.new(key, fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
            if hmac.compare_digest(expected, fields.get("v1", "")):
                await asyncio.to_thread(insert, json.loads(body)["request_id"])
                status = 204
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    return app


def serve(kind: str, url: str, port: int) -> None:
    import uvicorn

    app = (genwire_app if kind == "genwire" else bare_app)(url, os.environ[SECRET_ENV])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")


# -- one round -----------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _deliveries(url: str, jobs: int) -> list[Any]:
    """Submit ``jobs`` through a ledger at ``url``, finish them at the fake, return its deliveries."""
    from genwire import GenerationRequest
    from genwire.ledger import open_ledger
    from genwire.testing import FakeClipia, FakeProviders

    fakes = FakeProviders(clipia=FakeClipia(steps=1, credits=1e12))
    request = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"},
                                webhook_url="http://127.0.0.1/hooks/clipia")
    ledger = open_ledger(url)
    with fakes.client(ledger=ledger) as client:
        submitted = [client.submit(request) for _ in range(jobs)]
    ledger.close()
    with fakes.client() as poller:  # no ledger: the deliveries are what tells the ledger
        for job in submitted:
            poller.status(job)
    assert len(fakes.clipia.deliveries) == jobs
    return list(fakes.clipia.deliveries)


async def _post_all(port: int, deliveries: list[Any]) -> tuple[float, list[float], list[int]]:
    import httpx

    queue = list(reversed(deliveries))
    latencies: list[float] = []
    statuses: list[int] = []
    limits = httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60) as http:
        async def sender() -> None:
            while queue:
                delivery = queue.pop()
                start = time.perf_counter()
                resp = await http.post("/hooks/clipia", content=delivery.body, headers=dict(delivery.headers))
                latencies.append(time.perf_counter() - start)
                statuses.append(resp.status_code)

        start = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(SENDERS)))
        return time.perf_counter() - start, latencies, statuses


def _wait_for(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")


def one_round(kind: str, url: str, jobs: int, secret: str) -> dict[str, float]:
    from genwire.ledger import open_ledger

    deliveries = _deliveries(url, jobs)
    if kind == "bare":
        _bare_table(url)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, url, str(port)],
                            env={**os.environ, SECRET_ENV: secret})
    try:
        _wait_for(port, proc)
        wall, latencies, statuses = asyncio.run(_post_all(port, deliveries))
        _, _, again = asyncio.run(_post_all(port, deliveries))  # duplicates: answered, applied never
    finally:
        proc.terminate()
        proc.wait()
    if set(statuses) != {204} or not set(again) <= {200, 202, 204}:
        raise SystemExit(f"{kind}: unexpected answers {sorted(set(statuses))} / {sorted(set(again))}")
    ids = {json.loads(d.body)["request_id"] for d in deliveries}
    if kind == "genwire":
        ledger = open_ledger(url)
        entries = {e.provider_id: e for e in ledger.entries(provider="clipia", limit=jobs * 2)
                   if e.provider_id in ids}
        applied = [ev for ev in ledger.events() if ev.source == "webhook"]
        ledger.close()
        lost = [i for i in ids if i not in entries or entries[i].state.value != "succeeded"]
        twice = len(applied) - len({ev.ref for ev in applied})
        if lost or twice or len(applied) != jobs:
            raise SystemExit(f"genwire: {len(lost)} lost, {twice} applied twice, {len(applied)} applied")
    else:
        rows = _bare_rows(url)
        if rows != ids:
            raise SystemExit(f"bare: {len(ids - rows)} lost")
    ordered = sorted(latencies)
    return {"per_s": jobs / wall, "p50_ms": statistics.median(ordered) * 1e3,
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3}


def _bare_table(url: str) -> None:
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY)")
    else:
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY)")


def _bare_rows(url: str) -> set[str]:
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url) as conn:
            return {r[0] for r in conn.execute("SELECT id FROM deliveries").fetchall()}
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return {r[0] for r in conn.execute("SELECT id FROM deliveries").fetchall()}


def rows(size: str, postgres: str | None = None) -> list[Row]:
    from bench_ledger import _fresh_schema, _postgres

    from genwire.testing import DEFAULT_WEBHOOK_SECRET

    jobs, rounds = SIZES[size]
    pg, stop = _postgres(postgres)
    found = []
    try:
        for db in ("sqlite", "postgresql"):
            results: dict[str, list[dict[str, float]]] = {"genwire": [], "bare": []}
            for r in range(rounds):
                for kind in (["genwire", "bare"] if r % 2 == 0 else ["bare", "genwire"]):
                    tmp = Path(tempfile.mkdtemp(prefix="genwire-bench-hooks-"))
                    url = f"sqlite:///{tmp}/hooks.db" if db == "sqlite" else _fresh_schema(pg)
                    results[kind].append(one_round(kind, url, jobs, DEFAULT_WEBHOOK_SECRET))
                print(f"  webhook {db} round {r + 1}/{rounds} done", file=sys.stderr)
            gw, bare = results["genwire"], results["bare"]

            def med(xs: list[dict[str, float]], key: str) -> float:
                return statistics.median(x[key] for x in xs)

            found.append(Row(
                "webhook", f"{db}: {jobs} signed deliveries, {SENDERS} senders, uvicorn", "WebhookApp deliveries/s",
                "bare ASGI endpoint (HMAC + INSERT ON CONFLICT)",
                [g["per_s"] / b["per_s"] for g, b in zip(gw, bare, strict=True)], 0.8, floor=True,
                detail=f"{med(gw, 'per_s'):.0f} / {med(bare, 'per_s'):.0f}",
                notes=[f"p50 {med(gw, 'p50_ms'):.0f} / {med(bare, 'p50_ms'):.0f} ms, "
                       f"p99 {med(gw, 'p99_ms'):.0f} / {med(bare, 'p99_ms'):.0f} ms (WebhookApp / bare); "
                       "every delivery applied once, none lost, duplicates answered and ignored"]))
    finally:
        stop()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="full")
    parser.add_argument("--postgres")
    parser.add_argument("--serve", nargs=3, metavar=("KIND", "URL", "PORT"), help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.serve:
        serve(opts.serve[0], opts.serve[1], int(opts.serve[2]))
        return 0
    print(f"machine: {machine()}\n")
    print_rows(rows(opts.size, opts.postgres))
    return 0


if __name__ == "__main__":
    sys.exit(main())
