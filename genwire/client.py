"""``Client``: the synchronous driver over the adapters and the shared policy.

``Client`` and ``AsyncClient`` (the asyncio driver, in ``genwire._client.async_client`` and
re-exported here) run the same flows from ``_policy``; only sending, sleeping and
calling ``on_update`` differ. Everything else (keys, URLs, catalog lookups, fallback
order) lives in ``_ClientCore`` and is shared.
"""

from __future__ import annotations

import inspect
import random as _random
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ._client.checks import DEFAULT_TIMEOUT
from ._client.core import DEFAULT_WAIT_TIMEOUT, GATE_TIMEOUT, _ClientCore, logger
from ._client.drive import Failed, steps
from ._client.options import check_transport
from ._policy.flows import Flow, Record, Send, Sleep, TransportFailure, confirm_flow, refresh_flow, wait_flow
from ._policy.retry import LIVE_CATALOG_TTL as DEFAULT_TTL
from ._policy.retry import PollPolicy, RetryPolicy
from ._transport.gate import SyncGate
from ._transport.http import SPENT, HTTPClient, KeyQueryTransport, partial_file, read_by
from .adapters.base import WireRequest, WireResponse
from .catalog import Catalog
from .errors import ConfigurationError, GenwireError
from .models import GenerationRequest, Job, Media, Unsupported

if TYPE_CHECKING:
    from ._client.async_client import AsyncClient
    from ._policy.driver import OnUpdate
    from .ledger import Ledger
    from .models._account import Account, Estimate
    from .specs import ModelSpec

__all__ = ["AsyncClient", "Client", "DEFAULT_WAIT_TIMEOUT", "OnUpdate"]

T = TypeVar("T")


