"""``AsyncClient``: the asyncio driver; the same flows, arguments and policy as ``Client``
(see ``genwire.client``), awaited."""

from __future__ import annotations

import inspect
import random as _random
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from .._policy.flows import Flow, Record, Send, Sleep, TransportFailure, confirm_flow, refresh_flow, wait_flow
from .._policy.retry import LIVE_CATALOG_TTL as DEFAULT_TTL
from .._policy.retry import PollPolicy, RetryPolicy
from .._transport.gate import AsyncGate
from .._transport.http import SPENT, AsyncHTTPClient, AsyncKeyQueryTransport, aread_by, partial_file
from ..adapters.base import WireRequest, WireResponse
from ..catalog import Catalog
from ..errors import GenwireError
from ..models import GenerationRequest, Job, Media, Unsupported
from .checks import DEFAULT_TIMEOUT
from .core import DEFAULT_WAIT_TIMEOUT, GATE_TIMEOUT, _ClientCore, logger
from .drive import Failed, steps
from .options import check_transport

if TYPE_CHECKING:
    from .._policy.driver import OnUpdate
    from ..ledger import Ledger
    from ..models._account import Account, Estimate
    from ..specs import ModelSpec

__all__ = ["AsyncClient"]

T = TypeVar("T")


class _Finished(Exception):
    """A flow's return value, carried out of ``AsyncClient._step``."""

    def __init__(self, value: Any) -> None:
        self.value = value


