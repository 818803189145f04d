"""Fan-out: 1,000 concurrent jobs against a loopback server, genwire's AsyncClient against the SDK's.

    python bench/bench_fanout.py [--size tiny|full] [--jobs N] [--rounds N] [--delay 0.03]

A small HTTP/1.1 server of the bench's own (a separate process on 127.0.0.1)
answers like Clipia, each reply after ``--delay`` seconds: submit -> IN_QUEUE,
status -> COMPLETED, result -> one image. Every job is therefore three requests,
for both libraries. Both pools are matched at 20 connections (the SDK's default
is httpx's 100, so it is given a 20-connection transport).

Each round runs every candidate in a fresh process, in rotated order, and
reports: jobs/s (wall), CPU ms per job (the client process's user+system time
over the jobs), and peak memory per in-flight job (peak RSS while the jobs run
minus RSS before they start, over the number of jobs). Medians over rounds.
Candidates: genwire (gate at the pool size, the default), genwire with the gate
opened wide (``max_in_flight=1_000_000``, to show what the gate buys), the SDK, and a
bare client (``raw``: asyncio streams and ``json.loads``, no HTTP library, each of 20
connections sending its share of the jobs' requests back to back).

The ceiling is what the server allows: connections x replies per second per connection
(1 / delay) / requests per job = 222 jobs/s at the defaults; genwire's jobs/s is also
reported as a share of it. The bare client shows how much of that ceiling this server and
machine deliver at all: its replies come a little after ``delay`` (the event loop's timer
granularity, the server's own work), so even a client that costs nothing stays below 1.0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import Row, machine, print_rows

POOL = 20
KEY = "clipia_live_bench0000000000"


# -- the loopback server -----------------------------------------------------------------------

async def _serve(delay: float, ready: asyncio.Future[int]) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, target, _ = line.decode("latin-1").split(" ", 2)
                length = 0
                while True:
                    header = await reader.readline()
                    if header in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = header.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                if length:
                    await reader.readexactly(length)
                await asyncio.sleep(delay)
                body = json.dumps(_reply(method, target.split("?", 1)[0], port)).encode()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=2048)
    port = server.sockets[0].getsockname()[1]
    ready.set_result(port)
    async with server:
        await server.serve_forever()


def _reply(method: str, path: str, port: int) -> dict[str, object]:
    parts = path.strip("/").split("/")
    if method == "POST":
        return {"request_id": str(uuid.uuid4()), "status": "IN_QUEUE", "queue_position": 0}
    rid = parts[2]
    if parts[-1] == "status":
        return {"request_id": rid, "status": "COMPLETED"}
    return {"request_id": rid, "status": "COMPLETED", "cost": 12,
            "output": {"images": [{"url": f"http://127.0.0.1:{port}/files/{rid}.png", "width": 1024,
                                   "height": 1024, "content_type": "image/png"}]}}


def server_main(delay: float) -> None:
    async def main() -> None:
        ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(_serve(delay, ready))
        print(await ready, flush=True)
        await task

    asyncio.run(main())


# -- one candidate in one process ----------------------------------------------------------------

def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def _genwire(base: str, jobs: int, gate: int | None) -> list[str]:
    import genwire

    client = genwire.AsyncClient(api_keys={"clipia": KEY}, base_urls={"clipia": base}, max_connections=POOL,
                                 max_in_flight=gate, poll=genwire.PollPolicy(initial_interval=0.05, max_interval=0.05))
    request = genwire.GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})
    async with client:
        done = await asyncio.gather(*(client.run(request, timeout=600) for _ in range(jobs)))
    return [job.outputs[0].url for job in done]


async def _sdk(base: str, jobs: int) -> list[str]:
    import clipia
    import httpx

    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL))
    async with clipia.AsyncClipia(api_key=KEY, base_url=base, transport=transport) as client:
        done = await asyncio.gather(*(client.subscribe("nano-banana-2", input={"prompt": "a fox"},
                                                       poll_interval=0.05, timeout=600) for _ in range(jobs)))
    return [r.output["images"][0]["url"] for r in done]  # type: ignore[index]


async def _raw(base: str, jobs: int) -> list[str]:
    """The same three requests per job as the libraries send, on 20 keep-alive connections with
    nothing between a reply and the next request but parsing it."""
    host, port = base.removeprefix("http://").split(":")
    urls: list[str] = []

    async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes,
                       body: bytes = b"") -> dict[str, object]:
        writer.write(head + b"Host: " + host.encode() + b"\r\nContent-Length: " + str(len(body)).encode()
                     + b"\r\n\r\n" + body)
        await writer.drain()
        length = 0
        await reader.readline()
        while (line := await reader.readline()) != b"\r\n":
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        reply: dict[str, object] = json.loads(await reader.readexactly(length))
        return reply

    async def connection(share: int) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for _ in range(share):
            job = await exchange(reader, writer, b"POST /nano-banana-2 HTTP/1.1\r\n", b'{"prompt":"a fox"}')
            rid = str(job["request_id"]).encode()
            await exchange(reader, writer, b"GET /requests/nano-banana-2/" + rid + b"/status HTTP/1.1\r\n")
            done = await exchange(reader, writer, b"GET /requests/nano-banana-2/" + rid + b" HTTP/1.1\r\n")
            urls.append(done["output"]["images"][0]["url"])  # type: ignore[index]
        writer.close()

    await asyncio.gather(*(connection(jobs // POOL + (i < jobs % POOL)) for i in range(POOL)))
    return urls


def child(candidate: str, base: str, jobs: int) -> None:
    if candidate.startswith("genwire"):
        import genwire
        import genwire.client  # noqa: F401
    elif candidate == "sdk":
        import clipia  # noqa: F401
    import httpx  # noqa: F401

    before = _rss_kib()
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    if candidate == "genwire":
        urls = asyncio.run(_genwire(base, jobs, None))
    elif candidate == "genwire, gate off":
        urls = asyncio.run(_genwire(base, jobs, 1_000_000))
    elif candidate == "raw":
        urls = asyncio.run(_raw(base, jobs))
    else:
        urls = asyncio.run(_sdk(base, jobs))
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert len(urls) == jobs and all(u.endswith(".png") for u in urls)
    print(json.dumps({"jobs_per_s": jobs / wall, "cpu_ms_per_job": cpu * 1e3 / jobs,
                      "kib_per_job": max(0, peak - before) / jobs}))


#: (jobs, rounds) per size
SIZES = {"tiny": (30, 1), "full": (1000, 3)}
NAMES = ["genwire", "genwire, gate off", "sdk", "raw"]


def measure_rounds(jobs: int, rounds: int, delay: float) -> dict[str, list[dict[str, float]]]:
    server = subprocess.Popen([sys.executable, __file__, "--server", "--delay", str(delay)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        results: dict[str, list[dict[str, float]]] = {n: [] for n in NAMES}
        for r in range(rounds):
            k = r % len(NAMES)
            for name in NAMES[k:] + NAMES[:k]:
                out = subprocess.run([sys.executable, __file__, "--jobs", str(jobs), "--child", name, base],
                                     check=True, capture_output=True, text=True).stdout
                results[name].append(json.loads(out.strip().splitlines()[-1]))
            print(f"  fanout round {r + 1}/{rounds} done", file=sys.stderr)
    finally:
        server.terminate()
        server.wait()
    return results


def rows_from(results: dict[str, list[dict[str, float]]], jobs: int, delay: float) -> list[Row]:
    ceiling = POOL / delay / 3
    gw, sdk, raw = results["genwire"], results["sdk"], results["raw"]
    rates = [g["jobs_per_s"] for g in gw]
    case = f"{jobs} jobs, pools at {POOL}, {delay * 1e3:.0f} ms/reply"
    return [
        Row("fanout", case, "genwire jobs/s", "sdk jobs/s", [g["jobs_per_s"] / s["jobs_per_s"] for g, s in
                                                               zip(gw, sdk, strict=True)], 2.0, floor=True,
            detail=f"{statistics.median(rates):.0f} / {statistics.median(s['jobs_per_s'] for s in sdk):.0f}"),
        Row("fanout", case, "genwire jobs/s", "ceiling", [r / ceiling for r in rates], 0.95, floor=True,
            detail=f"{statistics.median(rates):.0f} / {ceiling:.0f}"),
        Row("fanout", case, "bare client jobs/s", "ceiling", [r["jobs_per_s"] / ceiling for r in raw],
            detail=f"{statistics.median(r['jobs_per_s'] for r in raw):.0f} / {ceiling:.0f}"),
        Row("fanout", case, "genwire jobs/s", "bare client jobs/s",
            [g["jobs_per_s"] / r["jobs_per_s"] for g, r in zip(gw, raw, strict=True)],
            detail=f"{statistics.median(rates):.0f} / {statistics.median(r['jobs_per_s'] for r in raw):.0f}"),
        Row("fanout", case, "genwire CPU ms/job", "sdk CPU ms/job",
            [g["cpu_ms_per_job"] / s["cpu_ms_per_job"] for g, s in zip(gw, sdk, strict=True)],
            detail=f"{statistics.median(g['cpu_ms_per_job'] for g in gw):.2f} / "
                   f"{statistics.median(s['cpu_ms_per_job'] for s in sdk):.2f} ms"),
    ]


def rows(size: str) -> list[Row]:
    jobs, rounds = SIZES[size]
    return rows_from(measure_rounds(jobs, rounds, 0.03), jobs, 0.03)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="full")
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--delay", type=float, default=0.03, help="server seconds per reply")
    parser.add_argument("--child", nargs=2, metavar=("CANDIDATE", "BASE"), help=argparse.SUPPRESS)
    parser.add_argument("--server", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.server:
        server_main(opts.delay)
        return 0
    if opts.child:
        child(opts.child[0], opts.child[1], opts.jobs)
        return 0
    jobs, rounds = opts.jobs or SIZES[opts.size][0], opts.rounds or SIZES[opts.size][1]
    results = measure_rounds(jobs, rounds, opts.delay)
    names = NAMES

    def med(name: str, key: str) -> float:
        return statistics.median(x[key] for x in results[name])

    print(f"\nmachine: {machine()}")
    print(f"{jobs} concurrent jobs (3 requests each), loopback server {opts.delay * 1e3:.0f} ms/reply, "
          f"pools at {POOL}; median of {rounds} rounds\n")
    print("| client | jobs/s | vs sdk | CPU ms/job | vs sdk | peak KiB per in-flight job |")
    print("|---|---|---|---|---|---|")
    for name in names:
        rate, cpu = med(name, "jobs_per_s"), med(name, "cpu_ms_per_job")
        print(f"| {name} | {rate:.0f} | {rate / med('sdk', 'jobs_per_s'):.2f}x | {cpu:.2f} | "
              f"{cpu / med('sdk', 'cpu_ms_per_job'):.2f}x | {med(name, 'kib_per_job'):.1f} |")
    print()
    print_rows(rows_from(results, jobs, opts.delay))
    return 0


if __name__ == "__main__":
    sys.exit(main())