class Client(_ClientCore):
    """Synchronous client. Use as a context manager; one pooled connection set per client.

    Every argument is keyword-only and checked when the client is made (a
    ``ConfigurationError`` lists every problem):

    * ``api_keys``: key per provider (``clipia``, ``cliprise``); ``CLIPIA_KEY`` and
      ``CLIPRISE_KEY`` in the environment fill the gaps.
    * ``base_urls``: API base per provider (``https://``, or ``http://`` on loopback).
    * ``providers``: the order family requests try providers in.
    * ``catalog``: the model catalog (default: the bundled one).
    * ``timeout``: per HTTP request, seconds or an ``httpx.Timeout`` (``None``: no limit).
      ``wait(timeout=...)`` is the separate deadline of a whole wait.
    * ``max_retries``: retries of a failed request that is safe to repeat (default 2);
      ``retry=RetryPolicy(...)`` also sets the backoff.
    * ``poll``: how often ``wait`` polls (``PollPolicy``).
    * ``max_connections``: the connection pool's size.
    * ``max_in_flight``: HTTP exchanges in flight at once; more callers wait their turn
      (default: ``max_connections``).
    * ``trust_env``: honour ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``/``NO_PROXY`` (and
      ``SSL_CERT_FILE``) as httpx does, when no ``transport`` is given.
    * ``proxy``: send every request through this proxy (``http://``, ``https://``, or
      ``socks5://`` with httpx's ``socks`` extra); the proxy variables are then not read.
      Credentials in it (``http://user:pass@host:3128``) are kept out of logs and errors.
    * ``transport``: an ``httpx`` transport to send through (tests: ``httpx.MockTransport``).
    * ``callback_token``: a secret added to callback URLs of providers that do not sign
      webhooks (``True``: generate one; read it back from ``client.callback_token``).
    * ``ledger``: a durable job ledger (``genwire.ledger``) or its URL
      (``"sqlite:///jobs.db"``): submits and statuses are recorded in it.
    * ``clock``, ``random``: injectable time and jitter sources (tests).
    """

    def __init__(
        self,
        *,
        api_keys: Mapping[str, str] | None = None,
        base_urls: Mapping[str, str] | None = None,
        providers: Sequence[str] | None = None,
        catalog: Catalog | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        poll: PollPolicy | None = None,
        max_connections: int = 20,
        max_in_flight: int | None = None,
        trust_env: bool = True,
        proxy: str | None = None,
        transport: httpx.BaseTransport | None = None,
        callback_token: str | bool | None = None,
        ledger: Ledger | str | None = None,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
    ) -> None:
        check_transport(transport, httpx.BaseTransport, "Client", proxy)
        super().__init__(api_keys=api_keys, base_urls=base_urls, providers=providers, catalog=catalog,
                         timeout=timeout, max_retries=max_retries, retry=retry, poll=poll,
                         max_connections=max_connections, max_in_flight=max_in_flight, trust_env=trust_env,
                         proxy=proxy, callback_token=callback_token, ledger=ledger, clock=clock, random=random)
        if transport is not None:
            default, mounts = KeyQueryTransport(transport), {}
        else:
            default = KeyQueryTransport(httpx.HTTPTransport(limits=self._limits, trust_env=trust_env))
            mounts = self._proxy_mounts(lambda proxy: KeyQueryTransport(
                httpx.HTTPTransport(proxy=proxy, limits=self._limits, trust_env=trust_env)))
        self._http = HTTPClient(transport=default, mounts=mounts, timeout=self._timeout, follow_redirects=False)
        self._gate = SyncGate(self.max_in_flight)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        self._close_ledger()

    # -- driving flows -----------------------------------------------------------------
    def _send(self, provider: str, request: WireRequest, timeout: float | None = None) -> WireResponse:
        self._check_open(self._http.is_closed)
        failure: TransportFailure | None = None
        try:
            if timeout is None:
                with self._gate:
                    resp = self._http.send(self._http_request(provider, request))
                    body = resp.read()
            else:  # inside a wait: queueing for the gate counts against the time left too
                queued = time.monotonic()
                if not self._gate.enter_within(timeout):
                    raise TransportFailure(GATE_TIMEOUT, reached=False, timeout=True)
                try:
                    left = timeout - (time.monotonic() - queued)
                    resp = self._http.send(self._http_request(provider, request, left), stream=True)
                    body = read_by(resp, queued + timeout)
                finally:
                    self._gate.leave()
            resp.stream = SPENT  # the body is read: drop httpx's response <-> stream cycle now, not at GC
            logger.debug("%s %s %s -> %d", provider, request.method, request.path, resp.status_code)
            return self._wire_response(resp, body)
        except httpx.RequestError as exc:
            failure = self._transport_failure(exc)
        raise failure  # outside the except block: the httpx error (its URL may hold a key) is not chained

    def drive(self, flow: Flow[T], on_update: OnUpdate | None = None) -> T:
        """Run ``flow`` to its end (the Driver seam): ``drive.steps`` does all but the I/O, here."""
        loop = steps(flow, self._rate_limits)
        try:
            effect = next(loop)
            while True:
                answer: Any = None
                if isinstance(effect, Send):
                    try:
                        answer = self._send(effect.provider, effect.request, effect.timeout)
                    except (TransportFailure, GenwireError) as failure:
                        answer = Failed(failure)
                elif isinstance(effect, Record):
                    try:
                        answer = effect.call()
                    except Exception as failure:
                        answer = Failed(failure)
                elif isinstance(effect, Sleep):
                    self._sleep(effect.seconds)
                else:
                    _notify(on_update, effect.job)
                effect = loop.send(answer)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            loop.close()

    # -- the public surface ---------------------------------------------------------------
    def submit(self, request: GenerationRequest | str, *, input: Mapping[str, Any] | None = None,
               task: str | None = None, webhook_url: str | None = None, idempotency_key: str | None = None,
               unsupported: Unsupported = "error") -> Job:
        """Validate, then submit; return the accepted job. Nothing is sent for invalid input.

        ``request`` is a ``GenerationRequest``, or a target with the request's fields as
        keywords: ``"provider/model"`` (``"cliprise/veo-3-fast"``) or a family name.
        """
        request = self._as_request(request, input=input, task=task, webhook_url=webhook_url,
                                   idempotency_key=idempotency_key, unsupported=unsupported)
        return self.drive(self.submit_flow(request))

    def status(self, job: Job | str, job_id: str | None = None) -> Job:
        """Poll once and return the refreshed job: ``status(job)`` or ``status("clipia", request_id)``.

        A finished job whose final result was not read yet (outputs, or a failure's
        error and refunded cost) gets it read too.
        """
        job = self._job_of(job, job_id)
        adapter = self.adapter(job.provider)
        return self.drive(self._recorded(refresh_flow(adapter, job, self.retry, self.random),
                                          "poll"))

    result = status

    def confirm(self, job: Job) -> Job:
        """The provider's own word on ``job``: one status poll, whatever the job claims.

        The safe default for a delivery from a provider that does not sign webhooks
        (Cliprise): act on the confirmed job, not on the delivery.
        """
        flow = confirm_flow(self.adapter(job.provider), job, self.retry, self.random)
        return self.drive(self._recorded(flow, "poll"))

    def wait(self, job: Job | str, job_id: str | None = None, *, timeout: float = DEFAULT_WAIT_TIMEOUT,
             on_update: OnUpdate | None = None) -> Job:
        """Poll until the job ends; raise ``JobFailedError`` or ``WaitTimeoutError`` (both carry the job).

        Takes a ``Job`` or a provider name and job id, like ``status``.
        """
        job = self._job_of(job, job_id)
        adapter = self.adapter(job.provider)
        flow = wait_flow(adapter, job, timeout=timeout, poll=self.poll, retry=self.retry,
                         clock=self._clock, random=self.random)
        return self.drive(self._recorded(flow, "wait"), on_update)

    def run(self, request: GenerationRequest | str, *, input: Mapping[str, Any] | None = None,
               task: str | None = None, webhook_url: str | None = None, idempotency_key: str | None = None,
               unsupported: Unsupported = "error",
            timeout: float = DEFAULT_WAIT_TIMEOUT, on_update: OnUpdate | None = None) -> Job:
        """Submit and wait: ``client.run("cliprise/veo-3-fast", input={"prompt": "a fox"})``.

        ``timeout`` bounds the wait. A provider with a sync mode (Replicate's ``Prefer: wait``)
        is asked to hold the create open while ``timeout`` allows; then polling takes over.
        """
        request = self._as_request(request, input=input, task=task, webhook_url=webhook_url,
                                   idempotency_key=idempotency_key, unsupported=unsupported)
        return self.drive(self.run_flow(request, timeout), on_update)

    def cancel(self, job: Job | str, job_id: str | None = None) -> Job:
        """Cancel a job: ``cancel(job)`` or ``cancel("replicate", prediction_id)``; return it as the
        provider reports it after (a job that already ended is returned as it is).

        Providers without cancel (Clipia, Cliprise) raise ``UnsupportedOperationError``, sending nothing.
        """
        return self.drive(self.cancel_flow(self._job_of(job, job_id)))

    def estimate(self, request: GenerationRequest) -> Estimate:
        """The provider's price for this input, without submitting (Clipia): an ``Estimate``, which is
        a ``Cost`` (``credits``) plus the ``warnings`` genwire and the provider raised about the input."""
        plan, wire = self._plan_estimate(request)
        resp = self.drive(self._get_flow(plan.adapter, wire))
        return self._estimated(plan, plan.adapter.parse_estimate(resp))

    def balance(self, provider: str) -> float:
        """The account's credit balance (Clipia)."""
        return self.account(provider).credits

    def account(self, provider: str) -> Account:
        """The account as the provider reports it: balance and 30-day usage (Clipia)."""
        adapter, wire = self._plan_balance(provider)
        return adapter.parse_account(self.drive(self._get_flow(adapter, wire)))

    # -- the live catalog ------------------------------------------------------------
    def refresh_catalog(self, provider: str, models: Sequence[str] | None = None, *,
                        cache_dir: str | Path | None = None, ttl: float = DEFAULT_TTL) -> Catalog:
        """A new ``Catalog``: this client's with the provider's live models laid over it (Clipia).

        ``models``: those slugs only (default: every generation model the provider lists).
        ``cache_dir``: keep the fetched JSON there for ``ttl`` seconds, so the next process
        starts without a round trip per model. Pass the result as ``Client(catalog=...)``
        to validate against the live schemas before the wire. A live model that does not
        compile is left out (logged); one named in ``models`` raises ``CatalogError``.
        """
        return self.drive(self._live_flow(provider, models, cache_dir, ttl)).catalog

    def list_models(self, provider: str, *, cache_dir: str | Path | None = None,
                    ttl: float = DEFAULT_TTL) -> list[ModelSpec]:
        """The provider's live generation models as ``ModelSpec``s (``GET /v1/models``, then each model)."""
        return list(self.drive(self._live_flow(provider, None, cache_dir, ttl)).specs)

    def get_model(self, provider: str, model: str, *, cache_dir: str | Path | None = None,
                  ttl: float = DEFAULT_TTL) -> ModelSpec:
        """One live model (``GET /v1/models/:model``) as a ``ModelSpec``."""
        return self.drive(self._live_flow(provider, [model], cache_dir, ttl)).specs[0]

    def download(self, media: Media, path: str | Path | None = None) -> bytes | Path:
        """Fetch an output: stream it to ``path`` or return its bytes.

        A provider key is added only for URLs on that provider's own origin.
        """
        self._check_open(self._http.is_closed)
        provider, request = self._download_request(media)
        failure: GenwireError | None = None
        try:
            with self._http.stream(request.method, request.url, headers=request.headers,
                                   extensions=request.extensions, follow_redirects=True) as resp:
                if resp.status_code >= 400:
                    failure = self._download_error(provider, self._wire_response(resp, resp.read()))
                elif path is None:
                    return resp.read()
                else:
                    with partial_file(Path(path)) as out:
                        for chunk in resp.iter_bytes():
                            out.write(chunk)
                    return Path(path)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            failure = self._download_failure(provider, exc)
        raise failure  # outside the except block: the httpx error (its URL may hold a key) is not chained

    @staticmethod
    def _sleep(seconds: float) -> None:
        time.sleep(seconds)


def _notify(on_update: OnUpdate | None, job: Job) -> None:
    if on_update is None:
        return
    outcome = on_update(job)
    if inspect.isawaitable(outcome):
        if inspect.iscoroutine(outcome):
            outcome.close()
        raise ConfigurationError("on_update returned an awaitable: use AsyncClient for async callbacks",
                                 code="async_callback", job=job)


def __getattr__(name: str) -> Any:
    # AsyncClient loads on first use: a sync client's process never imports the asyncio driver
    if name == "AsyncClient":
        from ._client.async_client import AsyncClient

        globals()[name] = AsyncClient
        return AsyncClient
    if name == "OnUpdate":  # a type alias: the Driver protocols' module loads only when asked for
        from ._policy.driver import OnUpdate

        globals()[name] = OnUpdate
        return OnUpdate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
