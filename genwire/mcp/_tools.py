"""What each tool does, over genwire's public ``AsyncClient`` and ``Catalog``: no MCP SDK here.

``GenwireTools`` holds the client, the spending guard and what this server submitted
(by idempotency key, so a retried ``generate`` returns its first job; by job, so
``get_generation`` keeps the model a job was submitted for). Each tool takes its
checked arguments and returns ``Reply``: the structured result and the outputs to
link; failures raise typed genwire errors, which the server turns into tool errors.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio

from ..adapters import ADAPTERS
from ..errors import (
    ConfigurationError,
    GenwireError,
    IdempotencyConflictError,
    InvalidInputError,
    JobFailedError,
    SubmissionUncertainError,
    UnsupportedOperationError,
    Violation,
    WaitTimeoutError,
)
from ..models import GenerationRequest, Job, Media, Unsupported
from . import _views as views
from ._guard import Guard
from ._schemas import MAX_WAIT

if TYPE_CHECKING:
    from ..catalog import Catalog, Resolved
    from ..client import AsyncClient

__all__ = ["GenwireTools", "Progress", "Reply"]

#: ``(progress, total, message)``, as MCP progress notifications carry them
Progress = Callable[[float, "float | None", "str | None"], Awaitable[None]]


@dataclass(frozen=True)
class Reply:
    """A tool's structured result, and the output files to show as resource links (and small images)."""

    result: dict[str, Any]
    outputs: tuple[Media, ...] = ()


@dataclass
class _Submitted:
    """One ``generate`` with an idempotency key: the request it was for, and its job or uncertain error."""

    fingerprint: str
    job: Job | None = None
    uncertain: SubmissionUncertainError | None = None


@dataclass
class _Reporter:
    """Job updates as MCP progress: percent of 100, strictly increasing, with a one-line message."""

    send: Progress | None
    last: float = -1.0
    seen: tuple[Any, ...] = field(default=())

    async def __call__(self, job: Job) -> None:
        state = (job.status, job.progress, job.queue_position)
        if self.send is None or state == self.seen:
            return
        self.seen = state
        value = 100.0 if job.status.value == "succeeded" else min(job.progress or 0.0, 99.0)
        value = max(value, self.last + 0.01)  # the spec wants every report higher than the one before
        self.last = value
        parts = [job.status.value]
        if job.progress is not None:
            parts.append(f"{job.progress:.0f}%")
        if job.queue_position is not None and not job.done:
            parts.append(f"queue position {job.queue_position}")
        await self.send(round(value, 2), 100.0, f"{job.provider} {job.id}: {', '.join(parts)}")


def _fingerprint(request: GenerationRequest) -> str:
    return json.dumps([request.provider, request.model, request.family, request.task, request.input,
                       request.unsupported], sort_keys=True, default=str)


