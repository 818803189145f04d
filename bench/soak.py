"""Fault soak: many logical jobs through both clients against the fakes, misbehaving on purpose.

Every provider in the registry (``genwire.testing.fakes.FAKES``, the faithful fakes of
``genwire.testing``) takes part, so a new provider is soaked without a line here. Each
request may draw a fault on a seeded schedule, injected through the fakes' own scripting
(``disconnect_next``, ``fail_next``, ``truncate_next``) or by rewriting the reply:
connection refused, the reply lost after the job was created, 429 with Retry-After, 5xx
(before and after creating the job), truncated or malformed JSON, an unknown status, and
replies slower than the request's timeout (the transport honours the timeout httpx would,
as a real socket does). Each created job is scripted to succeed, fail, or never end.

Every logical submit is counted on the provider side, and the report says:

* lost: the provider created a job, but the caller got neither a ``Job`` with its
  id nor a ``SubmissionUncertainError`` naming the idempotency key (must be 0);
* duplicate charges: a logical submit that created more than one job (at one provider, or
  across several for a family request that fell back) (0);
* wait overruns: ``wait(timeout=T)`` that took longer than T + 0.25 s (0);
* wrong final states: a wait that returned ``succeeded`` for a job the provider
  did not finish successfully (0); foreign exceptions: anything not a ``GenwireError`` (0).

    python bench/soak.py --jobs 10000 --faults 0.12 --seed 1
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import random
import re
import resource
import sys
import threading
import time
from collections.abc import Mapping
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
    InvalidInputError,
    Job,
    JobFailedError,
    JobStatus,
    PollPolicy,
    RetryPolicy,
    SubmissionUncertainError,
    WaitTimeoutError,
)
from genwire.adapters import ADAPTERS
from genwire.testing import FakeJob, FakeProvider, FakeProviders, sample_request

OVERRUN_MARGIN = 0.25
FAULTS = ("refused", "lost_reply", "rate_limited", "5xx_before", "5xx_after", "truncated", "malformed",
          "unknown_status", "slow")
_LOGICAL = re.compile(r"soak-(\d+)-")
_PROMPT = {"prompt": "soak-0-x"}


def prompt_targets(catalog: Catalog, providers: list[str]) -> dict[str, tuple[str, str]]:
    """Per provider, the model and task ``genwire.testing.sample_request`` picks (a prompt fills it)."""
    found: dict[str, tuple[str, str]] = {}
    for provider in providers:
        try:
            request = sample_request(provider, catalog=catalog)
        except InvalidInputError:
            continue
        assert request.model is not None and request.task is not None
        found[provider] = (request.model, request.task)
    return found


def shared_family(catalog: Catalog, providers: list[str]) -> tuple[str, str] | None:
    """A family (and task) offered by two or more of ``providers`` that a prompt alone satisfies."""
    for family, members in sorted(catalog.families().items()):
        offered = {m.provider for m in members} & set(providers)
        if len(offered) < 2:
            continue
        for task in catalog.family_tasks(family):
            if _takes(catalog.validate_family, family, task, _PROMPT) and all(
                    _takes(catalog.validate, m.provider, m.id, task, _PROMPT)
                    for m in members if m.provider in offered and task in m.tasks):
                return family, task
    return None


def _takes(check: Any, *args: Any) -> bool:
    try:
        check(*args)
    except InvalidInputError:
        return False
    return True


@dataclass
class Faulty:
    """The fakes behind a fault schedule; tells each created job how it ends. Thread-safe."""

    fakes: FakeProviders
    rng: random.Random
    fault_rate: float
    slow_delay: float
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULTS, 0))
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fake_for(self, request: httpx.Request) -> FakeProvider | None:
        url = str(request.url)
        return next((f for f in self.fakes.fakes.values() if url.startswith(f.base_url + "/")), None)

    def plan(self, request: httpx.Request) -> tuple[httpx.Response | Exception, float]:
        """What to answer and after how long; the transport sleeps and honours timeouts."""
        with self.lock:
            self.requests += 1
            fake = self.fake_for(request)
            fault = self.rng.choice(FAULTS) if fake is not None and self.rng.random() < self.fault_rate else None
            if fault == "unknown_status" and request.method == "POST":
                fault = "malformed"
            if fault is not None:
                self.faults[fault] += 1
            if fake is not None:
                self._script(fake, fault)
            before = len(fake.jobs) if fake is not None else 0
            try:
                response = self.fakes(request)
            except httpx.HTTPError as exc:
                return exc, 0.0
            finally:
                if fake is not None:
                    self._new_jobs(fake, before)
            if fault == "malformed":
                return httpx.Response(response.status_code, content=b'{"unexpected": ["shape"]}'), 0.0
            if fault == "unknown_status":
                try:
                    body = json.loads(response.read())
                except ValueError:
                    return response, 0.0
                return httpx.Response(response.status_code, json=_unknown_status(body)), 0.0
            return response, self.slow_delay if fault == "slow" else 0.0

    def _script(self, fake: FakeProvider, fault: str | None) -> None:
        """Set the fake up to misbehave on the request it handles next (this one: under the lock)."""
        if fault == "refused":
            fake.disconnect_next()
        elif fault == "lost_reply":
            fake.disconnect_next(before_send=False)
        elif fault == "rate_limited":
            fake.fail_next(429, retry_after=0.01)
        elif fault == "5xx_before":
            fake.fail_next(self.rng.choice([500, 502, 503, 504]))
        elif fault == "5xx_after":
            fake.fail_next(self.rng.choice([500, 502, 504]), processed=True)
        elif fault == "truncated":
            fake.truncate_next()

    def _new_jobs(self, fake: FakeProvider, before: int) -> None:
        """How each job the request created ends: 3% never, 10% fail, the rest succeed."""
        for job in itertools.islice(reversed(fake.jobs.values()), max(0, len(fake.jobs) - before)):
            roll = self.rng.random()
            if roll < 0.03:
                job.held = True
            elif roll < 0.13:
                job.outcome = "fail"


def _unknown_status(body: Any) -> Any:
    """The reply with every ``status`` string replaced by one no provider sends."""
    if isinstance(body, list):
        return [_unknown_status(item) for item in body]
    if isinstance(body, dict):
        return {k: "warming_up" if k == "status" and isinstance(v, str) else _unknown_status(v)
                for k, v in body.items()}
    return body


def _logical(job: FakeJob) -> int:
    match = _LOGICAL.search(json.dumps(job.body))
    return int(match.group(1)) if match else -1


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout", {})
    value = timeout.get("read") if isinstance(timeout, dict) else None
    return float(value) if value is not None else None


class SyncFaults(httpx.BaseTransport):
    def __init__(self, providers: Faulty) -> None:
        self.providers = providers

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
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
    def __init__(self, providers: Faulty) -> None:
        self.providers = providers

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
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

    provider: str  # a provider, or "family"
    logical: int
    job_id: str | None = None
    job_provider: str | None = None
    uncertain_key: str | None = None
    uncertain_provider: str | None = None
    submit_error: str | None = None
    final_status: str | None = None
    wait_error: str | None = None
    wait_seconds: float = 0.0
    foreign: str | None = None

    def submitted(self, job: Job) -> None:
        self.job_id, self.job_provider = job.id, job.provider

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
    #: the outcomes of each target (a provider, or "family")
    per_target: dict[str, dict[str, int]] = field(default_factory=dict)

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
            *(f"  {target}: " + ", ".join(f"{k}={v}" for k, v in sorted(kinds.items()))
              for target, kinds in sorted(self.per_target.items())),
            f"seconds: {self.seconds:.1f}",
            f"scheduling lag (a 5 ms sleeper thread): worst {self.max_lag:.3f} s, {self.stalls} stalls > 0.1 s",
            f"peak RSS: {self.peak_rss_mb:.1f} MB",
        ]


@dataclass(frozen=True)
class Plan:
    """What the soak submits: a prompt-only model per provider and, if the catalog has one, a
    family several of them offer (tried in ``order``: providers without idempotency first, so a
    fallback after an uncertain submit would show)."""

    models: Mapping[str, tuple[str, str]]
    family: tuple[str, str] | None
    order: tuple[str, ...]
    api_keys: Mapping[str, str]
    base_urls: Mapping[str, str]
    catalog: Catalog

    @classmethod
    def of(cls, fakes: FakeProviders, catalog: Catalog) -> Plan:
        providers = [p for p in fakes.fakes if p in ADAPTERS]
        models = prompt_targets(catalog, providers)
        order = tuple(sorted(models, key=lambda p: ADAPTERS[p].submit_replay_safe))
        return cls(models, shared_family(catalog, list(models)), order, fakes.api_keys, fakes.base_urls, catalog)

    def targets(self) -> list[str]:
        """What each logical job names, in turn: every fifth the family, the others each provider."""
        return list(self.models) + (["family"] if self.family else [])

    def request(self, target: str, logical: int) -> GenerationRequest:
        prompt = {"prompt": f"soak-{logical}-x"}
        if target == "family":
            assert self.family is not None
            return GenerationRequest(family=self.family[0], task=self.family[1], input=prompt)
        model, task = self.models[target]
        return GenerationRequest(provider=target, model=model, task=task, input=prompt)

    def options(self, wait_timeout: float) -> dict[str, Any]:
        return {"api_keys": dict(self.api_keys), "base_urls": dict(self.base_urls), "catalog": self.catalog,
                "timeout": min(0.2, wait_timeout / 2), "providers": list(self.order),
                "poll": PollPolicy(initial_interval=0.002, max_interval=0.01, max_consecutive_failures=6),
                "retry": RetryPolicy(max_retries=3, initial_delay=0.001, max_delay=0.01)}


def _one_sync(client: Client, plan: Plan, provider: str, logical: int, wait_timeout: float) -> Outcome:
    out = Outcome(provider, logical)
    try:
        job = client.submit(plan.request(provider, logical))
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


async def _one_async(client: AsyncClient, plan: Plan, provider: str, logical: int, wait_timeout: float,
                     gate: asyncio.Semaphore) -> Outcome:
    out = Outcome(provider, logical)
    async with gate:
        try:
            job = await client.submit(plan.request(provider, logical))
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
             concurrency: int = 32, catalog: Catalog | None = None) -> Report:
    """``jobs`` logical submits (half through ``Client``, half through ``AsyncClient``, every provider)."""
    catalog = catalog or Catalog.default()
    fakes = FakeProviders(catalog=catalog)
    for fake in fakes.fakes.values():
        if isinstance(getattr(fake, "balance", None), float):
            fake.balance = 1e12  # type: ignore[attr-defined]  # a prepaid account never runs dry here
    plan = Plan.of(fakes, catalog)
    faulty = Faulty(fakes, random.Random(seed), fault_rate, slow_delay=wait_timeout * 3)
    lag = LagMonitor()
    lag.start()
    targets = plan.targets()
    work = [(targets[i % len(targets)], i) for i in range(jobs)]
    sync_part, async_part = work[: jobs // 2], work[jobs // 2:]
    started = time.monotonic()
    outcomes: list[Outcome] = []
    gc.collect()
    gc.freeze()  # import-time and catalog objects: not worth re-scanning in every full collection
    with Client(transport=SyncFaults(faulty), **plan.options(wait_timeout)) as client, \
            ThreadPoolExecutor(max_workers=max(1, concurrency // 2)) as pool:
        outcomes += pool.map(lambda w: _one_sync(client, plan, w[0], w[1], wait_timeout), sync_part)

    async def run_async() -> list[Outcome]:
        gate = asyncio.Semaphore(concurrency)
        async with AsyncClient(transport=AsyncFaults(faulty), **plan.options(wait_timeout)) as aclient:
            return await asyncio.gather(*(_one_async(aclient, plan, p, n, wait_timeout, gate) for p, n in async_part))

    outcomes += asyncio.run(run_async())
    lag.stop()
    report = _report(faulty, plan, outcomes, wait_timeout, time.monotonic() - started)
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


def _report(faulty: Faulty, plan: Plan, outcomes: list[Outcome], wait_timeout: float, seconds: float) -> Report:
    lost = duplicates = overruns = wrong = foreign = 0
    worst = -wait_timeout
    counts: dict[str, int] = {}
    per_target: dict[str, dict[str, int]] = {}
    # what the providers created, per (provider, logical job), and the idempotency keys they saw
    created: dict[tuple[str, int], list[str]] = {}
    keys_seen: dict[tuple[str, int], set[str]] = {}
    for name, fake in faulty.fakes.fakes.items():
        for job in fake.jobs.values():
            logical = _logical(job)
            created.setdefault((name, logical), []).append(job.id)
            if job.idempotency_key is not None:
                keys_seen.setdefault((name, logical), set()).add(job.idempotency_key)
    fakes = faulty.fakes.fakes
    for out in outcomes:
        # a family job may land at any provider offering it: count its charges across them all
        targets = plan.order if out.provider == "family" else (out.provider,)
        made = [(p, job) for p in targets for job in created.get((p, out.logical), [])]
        duplicates += len(made) > 1
        # an uncertain submit is recovered when its key finds the job (a provider with idempotency
        # saw that key) or, without idempotency, when it names the provider to look at
        uncertain = out.uncertain_provider
        recovered = (out.job_id is not None and (out.job_provider, out.job_id) in made) or (
            bool(out.uncertain_key) and uncertain in targets and uncertain is not None
            and (not ADAPTERS[uncertain].submit_replay_safe
                 or out.uncertain_key in keys_seen.get((uncertain, out.logical), set())))
        if made and not recovered:
            lost += 1
        if out.foreign is not None:
            foreign += 1
        if out.job_id is not None:
            overrun = out.wait_seconds - wait_timeout
            worst = max(worst, overrun)
            overruns += overrun > OVERRUN_MARGIN
        if out.final_status == JobStatus.SUCCEEDED.value:
            fake_job = fakes[out.job_provider].jobs.get(out.job_id or "") if out.job_provider in fakes else None
            wrong += fake_job is None or fake_job.status is not JobStatus.SUCCEEDED
        kind = ("uncertain" if out.uncertain_key else f"refused:{out.submit_error}" if out.submit_error
                else "foreign" if out.foreign else "succeeded" if out.final_status
                else "failed" if out.wait_error == JobFailedError.__name__
                else "wait_timeout" if out.wait_error == WaitTimeoutError.__name__
                else f"poll_gave_up:{out.wait_error}")
        counts[kind] = counts.get(kind, 0) + 1
        mine = per_target.setdefault(out.provider, {})
        mine[kind] = mine.get(kind, 0) + 1
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Report(len(outcomes), faulty.requests, dict(faulty.faults), lost, duplicates, overruns, worst,
                  wrong, foreign, counts, seconds, rss, per_target=per_target)


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