class AsyncClient(_ClientCore):
    """Asynchronous client; the same policy and arguments as ``Client``, awaited."""

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
        transport: httpx.AsyncBaseTransport | None = None,
        callback_token: str | bool | None = None,
        ledger: Ledger | str | None = None,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
    ) -> None:
        check_transport(transport, httpx.AsyncBaseTransport, "AsyncClient", proxy)
        super().__init__(api_keys=api_keys, base_urls=base_urls, providers=providers, catalog=catalog,
                         timeout=timeout, max_retries=max_retries, retry=retry, poll=poll,
                         max_connections=max_connections, max_in_flight=max_in_flight, trust_env=trust_env,
                         proxy=proxy, callback_token=callback_token, ledger=ledger, clock=clock, random=random)
        if transport is not None:
            default, mounts = AsyncKeyQueryTransport(transport), {}
        else:
            from .._transport.sockets import async_transport  # httpcore: loaded when a real transport is made

            default = AsyncKeyQueryTransport(async_transport(limits=self._limits, trust_env=trust_env))
            mounts = self._proxy_mounts(lambda proxy: AsyncKeyQueryTransport(
                async_transport(proxy=proxy, limits=self._limits, trust_env=trust_env)))
        self._http = AsyncHTTPClient(transport=default, mounts=mounts, timeout=self._timeout,
                                      follow_redirects=False)
        self._gate = AsyncGate(self.max_in_flight)
        self._max_connections = max_connections
        self._ledger_threads: Any = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
        if self._ledger_threads is not None:
            self._ledger_threads.shutdown(wait=True)
            self._ledger_threads = None
        self._close_ledger()

    async def _send(self, provider: str, request: WireRequest, timeout: float | None = None) -> WireResponse:
        self._check_open(self._http.is_closed)
        failure: TransportFailure | None = None
        try:
            if timeout is None:
                async with self._gate:
                    resp = await self._http.send(self._http_request(provider, request))
                    body = await resp.aread()
            else:
                queued = time.monotonic()
                if not await self._gate.enter_within(timeout):
                    raise TransportFailure(GATE_TIMEOUT, reached=False, timeout=True)
                try:
                    left = timeout - (time.monotonic() - queued)
                    resp = await self._http.send(self._http_request(provider, request, left), stream=True)
                    body = await aread_by(resp, queued + timeout)
                finally:
                    self._gate.leave()
            resp.stream = SPENT  # the body is read: drop httpx's response <-> stream cycle now, not at GC
            logger.debug("%s %s %s -> %d", provider, request.method, request.path, resp.status_code)
            return self._wire_response(resp, body)
        except httpx.RequestError as exc:
            failure = self._transport_failure(exc)
        raise failure

    async def drive(self, flow: Flow[T], on_update: OnUpdate | None = None) -> T:
        """Run ``flow`` to its end (the Driver seam): ``drive.steps`` does all but the I/O, here."""
        import asyncio  # here, not at module level: sync users never load it

        loop = steps(flow, self._rate_limits)
        step = self._step
        try:
            effect = await step(loop.send, None)
            while True:
                answer: Any = None
                if isinstance(effect, Send):
                    try:
                        answer = await self._send(effect.provider, effect.request, effect.timeout)
                    except (TransportFailure, GenwireError) as failure:
                        answer = Failed(failure)
                elif isinstance(effect, Record):
                    answer = await self._record(effect)
                elif isinstance(effect, Sleep):
                    await asyncio.sleep(effect.seconds)
                elif on_update is not None:
                    outcome = on_update(effect.job)
                    if inspect.isawaitable(outcome):
                        await outcome
                effect = await step(loop.send, answer)
        except _Finished as done:
            return done.value  # type: ignore[no-any-return]
        finally:
            loop.close()

    async def _step(self, call: Callable[[Any], Any], arg: Any) -> Any:
        """Advance a flow by one effect (on the loop: a flow does no I/O of its own; the ledger's
        writes come out as ``Record`` effects)."""
        try:
            return call(arg)
        except StopIteration as stop:  # a coroutine may not let StopIteration out
            raise _Finished(stop.value) from None

    async def _record(self, effect: Record) -> Any:
        """Run a ledger write in a worker thread of this client's own: the writes of concurrent
        tasks then wait on the database together and share its group commits (``genwire.ledger``);
        the loop's default executor (a handful of threads) would let only a few at a time."""
        import asyncio

        if self._ledger_threads is None:
            from concurrent.futures import ThreadPoolExecutor

            self._ledger_threads = ThreadPoolExecutor(max(self._max_connections, 8),
                                                      thread_name_prefix="genwire-ledger")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._ledger_threads, effect.call)
        except Exception as failure:
            return Failed(failure)

    async def submit(self, request: GenerationRequest | str, *, input: Mapping[str, Any] | None = None,
               task: str | None = None, webhook_url: str | None = None, idempotency_key: str | None = None,
               unsupported: Unsupported = "error") -> Job:
        request = self._as_request(request, input=input, task=task, webhook_url=webhook_url,
                                   idempotency_key=idempotency_key, unsupported=unsupported)
        return await self.drive(self.submit_flow(request))

    async def status(self, job: Job | str, job_id: str | None = None) -> Job:
        job = self._job_of(job, job_id)
        adapter = self.adapter(job.provider)
        return await self.drive(self._recorded(
            refresh_flow(adapter, job, self.retry, self.random), "poll"))

    result = status

    async def confirm(self, job: Job) -> Job:
        """The provider's own word on ``job``: one status poll (see ``Client.confirm``)."""
        flow = confirm_flow(self.adapter(job.provider), job, self.retry, self.random)
        return await self.drive(self._recorded(flow, "poll"))

    async def wait(self, job: Job | str, job_id: str | None = None, *, timeout: float = DEFAULT_WAIT_TIMEOUT,
                   on_update: OnUpdate | None = None) -> Job:
        job = self._job_of(job, job_id)
        adapter = self.adapter(job.provider)
        flow = wait_flow(adapter, job, timeout=timeout, poll=self.poll, retry=self.retry,
                         clock=self._clock, random=self.random)
        return await self.drive(self._recorded(flow, "wait"), on_update)

    async def run(self, request: GenerationRequest | str, *, input: Mapping[str, Any] | None = None,
               task: str | None = None, webhook_url: str | None = None, idempotency_key: str | None = None,
               unsupported: Unsupported = "error",
                  timeout: float = DEFAULT_WAIT_TIMEOUT, on_update: OnUpdate | None = None) -> Job:
        request = self._as_request(request, input=input, task=task, webhook_url=webhook_url,
                                   idempotency_key=idempotency_key, unsupported=unsupported)
        return await self.drive(self.run_flow(request, timeout), on_update)

    async def cancel(self, job: Job | str, job_id: str | None = None) -> Job:
        """``Client.cancel``, awaited."""
        return await self.drive(self.cancel_flow(self._job_of(job, job_id)))

    async def estimate(self, request: GenerationRequest) -> Estimate:
        plan, wire = self._plan_estimate(request)
        resp = await self.drive(self._get_flow(plan.adapter, wire))
        return self._estimated(plan, plan.adapter.parse_estimate(resp))

    async def balance(self, provider: str) -> float:
        return (await self.account(provider)).credits

    async def account(self, provider: str) -> Account:
        adapter, wire = self._plan_balance(provider)
        return adapter.parse_account(await self.drive(self._get_flow(adapter, wire)))

    async def refresh_catalog(self, provider: str, models: Sequence[str] | None = None, *,
                              cache_dir: str | Path | None = None, ttl: float = DEFAULT_TTL) -> Catalog:
        return (await self.drive(self._live_flow(provider, models, cache_dir, ttl))).catalog

    async def list_models(self, provider: str, *, cache_dir: str | Path | None = None,
                          ttl: float = DEFAULT_TTL) -> list[ModelSpec]:
        return list((await self.drive(self._live_flow(provider, None, cache_dir, ttl))).specs)

    async def get_model(self, provider: str, model: str, *, cache_dir: str | Path | None = None,
                        ttl: float = DEFAULT_TTL) -> ModelSpec:
        return (await self.drive(self._live_flow(provider, [model], cache_dir, ttl))).specs[0]

    async def download(self, media: Media, path: str | Path | None = None) -> bytes | Path:
        self._check_open(self._http.is_closed)
        provider, request = self._download_request(media)
        failure: GenwireError | None = None
        try:
            async with self._http.stream(request.method, request.url, headers=request.headers,
                                         extensions=request.extensions, follow_redirects=True) as resp:
                if resp.status_code >= 400:
                    failure = self._download_error(provider, self._wire_response(resp, await resp.aread()))
                elif path is None:
                    return await resp.aread()
                else:
                    with partial_file(Path(path)) as out:
                        async for chunk in resp.aiter_bytes():
                            out.write(chunk)
                    return Path(path)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            failure = self._download_failure(provider, exc)
        raise failure