class GenwireTools:
    """The tools' behaviour. ``client`` stays the caller's: open it before, close it after."""

    def __init__(self, client: AsyncClient, *, guard: Guard | None = None) -> None:
        self.client = client
        self.guard = guard or Guard()
        self._by_key: dict[str, _Submitted] = {}
        self._key_locks: dict[str, anyio.Lock] = {}
        self._jobs: dict[tuple[str, str], Job] = {}
        #: output URL -> the file, for read_resource (only outputs of jobs seen here are served)
        self.outputs: dict[str, Media] = {}

    @property
    def catalog(self) -> Catalog:
        return self.client.catalog

    @property
    def ledger_enabled(self) -> bool:
        return self.client.ledger is not None

    # -- requests ----------------------------------------------------------------------
    @staticmethod
    def _request(args: Mapping[str, Any]) -> GenerationRequest:
        target = str(args["model"])
        provider, slash, model = target.partition("/")
        if slash and (not provider or not model):
            raise InvalidInputError(f"model {target!r} is not 'provider/model'",
                                    [Violation("$.model", "is 'provider/model' or a family name")],
                                    code="invalid_arguments")
        where = {"provider": provider, "model": model} if slash else {"family": target}
        return GenerationRequest(**where, input=dict(args["input"]), task=args.get("task"),
                                 idempotency_key=args.get("idempotency_key"),
                                 unsupported=args.get("unsupported", "error"))

    def _resolve(self, request: GenerationRequest) -> list[Resolved]:
        """Every model the request may run on, its input validated for each (no network)."""
        if request.provider is not None:
            self.client.adapter(request.provider)  # NotFoundError for an unknown provider
        order = [p for p in self.client.providers if p in self.catalog.providers]
        return self.catalog.resolve(request, providers=order or None)

    def _remember(self, job: Job) -> Job:
        self._jobs[(job.provider, job.id)] = job
        for media in job.outputs:
            self.outputs[media.url] = media
        if job.cost is not None:
            self.guard.settle((job.provider, job.id), job.cost.credits)
        return job

    def _known(self, provider: str, job_id: str) -> Job | str:
        self.client.adapter(provider)  # NotFoundError for an unknown provider
        return self._jobs.get((provider, job_id)) or provider

    def _replay_safe(self, provider: str | None) -> bool:
        """Whether the provider deduplicates submits by idempotency key (resending is then safe)."""
        return provider is not None and provider in ADAPTERS and self.client.adapter(provider).submit_replay_safe

    # -- catalog tools ---------------------------------------------------------------------
    async def list_models(self, args: Mapping[str, Any], progress: Progress | None = None) -> Reply:
        specs = self.catalog.models(provider=args.get("provider"), kind=args.get("kind"), task=args.get("task"),
                                    family=args.get("family"))
        models = [views.model_summary(s) for s in sorted(specs, key=lambda s: (s.provider, s.kind, s.id))]
        return Reply({"models": models, "count": len(models)})

    async def get_model(self, args: Mapping[str, Any], progress: Progress | None = None) -> Reply:
        provider, slash, model = str(args["model"]).partition("/")
        if not slash:
            members = self.catalog.families().get(provider)
            hint = f"; family {provider!r} is offered as {', '.join(f'{m.provider}/{m.id}' for m in members)}" \
                if members else ""
            raise InvalidInputError(f"get_model takes 'provider/model'{hint}",
                                    [Violation("$.model", "is not 'provider/model'")], code="invalid_arguments")
        spec = self.catalog.get(provider, model)
        schemas = {t: self.catalog.input_schema(provider, model, t) for t in spec.tasks}
        return Reply(views.model_detail(spec, schemas))

    async def validate_input(self, args: Mapping[str, Any], progress: Progress | None = None) -> Reply:
        request = self._request(args)
        try:
            found = self._resolve(request)
        except InvalidInputError as err:
            return Reply({"valid": False, "provider": request.provider, "model": request.model or request.family,
                          "task": request.task, "input": None, "warnings": [],
                          "violations": [{"path": v.path, "message": v.message} for v in err.violations]
                          or [{"path": "$", "message": err.message}],
                          "message": err.message.splitlines()[0], "alternatives": []})
        first = found[0]
        return Reply({"valid": True, "provider": first.spec.provider, "model": first.spec.id,
                      "task": first.task.name, "input": first.input, "warnings": views.warnings_view(first.warnings),
                      "violations": [], "message": None,
                      "alternatives": [{"provider": r.spec.provider, "model": r.spec.id, "task": r.task.name}
                                       for r in found[1:]]})

    async def _estimate_one(self, resolved: Resolved, unsupported: Unsupported) -> dict[str, Any]:
        spec = resolved.spec
        request = GenerationRequest(provider=spec.provider, model=spec.id, task=resolved.task.name,
                                    input=resolved.input, unsupported=unsupported)
        view: dict[str, Any] = {"provider": spec.provider, "model": spec.id, "task": resolved.task.name,
                                "credits": None, "source": None, "note": None,
                                "warnings": views.warnings_view(resolved.warnings)}
        try:
            quote = await self.client.estimate(request)
        except UnsupportedOperationError:
            if spec.price is not None:
                view.update(credits=spec.price.credits, source="catalog", note=spec.price.note)
            return view
        view.update(credits=quote.credits, source=quote.source,
                    warnings=views.warnings_view(quote.warnings))
        return view

    async def _estimates(self, request: GenerationRequest, found: list[Resolved]) -> list[dict[str, Any]]:
        return [await self._estimate_one(r, request.unsupported) for r in found]

    async def estimate_cost(self, args: Mapping[str, Any], progress: Progress | None = None) -> Reply:
        request = self._request(args)
        estimates = await self._estimates(request, self._resolve(request))
        return Reply({"estimates": estimates, "credits": _highest(estimates)})

    # -- jobs -------------------------------------------------------------------------------
    async def generate(self, args: Mapping[str, Any], progress: Progress | None = None) -> Reply:
        request = self._request(args)
        found = self._resolve(request)
        self.guard.check_allowed((r.spec.provider, r.spec.id, r.spec.family) for r in found)
        key = request.idempotency_key
        if key is None:
            job = await self._submit(request, found)
        else:
            lock = self._key_locks.setdefault(key, anyio.Lock())
            async with lock:  # a retry that arrives while the first call is on the wire waits for it
                job = await self._submit_once(key, request, found)
        wait = float(args.get("wait", 0))
        if wait > 0 and not job.done:
            job = await self._wait(job, wait, progress)
        return self._reply(job)

    async def _submit_once(self, key: str, request: GenerationRequest, found: list[Resolved]) -> Job:
        fingerprint = _fingerprint(request)
        prior = self._by_key.get(key) or await self._from_ledger(key, fingerprint)
        if prior is not None:
            if prior.fingerprint != fingerprint:
                raise IdempotencyConflictError(f"idempotency_key {key!r} was used for another request; use a new "
                                               "key for a new job", code="idempotency_key_reuse")
            if prior.job is not None:
                return self._jobs.get((prior.job.provider, prior.job.id), prior.job)
            if prior.uncertain is not None and not self._replay_safe(prior.uncertain.provider):
                raise prior.uncertain  # never resent: it may have started a paid job
        entry = self._by_key[key] = _Submitted(fingerprint)
        try:
            entry.job = await self._submit(request, found)
        except SubmissionUncertainError as err:
            entry.uncertain = err
            raise
        except GenwireError:
            del self._by_key[key]  # certainly no job: the same key may try again
            raise
        return entry.job

    async def _from_ledger(self, key: str, fingerprint: str) -> _Submitted | None:
        """A job submitted with ``key`` before this server started, when the ledger knows it."""
        ledger = self.client.ledger
        if ledger is None:
            return None
        entries = await anyio.to_thread.run_sync(lambda: ledger.entries(idempotency_key=key, newest_first=True))
        for entry in entries:
            if entry.state.value == "rejected":  # certainly no job: the key may try again
                continue
            found = _Submitted(_fingerprint(entry.request), job=entry.job)
            if entry.job is None:
                found.uncertain = SubmissionUncertainError(
                    f"a submit with idempotency_key {key!r} is recorded as {entry.state.value} (ledger entry "
                    f"{entry.ref}): it may have started a job; not sent again", provider=entry.provider,
                    code="submission_uncertain", idempotency_key=key, model=entry.model)
            return found
        return None

    async def _submit(self, request: GenerationRequest, found: list[Resolved]) -> Job:
        what = f"{request.provider}/{request.model}" if request.family is None else f"family {request.family}"
        held = 0.0
        if self.guard.limited:
            held = self.guard.reserve(_highest(await self._estimates(request, found)), what)
        try:
            job = await self.client.submit(request)
        except SubmissionUncertainError:
            raise  # it may have started a job: the credits stay counted
        except GenwireError:
            self.guard.release(held)
            raise
        self.guard.accepted((job.provider, job.id), held)
        return self._remember(job)

    async def _wait(self, job: Job | str, seconds: float, progress: Progress | None, job_id: str | None = None
                    ) -> Job:
        reporter = _Reporter(progress)
        try:
            done = await self.client.wait(job, job_id, timeout=min(seconds, MAX_WAIT), on_update=reporter)
        except (WaitTimeoutError, JobFailedError) as err:
            if err.job is None:
                raise
            done = err.job
        await reporter(done)
        return self._remember(done)

    def _reply(self, job: Job) -> Reply:
        return Reply(views.generation(job), job.outputs)

    async def get_generation(self, args: Mapping[str, Any], progress: Progress | None = None) -> Reply:
        job = self._known(args["provider"], args["id"])
        found = await (self.client.status(job) if isinstance(job, Job) else self.client.status(job, args["id"]))
        return self._reply(self._remember(found))

    async def wait_generation(self, args: Mapping[str, Any], progress: Progress | None = None) -> Reply:
        job = self._known(args["provider"], args["id"])
        timeout = float(args.get("timeout", MAX_WAIT))
        if isinstance(job, Job):
            return self._reply(await self._wait(job, timeout, progress))
        return self._reply(await self._wait(job, timeout, progress, args["id"]))

    async def cancel_generation(self, args: Mapping[str, Any], progress: Progress | None = None) -> Reply:
        known = self._known(args["provider"], args["id"])
        # a provider that cannot cancel: UnsupportedOperationError from the client, before anything is sent
        canceled = await (self.client.cancel(known) if isinstance(known, Job)
                          else self.client.cancel(known, args["id"]))
        return self._reply(self._remember(canceled))

    async def list_generations(self, args: Mapping[str, Any], progress: Progress | None = None) -> Reply:
        ledger = self.client.ledger
        if ledger is None:
            raise ConfigurationError("no ledger: start the server with --ledger URL to list its jobs",
                                     code="no_ledger")
        since = _since(args.get("since"))
        state, provider, limit = args.get("state"), args.get("provider"), int(args.get("limit", 50))
        chosen = await anyio.to_thread.run_sync(lambda: ledger.entries(
            state=state, provider=provider, since=since, limit=limit, newest_first=True))
        for entry in chosen:
            if entry.job is not None:
                for media in entry.job.outputs:
                    self.outputs[media.url] = media
        rows = [{"ref": e.ref, "state": e.state.value, "provider": e.provider, "model": e.model, "task": e.task,
                 "id": e.provider_id, "cost": e.cost, "error": e.error, "created_at": views.iso(e.created_at),
                 "updated_at": views.iso(e.updated_at),
                 "outputs": [views.media_view(m) for m in (e.job.outputs if e.job is not None else ())]}
                for e in chosen]
        return Reply({"generations": rows, "count": len(rows)})

    async def get_balance(self, args: Mapping[str, Any], progress: Progress | None = None) -> Reply:
        one = args.get("provider")
        if one is not None:
            self._known(one, "")
            account = await self.client.account(one)  # "not offered" is a tool error here
            return Reply({"balances": [{"provider": one, "offered": True, "credits": account.credits,
                                        "error": None}]})
        balances = []
        for provider in sorted(ADAPTERS):
            row: dict[str, Any] = {"provider": provider, "offered": True, "credits": None, "error": None}
            try:
                row["credits"] = (await self.client.account(provider)).credits
            except UnsupportedOperationError:
                row.update(offered=False, error=f"{provider} has no balance API")
            except GenwireError as err:
                row["error"] = f"{type(err).__name__}: {err.message}"
            balances.append(row)
        return Reply({"balances": balances})


def _highest(estimates: list[dict[str, Any]]) -> float | None:
    """The most a call may cost across the models it may run on (None when any is unknown)."""
    credits = [e["credits"] for e in estimates]
    return None if not credits or None in credits else max(credits)


def _since(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInputError("since is not an ISO 8601 time", [Violation("$.since", "is not an ISO 8601 time "
                                "(e.g. 2026-01-31T12:00:00Z)")], code="invalid_arguments") from None
    if moment.tzinfo is None:
        raise InvalidInputError("since needs a time zone", [Violation("$.since", "has no time zone (add Z for UTC)")],
                                code="invalid_arguments")
    return moment.timestamp()
