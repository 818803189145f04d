"""The MCP server's cost: a tool call over the same direct client call, and a cold start to the first tool list.

    python bench/bench_mcp.py [--size tiny|full] [--rounds 21] [--batch 50] [--starts 7] [--quick]

Per call, warm: one running Cliprise job looked up once (``get_generation``: one status
GET; the job never ends) against the fake providers on a loopback socket (``FakeServer``), timed as

* ``direct``: ``await AsyncClient.status(job)``, the call the tool makes;
* ``mcp in memory``: ``mcp.Client(server).call_tool("get_generation", ...)`` in process (the
  SDK's in-memory transport: argument checks, result building, the SDK's dispatch);
* ``mcp stdio``: the same tool call to a ``genwire mcp`` subprocess over stdio (JSON-RPC
  framing, a pipe each way, the server's own event loop).

Every round times a batch of each, in an order rotated from round to round; figures are
medians of the per-round times, ratios are ratios of those medians. ``validate_input``
against ``Catalog.validate`` (no network: pure overhead) is timed the same way.

Cold start: a fresh ``genwire mcp`` process started over stdio, until its first
``tools/list`` answer (interpreter start, imports, the handshake), against
``python -m genwire --version`` in a fresh process as the floor.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import Row, machine, print_rows

from genwire import AsyncClient, GenerationRequest, PollPolicy
from genwire.mcp import GenwireTools, build_server
from genwire.testing import FakeClipia, FakeCliprise, FakeProviders, FakeServer

Batch = Callable[[int], Awaitable[float]]
INPUT = {"prompt": "a fox crossing a snowy field", "aspect_ratio": "16:9"}


def _env(server: FakeServer) -> dict[str, str]:
    env = {f"GENWIRE_BASE_URL_{p.upper()}": u for p, u in server.base_urls.items()}
    return {**env, "CLIPIA_KEY": server.api_keys["clipia"], "CLIPRISE_KEY": server.api_keys["cliprise"]}


def _timed(call: Callable[[], Awaitable[Any]]) -> Batch:
    async def batch(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            await call()
        return time.perf_counter() - start

    return batch


async def _rounds(candidates: dict[str, Batch], rounds: int, batch: int) -> dict[str, float]:
    names = list(candidates)
    for name in names:  # warm-up
        await candidates[name](max(batch // 5, 1))
    per_call: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            per_call[name].append(await candidates[name](batch) / batch)
    return {n: statistics.median(ts) for n, ts in per_call.items()}


async def warm(rounds: int, batch: int) -> tuple[dict[str, float], dict[str, float]]:
    # the job never ends, so every look is one status GET
    with FakeServer(FakeProviders(FakeClipia(steps=0), FakeCliprise(steps=10**9))) as fake:
        async with AsyncClient(base_urls=fake.base_urls, api_keys=fake.api_keys, poll=PollPolicy(0.01, 0.05)) as gw:
            job = await gw.submit(GenerationRequest(provider="cliprise", model="veo-3-fast", input=INPUT))
            tools = GenwireTools(gw)
            args = {"provider": job.provider, "id": job.id}
            check = {"model": "cliprise/veo-3-fast", "input": INPUT}
            stdio = StdioServerParameters(command=sys.executable, args=["-m", "genwire", "mcp"], env=_env(fake))
            async with Client(build_server(tools)) as memory, Client(stdio) as piped:
                await memory.list_tools()
                await piped.list_tools()
                status = await _rounds({
                    "direct": _timed(lambda: gw.status(job)),
                    "mcp in memory": _timed(lambda: memory.call_tool("get_generation", args)),
                    "mcp stdio": _timed(lambda: piped.call_tool("get_generation", args)),
                }, rounds, batch)

                async def validate() -> Any:
                    return gw.catalog.validate("cliprise", "veo-3-fast", None, INPUT)

                local = await _rounds({
                    "direct": _timed(validate),
                    "mcp in memory": _timed(lambda: memory.call_tool("validate_input", check)),
                }, rounds, batch)
    return status, local


def print_warm(status: dict[str, float], local: dict[str, float]) -> None:
    print("\n### A tool call over the direct client call (warm; median per call)\n")
    print("| call | direct | via MCP | per call | ratio |")
    print("|---|---|---|---|---|")
    for what, figures in (("get_generation vs AsyncClient.status (one GET)", status),
                          ("validate_input vs Catalog.validate (no network)", local)):
        base = figures["direct"]
        for name, seconds in figures.items():
            if name != "direct":
                print(f"| {what} | {base * 1e6:.0f} µs | {name} | {seconds * 1e6:.0f} µs | {seconds / base:.2f}x |")


async def cold(starts: int) -> tuple[list[float], list[float]]:
    with FakeServer(FakeProviders(FakeClipia(steps=0), FakeCliprise(steps=0))) as fake:
        stdio = StdioServerParameters(command=sys.executable, args=["-m", "genwire", "mcp"], env=_env(fake))
        first_list: list[float] = []
        floor: list[float] = []
        for _ in range(starts):
            start = time.perf_counter()
            async with Client(stdio) as client:
                await client.list_tools()
                first_list.append(time.perf_counter() - start)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "genwire", "--version"], check=True, capture_output=True)
            floor.append(time.perf_counter() - start)
    return first_list, floor


def print_cold(first_list: list[float], floor: list[float]) -> None:
    starts = len(first_list)
    mid, base = statistics.median(first_list), statistics.median(floor)
    print(f"\n### Cold start over stdio (median of {starts})\n")
    print("| process | wall time | range |")
    print("|---|---|---|")
    print(f"| `genwire mcp`: spawn to first tools/list answer | {mid * 1e3:.0f} ms | "
          f"{min(first_list) * 1e3:.0f}-{max(first_list) * 1e3:.0f} ms |")
    print(f"| `python -m genwire --version` (the floor) | {base * 1e3:.0f} ms | "
          f"{min(floor) * 1e3:.0f}-{max(floor) * 1e3:.0f} ms |")


#: (rounds, batch, starts) per size
SIZES = {"tiny": (2, 3, 1), "full": (21, 50, 7)}


def rows_from(status: dict[str, float], local: dict[str, float], first_list: list[float],
              floor: list[float]) -> list[Row]:
    found = []
    for what, figures in (("get_generation vs AsyncClient.status (one GET)", status),
                          ("validate_input vs Catalog.validate (no network)", local)):
        for name, seconds in figures.items():
            if name != "direct":
                found.append(Row("mcp", what, name, "direct call", [seconds / figures["direct"]],
                                 detail=f"{seconds * 1e6:.0f} / {figures['direct'] * 1e6:.0f} µs"))
    found.append(Row("mcp", "fresh process", "genwire mcp: spawn to first tools/list", "python -m genwire --version",
                     [a / b for a, b in zip(first_list, floor, strict=True)],
                     detail=f"{statistics.median(first_list) * 1e3:.0f} / {statistics.median(floor) * 1e3:.0f} ms"))
    return found


def rows(size: str) -> list[Row]:
    rounds, batch, starts = SIZES[size]

    async def both() -> list[Row]:
        status, local = await warm(rounds, batch)
        return rows_from(status, local, *await cold(starts))

    return anyio.run(both)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="full")
    parser.add_argument("--rounds", type=int, help="interleaved rounds of the warm calls (full: 21)")
    parser.add_argument("--batch", type=int, help="calls per candidate per round (full: 50)")
    parser.add_argument("--starts", type=int, help="fresh server processes timed (full: 7)")
    parser.add_argument("--quick", action="store_true", help="smoke run: --size tiny")
    args = parser.parse_args()
    rounds, batch, starts = SIZES["tiny" if args.quick else args.size]
    args.rounds, args.batch, args.starts = args.rounds or rounds, args.batch or batch, args.starts or starts
    print(machine())

    async def both() -> list[Row]:
        status, local = await warm(args.rounds, args.batch)
        print_warm(status, local)
        first_list, floor = await cold(args.starts)
        print_cold(first_list, floor)
        return rows_from(status, local, first_list, floor)

    print()
    print_rows(anyio.run(both))


if __name__ == "__main__":
    main()
