"""What ``Client`` and ``AsyncClient`` share: configuration, keys, URLs and request planning."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import random as _random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import httpx

from .._policy.flows import (
    SYNC_WAIT_MARGIN,
    Attempts,
    Flow,
    Notify,
    SubmitPlan,
    TransportFailure,
    cancel_flow,
    send_flow,
    submit_any_flow,
    wait_flow,
)
from .._policy.ratelimit import RateLimits
from .._policy.retry import PollPolicy, RetryPolicy
from .._transport.requests import FixedHeaders, URLCache, build_request
from .._util.logfilter import REDACTING_FILTER
from .._util.redact import ReplyScrubber, redact_text, strip_query_secrets
from ..adapters import ADAPTERS, get_adapter
from ..adapters.base import Adapter, WireRequest, WireResponse
from ..catalog import Catalog
from ..errors import (
    ConfigurationError,
    GenwireError,
    InvalidInputError,
    NetworkError,
    NetworkTimeoutError,
    ProviderError,
    UnsupportedOperationError,
    Violation,
)
from ..models import GenerationRequest, Job, JobStatus, Media, Unsupported
from .checks import (
    DEFAULT_BASE_URLS,
    DEFAULT_TIMEOUT,
    DOWNLOAD_EXTENSION,
    KEY_ENV_ALIASES,
    KEY_ENV_VARS,
    KEY_EXTENSION,
    SANDBOX_KEY_PREFIXES,
    USER_AGENT,
    Keys,
    Origin,
    check_base_url,
    check_download_url,
    check_keys,
    check_request,
    origin_of,
    proxy_secrets,
    shown_proxy,
    under_path,
)
from .options import check_options

if TYPE_CHECKING:
    from ..ledger import Ledger
    from ..live import LiveCatalog
    from ..models._account import Estimate, RateLimit

__all__ = ["DEFAULT_BASE_URLS", "KEY_ENV_ALIASES", "KEY_ENV_VARS", "KEY_EXTENSION", "SANDBOX_KEY_PREFIXES",
           "origin_of"]  # re-exported from _client_checks, where they live

T = TypeVar("T")
R = TypeVar("R")


logger = logging.getLogger("genwire")

DEFAULT_WAIT_TIMEOUT = 600.0
GATE_TIMEOUT = "no request slot came free before the deadline (max_in_flight requests were in flight)"

class _ClientCore:
    def __init__(
        self,
        *,
        api_keys: Mapping[str, str] | None = None,
        catalog: Catalog | None = None,
        base_urls: Mapping[str, str] | None = None,
        providers: Sequence[str] | None = None,
        retry: RetryPolicy | None = None,
        max_retries: int | None = None,
        poll: PollPolicy | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_connections: int = 20,
        max_in_flight: int | None = None,
        trust_env: bool = True,
        proxy: str | None = None,
        callback_token: str | bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
        ledger: Ledger | str | None = None,
    ) -> None:
        check_options(api_keys=api_keys, catalog=catalog, base_urls=base_urls, providers=providers, retry=retry,
                      max_retries=max_retries, poll=poll, timeout=timeout, max_connections=max_connections,
                      trust_env=trust_env, proxy=proxy, callback_token=callback_token, clock=clock,
                      random=random)
        self.catalog = catalog or Catalog.default()
        keys = {}
        for p, v in KEY_ENV_VARS.items():
            found = next((os.environ[n] for n in (v, *KEY_ENV_ALIASES.get(p, ())) if os.environ.get(n)), None)
            if found:
                keys[p] = found
        keys.update({p: k for p, k in (api_keys or {}).items() if k})
        check_keys(keys)
        self.__keys = Keys(keys)
        # a proxy's password is a secret like the keys: out of logs, errors and replies
        self.__secrets = Keys({**keys, **{f"proxy {i}": v for i, v in enumerate(proxy_secrets(proxy))}})
        REDACTING_FILTER.register(self, self.__secrets.values())
        self._scrub = ReplyScrubber(self.__secrets.values())  # a proxy can echo its credentials
        urls = {**DEFAULT_BASE_URLS, **(base_urls or {})}
        self.base_urls = {p: check_base_url(p, u) for p, u in urls.items()}
        #: provider preference for family requests
        self.providers = tuple(providers) if providers is not None else tuple(ADAPTERS)
        self.retry = retry or RetryPolicy()
        if max_retries is not None:
            self.retry = dataclasses.replace(self.retry, max_retries=max_retries)
        self.poll = poll or PollPolicy()
        self._timeout = timeout
        self._trust_env = trust_env
        self.__proxy = Keys({"proxy": proxy}) if proxy is not None else None
        self._limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        #: HTTP exchanges of this client in flight at once; more callers wait their turn, first come
        #: first served, outside the connection pool (default: ``max_connections``)
        self.max_in_flight = max_connections if max_in_flight is None else max_in_flight
        if isinstance(self.max_in_flight, bool) or not isinstance(self.max_in_flight, int) or self.max_in_flight < 1:
            raise ConfigurationError(f"max_in_flight must be a whole number >= 1; got {max_in_flight!r}",
                                     code="invalid_max_in_flight")
        if callback_token is True:
            from .._callbacks import new_callback_token

            callback_token = new_callback_token()
        token = callback_token or None
        self.__callback_token = Keys({"callback_token": token}) if token else None
        self._clock = clock
        #: the jitter source (the Driver seam's ``random``)
        self.random = random
        #: the last RateLimit-* state per provider; the policy waits out a used-up window
        self._rate_limits = RateLimits(clock, time.time)
        self._adapters: dict[str, Adapter] = {}
        self._urls = URLCache()
        self._fixed_headers: dict[str, FixedHeaders] = {}
        #: the durable job ledger submits and statuses are recorded in (``genwire.ledger``), or None
        self.ledger: Ledger | None = None
        self._owns_ledger = isinstance(ledger, str)
        if ledger is not None:
            from ..ledger import Ledger, open_ledger

            if not isinstance(ledger, (str, Ledger)):
                raise ConfigurationError(f"ledger must be a Ledger or a ledger URL, not {type(ledger).__name__}",
                                         code="invalid_option")
            self.ledger = open_ledger(ledger) if isinstance(ledger, str) else ledger

    def __repr__(self) -> str:
        configured = ", ".join(sorted(self.__keys)) or "none"
        return f"{type(self).__name__}(providers={list(self.providers)}, keys for: {configured})"

    def _proxy_mounts(self, make: Callable[[str], T]) -> dict[str, T | None]:
        """Transports for httpx's proxy mounts: every request through ``proxy=`` when given (the
        environment is then not read, as in httpx), else from HTTP_PROXY/HTTPS_PROXY/ALL_PROXY/
        NO_PROXY (``None``: that pattern goes direct); none without ``trust_env``."""
        if self.__proxy is not None:
            proxy = self.__proxy["proxy"]
            try:
                return {"all://": make(proxy)}
            except (ImportError, ValueError, httpx.InvalidURL) as exc:  # socks without socksio, a bad URL
                raise ConfigurationError(f"cannot use proxy={shown_proxy(proxy)!r}: {self._redact(str(exc))}",
                                         code="invalid_proxy") from None
        if not self._trust_env:
            return {}
        from .._transport.urls import environment_proxies  # what httpx.Client(trust_env=True) reads

        try:
            return {pattern: None if url is None else make(url) for pattern, url in environment_proxies().items()}
        except (ImportError, ValueError, httpx.InvalidURL) as exc:  # socks without socksio, a malformed URL
            raise ConfigurationError(f"cannot use the proxy set in the environment: {redact_text(str(exc))}"
                                     " (pass trust_env=False to ignore it)", code="invalid_proxy") from None

    @property
    def callback_token(self) -> str | None:
        """The token added to callback URLs of providers that do not sign webhooks."""
        return self.__callback_token["callback_token"] if self.__callback_token else None

    # -- lookups -------------------------------------------------------------------------
    def adapter(self, provider: str) -> Adapter:
        """The provider's adapter, bound to this client's catalog (the Driver seam)."""
        adapter = self._adapters.get(provider)
        if adapter is None:
            adapter = self._adapters[provider] = get_adapter(provider, self.catalog)
        return adapter

    def _key(self, provider: str) -> str:
        key = self.__keys.get(provider)
        if not key:
            env = " or ".join((KEY_ENV_VARS.get(provider, ""), *KEY_ENV_ALIASES.get(provider, ())))
            raise ConfigurationError(f"no API key for {provider}: pass api_keys={{{provider!r}: ...}} or set {env}",
                                     provider=provider, code="missing_key")
        return key

    def rate_limit(self, provider: str) -> RateLimit | None:
        """The provider's ``RateLimit-*`` state on its last reply (limit, remaining, seconds to reset)."""
        return self._rate_limits.get(provider)

    def _sandboxed(self, job: Job) -> Job:
        """Mark a job run with a sandbox key (nothing is charged for it)."""
        prefix = SANDBOX_KEY_PREFIXES.get(job.provider)
        key = self.__keys.get(job.provider, "")
        if prefix and key.startswith(prefix) and not job.sandbox:
            return job.model_copy(update={"sandbox": True})
        return job

    def _job_of(self, job: Job | str, job_id: str | None) -> Job:
        """A ``Job``, or one built from a provider name and the provider's job id alone."""
        if isinstance(job, Job):
            if job_id is not None:
                raise ConfigurationError("pass a Job, or a provider name and a job id", code="bad_arguments")
            return job
        if not isinstance(job, str) or not isinstance(job_id, str) or not job_id:
            raise ConfigurationError("pass a Job, or a provider name and a job id", code="bad_arguments")
        self.adapter(job)
        # the model is unknown until a reply names it (Clipia's result does)
        return self._sandboxed(Job(provider=job, model="", id=job_id, status=JobStatus.QUEUED))

    def _redact(self, text: str) -> str:
        return redact_text(text, self.__secrets.values())

    def _transport_failure(self, exc: httpx.RequestError) -> TransportFailure:
        """No reply: whether the request may have arrived (anything after the connection opened)."""
        unreached = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
        return TransportFailure(self._redact(str(exc) or type(exc).__name__), reached=not unreached,
                                timeout=isinstance(exc, httpx.TimeoutException))

    # -- wire <-> httpx -------------------------------------------------------------------
    @staticmethod
    def _check_open(closed: bool) -> None:
        if closed:
            raise ConfigurationError("the client is closed; make a new one", code="client_closed")

    def _http_request(self, provider: str, wire: WireRequest, timeout: float | None = None) -> httpx.Request:
        key = self._key(provider)
        fixed = self._fixed_headers.get(provider)
        if fixed is None:  # the key and the adapter never change: encoded once
            fixed = self._fixed_headers[provider] = FixedHeaders({
                "User-Agent": USER_AGENT, "Accept": "application/json", **self.adapter(provider).auth_headers(key)})
        base = self.base_urls[provider]
        extensions: dict[str, Any] = {}
        if wire.key_query_param:
            extensions[KEY_EXTENSION] = (wire.key_query_param, key, origin_of(base))
        if timeout is not None:
            extensions["timeout"] = self._request_timeout(timeout)
        return build_request(wire.method, self._urls.get(base + wire.path, wire.query), fixed, wire.headers,
                             wire.json, extensions)

    def _request_timeout(self, left: float) -> dict[str, float | None]:
        """The client's httpx timeouts, none longer than ``left`` seconds (what remains of a wait)."""
        left = max(left, 0.001)
        return {name: left if value is None else min(value, left)
                for name, value in httpx.Timeout(self._timeout).as_dict().items()}

    def _wire_response(self, resp: httpx.Response, body: bytes) -> WireResponse:
        # Scrub our keys from replies before anything reads them (in every spelling: escaped,
        # percent-encoded, UTF-16, echoed in a header), so no Job, error or log line built
        # from a reply can carry one.
        body, headers = self._scrub(body, dict(resp.headers.items()))  # httpx gives lower-case names
        return WireResponse(resp.status_code, headers, body)

    # -- planning --------------------------------------------------------------------------
    def _webhook_url(self, provider: str, url: str | None, ref: str | None = None) -> tuple[str | None, str | None]:
        """The callback URL to send and the per-submit reference it is bound to (unsigned providers)."""
        token = self.callback_token
        if url is None or token is None or self.adapter(provider).signs_webhooks:
            return url, None
        if ref is None:  # no submit to bind to (an estimate sends no callback URL)
            return url, None
        from .._callbacks import bind_callback_url

        return bind_callback_url(url, token, ref), ref

    @staticmethod
    def _as_request(request: GenerationRequest | str, *, input: Mapping[str, Any] | None, task: str | None,
                    webhook_url: str | None, idempotency_key: str | None,
                    unsupported: Unsupported) -> GenerationRequest:
        """A ``GenerationRequest`` as given, or built from ``"provider/model"`` (or a family) and fields."""
        if isinstance(request, GenerationRequest):
            extra = [name for name, value in (("input", input), ("task", task), ("webhook_url", webhook_url),
                                              ("idempotency_key", idempotency_key)) if value is not None]
            if unsupported != "error":
                extra.append("unsupported")
            if extra:
                raise InvalidInputError("a GenerationRequest already holds its fields; give them with a model name"
                                        " instead", [Violation(f"$.{name}", "given twice") for name in extra],
                                        code="invalid_request")
            return request
        if not isinstance(request, str):
            raise InvalidInputError(f"expected a GenerationRequest or 'provider/model', not {type(request).__name__}",
                                    code="invalid_request")
        provider, slash, model = request.partition("/")
        target = {"provider": provider, "model": model} if slash else {"family": request}
        return GenerationRequest.model_validate({
            **target, "input": dict(input) if isinstance(input, Mapping) else {} if input is None else input,
            "task": task, "webhook_url": webhook_url, "idempotency_key": idempotency_key,
            "unsupported": unsupported})

    def _plan_submit(self, request: GenerationRequest, idempotency_key: str | None = None) -> list[SubmitPlan]:
        """Validated plans, in the order to try; raises before the network on bad input or missing keys."""
        check_request(request)
        fallback = request.family is not None
        order = [p for p in self.providers if not fallback or p in self.__keys] or list(self.providers)
        plans = []
        for resolved, envelope in self.catalog.plan(request, providers=order):
            provider = resolved.spec.provider
            if fallback and provider not in self.__keys:
                continue
            self._key(provider)
            # the callback URL is bound to this logical submit: its idempotency key is the reference
            url, ref = self._webhook_url(provider, request.webhook_url, idempotency_key)
            plans.append(SubmitPlan(self.adapter(provider), resolved, envelope, url, ref))
        if not plans:
            raise ConfigurationError(f"no API key for any provider of family {request.family!r}",
                                     code="missing_key")
        return plans

    def submit_flow(self, request: GenerationRequest, *, record: bool = True,
                     attempts: Attempts | None = None, sync_wait: float | None = None) -> Flow[Job]:
        # one idempotency key per logical submit, minted outside every retry
        key = request.idempotency_key or str(uuid.uuid4())
        plans = self._plan_submit(request, key)
        flow = self._then(submit_any_flow(plans, key, self.retry, self.random, fallback=request.family is not None,
                                          attempts=attempts, sync_wait=sync_wait), self._sandboxed)
        if record and self.ledger is not None:
            from ..ledger._seam import recorded_submit

            flow = recorded_submit(self.ledger, request, key, plans, flow)
        return flow

    def _sync_budget(self, timeout: float) -> float | None:
        """Seconds a run's create may be held open (a provider's sync mode): what the run's
        ``timeout`` and the client's read timeout leave once the reply's way back is allowed for."""
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or math.isnan(timeout):
            return None
        read = httpx.Timeout(self._timeout).read
        budget = min(float(timeout), float("inf") if read is None else read) - SYNC_WAIT_MARGIN
        return budget if budget >= 1 else None

    def run_flow(self, request: GenerationRequest, timeout: float) -> Flow[Job]:
        """Submit, then wait: the one flow both drivers' ``run`` drive.

        A provider with a sync mode is asked to hold the create while ``timeout`` allows
        (``Prefer: wait``); what the held create took is then taken off the wait, so the
        run ends within ``timeout`` either way. An unfinished reply is polled as usual.
        """
        start = self._clock()
        budget = self._sync_budget(timeout)
        job = yield from self.submit_flow(request, sync_wait=budget)
        yield Notify(job)
        if budget is not None and self.adapter(job.provider).max_sync_wait > 0:
            timeout = max(0.0, timeout - (self._clock() - start))
        flow = wait_flow(self.adapter(job.provider), job, timeout=timeout, poll=self.poll, retry=self.retry,
                         clock=self._clock, random=self.random)
        return (yield from self._recorded(flow, "wait"))

    def cancel_flow(self, job: Job) -> Flow[Job]:
        """Cancel ``job`` (recorded in the ledger, when there is one); ``UnsupportedOperationError``
        for a provider that cannot cancel, before anything is sent."""
        return self._recorded(cancel_flow(self.adapter(job.provider), job, self.retry, self.random), "cancel")

    def _recorded(self, flow: Flow[Job], source: str) -> Flow[Job]:
        """``flow`` with every status it reports applied to the ledger, when there is one."""
        if self.ledger is None:
            return flow
        from ..ledger._seam import recorded_updates

        return recorded_updates(self.ledger, flow, source)

    def _close_ledger(self) -> None:
        if self._owns_ledger and self.ledger is not None:
            self.ledger.close()

    @staticmethod
    def _then(flow: Flow[T], then: Callable[[T], R]) -> Flow[R]:
        return then((yield from flow))

    def _plan_estimate(self, request: GenerationRequest) -> tuple[SubmitPlan, WireRequest]:
        for plan in self._plan_submit(request):
            wire = plan.adapter.build_estimate(plan.resolved, plan.envelope)
            if wire is not None:
                return plan, wire
        raise UnsupportedOperationError("no provider for this request offers price estimates",
                                        code="unsupported_operation")

    @staticmethod
    def _estimated(plan: SubmitPlan, estimate: Estimate) -> Estimate:
        """The provider's estimate with genwire's own warnings (``unsupported="warn"``) first."""
        if not plan.resolved.warnings:
            return estimate
        return estimate.model_copy(update={"warnings": plan.resolved.warnings + estimate.warnings})

    def _plan_balance(self, provider: str) -> tuple[Adapter, WireRequest]:
        adapter = self.adapter(provider)
        wire = adapter.build_balance()
        if wire is None:
            raise UnsupportedOperationError(f"{provider} has no balance endpoint", provider=provider,
                                            code="unsupported_operation")
        return adapter, wire

    def _get_flow(self, adapter: Adapter, wire: WireRequest) -> Flow[WireResponse]:
        return send_flow(adapter, wire, self.retry, self.random)

    def live_entries_flow(self, provider: str, models: Sequence[str] | None, cache_dir: str | Path | None,
                           ttl: float) -> Flow[list[dict[str, Any]]]:
        """The provider's published model JSON, fetched or read from the disk cache."""
        from ..live import LiveCache, fetch_flow, live_source

        source = live_source(provider)
        adapter = self.adapter(provider)
        self._key(provider)  # before the network
        cache = LiveCache(cache_dir, provider, ttl) if cache_dir is not None else None
        now = time.time()  # wall time: the cache outlives this process
        listing, known = cache.fresh(now) if cache is not None else (None, {})
        wanted, fetched = yield from fetch_flow(adapter, source, models, self.retry, self.random,
                                                known=known, listing=listing)
        if cache is not None and (fetched or (models is None and listing is None)):
            cache.store(now, fetched, wanted if models is None and listing is None else None)
        return [fetched.get(s) or known[s] for s in wanted]

    def _live_flow(self, provider: str, models: Sequence[str] | None, cache_dir: str | Path | None,
                   ttl: float) -> Flow[LiveCatalog]:
        """Fetch (or read from the disk cache) and compile a provider's live models."""
        from ..live import compile_live, require

        if isinstance(models, str):
            models = [models]
        entries = yield from self.live_entries_flow(provider, models, cache_dir, ttl)
        live = compile_live(provider, entries, self.catalog)
        return require(live, models) if models is not None else live

    def _download_request(self, media: Media) -> tuple[str | None, httpx.Request]:
        url, origin = check_download_url(media.url, self._redact)  # parsed once: checked as sent
        provider = self._provider_at(origin, url.path)
        if provider is not None:
            adapter = self.adapter(provider)
            key = self.__keys[provider]
            param = adapter.download_key_param
            extensions: dict[str, Any] = {DOWNLOAD_EXTENSION: True}
            if param:
                extensions[KEY_EXTENSION] = (param, key, origin)
            headers = {"User-Agent": USER_AGENT, **adapter.auth_headers(key)}
            return provider, httpx.Request("GET", url, headers=headers, extensions=extensions)
        # another origin (a CDN): never send credentials there
        return None, httpx.Request("GET", url, headers={"User-Agent": USER_AGENT},
                                   extensions={DOWNLOAD_EXTENSION: True})

    def _provider_at(self, origin: Origin, path: str) -> str | None:
        """The keyed provider serving ``origin``; when several share it (a local fake
        server), the one whose base path holds ``path``."""
        here = [(p, urlsplit(b).path.rstrip("/")) for p, b in self.base_urls.items()
                if origin_of(b) == origin and p in self.__keys]
        under = [(p, base) for p, base in here if under_path(path, base)]
        if under:
            return max(under, key=lambda pb: len(pb[1]))[0]
        return here[0][0] if here else None

    def _download_error(self, provider: str | None, resp: WireResponse) -> GenwireError:
        if provider is not None:
            return self.adapter(provider).parse_error(resp)
        return ProviderError(f"download failed with HTTP {resp.status}", status=resp.status,
                             code="download_failed", retryable=resp.status >= 500)

    def _download_failure(self, provider: str | None, exc: Exception) -> GenwireError:
        """A download that got no usable reply: a network error, or a redirect to a URL httpx refuses."""
        if isinstance(exc, httpx.RequestError):
            return self._network_error(provider, exc)
        text = strip_query_secrets(self._redact(str(exc) or type(exc).__name__))
        return ProviderError(f"download failed: {text}", provider=provider, code="download_failed")

    def _network_error(self, provider: str | None, exc: httpx.RequestError) -> GenwireError:
        kind = NetworkTimeoutError if isinstance(exc, httpx.TimeoutException) else NetworkError
        return kind(f"network error: {self._redact(str(exc) or type(exc).__name__)}", provider=provider,
                    code="network_error", retryable=True)

