"""Fault soak: many logical jobs through both clients against fakes that misbehave on purpose.

The fakes here are this file's own (not ``genwire.testing``): two small provider
simulations behind an httpx transport that inject faults on a seeded schedule —
connection refused, the reply lost after the job was created, 429 with
Retry-After, 5xx (before and after creating the job), truncated or malformed
JSON, unknown statuses, and replies slower than the request's timeout (the
transport honours the timeout httpx would, as a real socket does).

Every logical submit is counted on the provider side, and the report says:

* lost: the provider created a job, but the caller got neither a ``Job`` with its
  id nor a ``SubmissionUncertainError`` naming the idempotency key (must be 0);
* duplicate charges: a logical submit that created more than one job (at one provider, or
  across both for a family request that fell back) (0);
* wait overruns: ``wait(timeout=T)`` that took longer than T + 0.25 s (0);
* wrong final states: a wait that returned ``succeeded`` for a job the provider
  did not finish successfully (0); foreign exceptions: anything not a ``GenwireError`` (0).

    python bench/soak.py --jobs 10000 --faults 0.12 --seed 1
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import re
import resource
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from genwire import (
    AsyncClient,
    Catalog,
    Client,
    GenerationRequest,
    GenwireError,
    Job,
    JobFailedError,
    JobStatus,
    PollPolicy,
    RetryPolicy,
    SubmissionUncertainError,
    WaitTimeoutError,
)

OVERRUN_MARGIN = 0.25
KEYS = {"clipia": "clipia_live_soak_key_01", "cliprise": "cliprise/soak+key=02"}
MODELS = {"clipia": "nano-banana-2", "cliprise": "nano-banana"}
FAMILY = "nano-banana-2"  # offered by both providers
FAULTS = ("refused", "lost_reply", "rate_limited", "5xx_before", "5xx_after", "truncated", "malformed",
          "unknown_status", "slow")
_LOGICAL = re.compile(rb"soak-(\d+)-")


@dataclass
class SimJob:
    provider: str
    id: str
    logical: int
    polls_left: int
    outcome: str  # succeed | fail | never
    polls: int = 0

    @property
    def status(self) -> str:
        if self.outcome == "never" or self.polls < self.polls_left:
            return "running"
        return self.outcome


@dataclass
class Providers:
    """Both providers' server-side state and the fault schedule. Thread-safe."""

    rng: random.Random
    fault_rate: float
    slow_delay: float
    jobs: dict[str, SimJob] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    created: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    keys_seen: dict[tuple[str, int], set[str]] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULTS, 0))
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def plan(self, request: httpx.Request) -> tuple[httpx.Response | Exception, float]:
        """What to answer and after how long; the transport sleeps and honours timeouts."""
        with self.lock:
            self.requests += 1
            fault = self.rng.choice(FAULTS) if self.rng.random() < self.fault_rate else None
            if fault is not None and fault == "unknown_status" and request.method == "POST":
                fault = "malformed"
            if fault is not None:
                self.faults[fault] += 1
            if fault == "refused":
                return httpx.ConnectError("connection refused (injected)", request=request), 0.0
            if fault == "rate_limited":
                return httpx.Response(429, headers={"Retry-After": "0.01"},
                                      json=self._error(request, 429, "rate_limit_exceeded")), 0.0
            if fault == "5xx_before":
                return httpx.Response(self.rng.choice([500, 502, 503, 504]),
                                      json=self._error(request, 503, "internal_error")), 0.0
            response = self._handle(request)
            if fault == "lost_reply":
                return httpx.ReadTimeout("reply lost (injected)", request=request), 0.0
            if fault == "5xx_after":
                return httpx.Response(self.rng.choice([500, 502, 504]),
                                      json=self._error(request, 502, "internal_error")), 0.0
            if fault == "truncated":
                return httpx.Response(response.status_code, content=response.content[: len(response.content) // 2]), 0.0
            if fault == "malformed":
                return httpx.Response(response.status_code, content=b'{"unexpected": ["shape"]}'), 0.0
            if fault == "unknown_status":
                return httpx.Response(200, json={"status": "WARMING_UP"} if "clipia" in request.url.host
                                      else [{"status": "warming"}]), 0.0
            if fault == "slow":
                return response, self.slow_delay
            return response, 0.0

    @staticmethod
    def _error(request: httpx.Request, status: int, code: str) -> Any:
        if "clipia" in request.url.host:
            return {"error": {"code": code, "message": "injected"}}
        return {"code": status, "error": {"code": code, "message": "injected"}}

    def _create(self, provider: str, body: bytes, key: str | None) -> SimJob:
        if key is not None and key in self.by_key:
            return self.jobs[self.by_key[key]]
        match = _LOGICAL.search(body)
        logical = int(match.group(1)) if match else -1
        roll = self.rng.random()
        outcome = "never" if roll < 0.03 else "fail" if roll < 0.13 else "succeed"
        job = SimJob(provider, f"{provider[:2]}-{len(self.jobs)}", logical, self.rng.randint(0, 3), outcome)
        self.jobs[job.id] = job
        self.created.setdefault((provider, logical), []).append(job.id)
        if key is not None:
            self.by_key[key] = job.id
            self.keys_seen.setdefault((provider, logical), set()).add(key)
        return job

    def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if "clipia" in request.url.host:
            if request.method == "POST":
                job = self._create("clipia", request.content, request.headers.get("idempotency-key"))
                return httpx.Response(200, json={"request_id": job.id, "status": "IN_QUEUE"})
            job_id = path.split("/")[3]
            job = self.jobs[job_id]
            if path.endswith("/status"):
                job.polls += 1
            state = {"running": "IN_PROGRESS", "succeed": "COMPLETED", "fail": "FAILED"}[job.status]
            body: dict[str, Any] = {"request_id": job.id, "status": state}
            if not path.endswith("/status") and state == "COMPLETED":
                body["output"] = {"images": [{"url": f"https://media.example/{job.id}.png"}]}
            if state == "FAILED":
                body["error"] = {"code": "generation_failed", "message": "injected failure"}
            return httpx.Response(200, json=body)
        if request.method == "POST":
            job = self._create("cliprise", request.content, None)
            return httpx.Response(200, json=[{"code": 200, "taskId": job.id}])
        job = self.jobs[request.url.params["taskId"]]
        job.polls += 1
        if job.status == "running":
            return httpx.Response(200, json=[{"status": "processing"}])
        if job.status == "fail":
            return httpx.Response(200, json={"status": "fail", "failMsg": "injected failure"})
        return httpx.Response(200, json=[{"status": "success", "fileURL": f"https://media.example/{job.id}.png"}])


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout", {})
    value = timeout.get("read") if isinstance(timeout, dict) else None
    return float(value) if value is not None else None


class SyncFaults(httpx.BaseTransport):
    def __init__(self, providers: Providers) -> None:
        self.providers = providers

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer, delay = self.providers.plan(request)
        limit = _read_timeout(request)
        if limit is not None and delay > limit:  # what a real socket does with a slow reply
            time.sleep(limit)
            raise httpx.ReadTimeout("read timed out (slow reply)", request=request)
        if delay:
            time.sleep(delay)
        if isinstance(answer, Exception):
            raise answer
        return answer


class AsyncFaults(httpx.AsyncBaseTransport):
    def __init__(self, providers: Providers) -> None:
        self.providers = providers

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer, delay = self.providers.plan(request)
        limit = _read_timeout(request)
        if limit is not None and delay > limit:
            await asyncio.sleep(limit)
            raise httpx.ReadTimeout("read timed out (slow reply)", request=request)
        if delay:
            await asyncio.sleep(delay)
        if isinstance(answer, Exception):
            raise answer
        return answer


@dataclass
class Outcome:
    """What the caller got for one logical submit, kept small (no exceptions, tracebacks or Jobs:
    holding 10,000 of those makes the collector's full passes, and so the waits, slow)."""

    provider: str
    logical: int
    job_id: str | None = None
    uncertain_key: str | None = None
    uncertain_provider: str | None = None
    submit_error: str | None = None
    final_status: str | None = None
    wait_error: str | None = None
    wait_seconds: float = 0.0
    foreign: str | None = None

    def submitted(self, job: Job) -> None:
        self.job_id = job.id

    def refused(self, err: GenwireError) -> None:
        if isinstance(err, SubmissionUncertainError):
            self.uncertain_key, self.uncertain_provider = err.idempotency_key, err.provider
        else:
            self.submit_error = type(err).__name__

    def ended(self, final: Job | None, err: GenwireError | None, seconds: float) -> None:
        self.final_status = final.status.value if final is not None else None
        self.wait_error = type(err).__name__ if err is not None else None
        self.wait_seconds = seconds


@dataclass
class Report:
    jobs: int
    requests: int
    faults: dict[str, int]
    lost: int
    duplicate_charges: int
    wait_overruns: int
    worst_overrun: float
    wrong_final_states: int
    foreign_exceptions: int
    outcomes: dict[str, int]
    seconds: float
    peak_rss_mb: float
    max_lag: float = 0.0
    stalls: int = 0

    def lines(self) -> list[str]:
        total = sum(self.faults.values())
        return [
            f"jobs: {self.jobs}",
            f"requests: {self.requests}",
            f"faults: {total} ({total / max(self.requests, 1):.1%} of requests): "
            + ", ".join(f"{k}={v}" for k, v in self.faults.items()),
            f"lost: {self.lost}",
            f"duplicate charges: {self.duplicate_charges}",
            f"wait overruns > {OVERRUN_MARGIN} s: {self.wait_overruns} (worst {self.worst_overrun:+.3f} s)",
            f"wrong final states: {self.wrong_final_states}",
            f"foreign exceptions: {self.foreign_exceptions}",
            "outcomes: " + ", ".join(f"{k}={v}" for k, v in sorted(self.outcomes.items())),
            f"seconds: {self.seconds:.1f}",
            f"scheduling lag (a 5 ms sleeper thread): worst {self.max_lag:.3f} s, {self.stalls} stalls > 0.1 s",
            f"peak RSS: {self.peak_rss_mb:.1f} MB",
        ]


def _request(provider: str, logical: int) -> GenerationRequest:
    prompt = {"prompt": f"soak-{logical}-x"}
    if provider == "family":  # Cliprise first, so a fallback after an uncertain generate would show
        return GenerationRequest(family=FAMILY, task="text-to-image", input=prompt)
    return GenerationRequest(provider=provider, model=MODELS[provider], input=prompt)


def _options(wait_timeout: float) -> dict[str, Any]:
    return {"api_keys": KEYS, "catalog": Catalog.default(), "timeout": min(0.2, wait_timeout / 2),
            "providers": ["cliprise", "clipia"],
            "poll": PollPolicy(initial_interval=0.002, max_interval=0.01, max_consecutive_failures=6),
            "retry": RetryPolicy(max_retries=3, initial_delay=0.001, max_delay=0.01)}


def _one_sync(client: Client, provider: str, logical: int, wait_timeout: float) -> Outcome:
    out = Outcome(provider, logical)
    try:
        job = client.submit(_request(provider, logical))
    except GenwireError as err:
        out.refused(err)
        return out
    except Exception as exc:  # counted, never hidden
        out.foreign = repr(exc)
        return out
    out.submitted(job)
    started = time.monotonic()
    final: Job | None = None
    failed: GenwireError | None = None
    try:
        final = client.wait(job, timeout=wait_timeout)
    except GenwireError as err:
        failed = err
    except Exception as exc:
        out.foreign = repr(exc)
    out.ended(final, failed, time.monotonic() - started)
    return out


async def _one_async(client: AsyncClient, provider: str, logical: int, wait_timeout: float,
                     gate: asyncio.Semaphore) -> Outcome:
    out = Outcome(provider, logical)
    async with gate:
        try:
            job = await client.submit(_request(provider, logical))
        except GenwireError as err:
            out.refused(err)
            return out
        except Exception as exc:
            out.foreign = repr(exc)
            return out
        out.submitted(job)
        started = time.monotonic()
        final: Job | None = None
        failed: GenwireError | None = None
        try:
            final = await client.wait(job, timeout=wait_timeout)
        except GenwireError as err:
            failed = err
        except Exception as exc:
            out.foreign = repr(exc)
        out.ended(final, failed, time.monotonic() - started)
    return out


def run_soak(jobs: int, *, seed: int = 1, fault_rate: float = 0.12, wait_timeout: float = 0.5,
             concurrency: int = 32) -> Report:
    """``jobs`` logical submits (half through ``Client``, half through ``AsyncClient``, both providers)."""
    providers = Providers(random.Random(seed), fault_rate, slow_delay=wait_timeout * 3)
    lag = LagMonitor()
    lag.start()
    # every fifth logical job names a family both providers offer; the rest a provider model
    plan = [("family" if i % 5 == 4 else "clipia" if i % 2 else "cliprise", i) for i in range(jobs)]
    sync_part, async_part = plan[: jobs // 2], plan[jobs // 2:]
    started = time.monotonic()
    outcomes: list[Outcome] = []
    gc.collect()
    gc.freeze()  # import-time and catalog objects: not worth re-scanning in every full collection
    with Client(transport=SyncFaults(providers), **_options(wait_timeout)) as client, \
            ThreadPoolExecutor(max_workers=max(1, concurrency // 2)) as pool:
        outcomes += pool.map(lambda pl: _one_sync(client, pl[0], pl[1], wait_timeout), sync_part)

    async def run_async() -> list[Outcome]:
        gate = asyncio.Semaphore(concurrency)
        async with AsyncClient(transport=AsyncFaults(providers), **_options(wait_timeout)) as aclient:
            return await asyncio.gather(*(_one_async(aclient, p, n, wait_timeout, gate) for p, n in async_part))

    outcomes += asyncio.run(run_async())
    lag.stop()
    report = _report(providers, outcomes, wait_timeout, time.monotonic() - started)
    report.max_lag, report.stalls = lag.worst, lag.stalls
    return report


class LagMonitor(threading.Thread):
    """A thread that sleeps 5 ms at a time and records how late it wakes: how long this process
    went without the CPU (a loaded machine), which no deadline in the library can prevent."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.worst = 0.0
        self.stalls = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            before = time.monotonic()
            time.sleep(0.005)
            late = time.monotonic() - before - 0.005
            self.worst = max(self.worst, late)
            self.stalls += late > 0.1

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _report(providers: Providers, outcomes: list[Outcome], wait_timeout: float, seconds: float) -> Report:
    lost = duplicates = overruns = wrong = foreign = 0
    worst = -wait_timeout
    counts: dict[str, int] = {}
    for out in outcomes:
        # a family job may land at either provider: count its charges across both
        targets = ("clipia", "cliprise") if out.provider == "family" else (out.provider,)
        created = [job for p in targets for job in providers.created.get((p, out.logical), [])]
        duplicates += len(created) > 1
        keys_seen = providers.keys_seen.get(("clipia", out.logical), set())
        recovered = (out.job_id is not None and out.job_id in created) or (
            bool(out.uncertain_key) and out.uncertain_provider in targets
            and (out.uncertain_provider != "clipia" or out.uncertain_key in keys_seen))
        if created and not recovered:
            lost += 1
        if out.foreign is not None:
            foreign += 1
        if out.job_id is not None:
            overrun = out.wait_seconds - wait_timeout
            worst = max(worst, overrun)
            overruns += overrun > OVERRUN_MARGIN
        if out.final_status == JobStatus.SUCCEEDED.value:
            sim = providers.jobs.get(out.job_id or "")
            wrong += sim is None or sim.status != "succeed"
        kind = ("uncertain" if out.uncertain_key else f"refused:{out.submit_error}" if out.submit_error
                else "foreign" if out.foreign else "succeeded" if out.final_status
                else "failed" if out.wait_error == JobFailedError.__name__
                else "wait_timeout" if out.wait_error == WaitTimeoutError.__name__
                else f"poll_gave_up:{out.wait_error}")
        counts[kind] = counts.get(kind, 0) + 1
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Report(len(outcomes), providers.requests, dict(providers.faults), lost, duplicates, overruns, worst,
                  wrong, foreign, counts, seconds, rss)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--faults", type=float, default=0.12, help="fraction of requests that fault")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wait-timeout", type=float, default=0.5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run_soak(args.jobs, seed=args.seed, fault_rate=args.faults, wait_timeout=args.wait_timeout)
    if args.json:
        print(json.dumps(report.__dict__))
    else:
        print("\n".join(report.lines()))
    clean = not (report.lost or report.duplicate_charges or report.wait_overruns or report.wrong_final_states
                 or report.foreign_exceptions)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
