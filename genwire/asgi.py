"""A webhook receiver for gateways: an ASGI app, no framework, that applies deliveries to a ledger.

    from genwire.asgi import WebhookApp
    app = WebhookApp(ledger, secrets={"clipia": CLIPIA_WEBHOOK_SECRET, "cliprise": CALLBACK_TOKEN},
                     client=AsyncClient(...))          # for the confirming polls
    # uvicorn gateway:app   (or mount it in Starlette/FastAPI: app.mount("/hooks", hooks))

One route per provider in ``secrets``: ``POST {prefix}/clipia``, ``POST {prefix}/cliprise``,
``POST {prefix}/replicate``. Each delivery is verified first, as its provider signs it (Clipia's
signature, Standard Webhooks for Replicate; Cliprise's callback token); then:

* a signed delivery that says all a poll would (the adapter's ``webhook_complete``: every
  Replicate event; a Clipia success with outputs) is applied to the ledger and answered ``204``;
* an unsigned one (Cliprise) is only a hint: the app answers ``202`` at once, then
  polls the provider once and applies what the poll says, never the callback's claims;
* any other signed delivery (a Clipia ``ERROR``, sent for failed and canceled jobs alike, or
  one without its payload) is completed by one poll likewise.

A Cliprise callback must come on the URL bound to its submit (``Client(callback_token=...)``):
one on another submit's URL, or with an unbound token for a job submitted bound, gets ``401``.
Duplicates and late deliveries are answered 2xx and change nothing (the ledger applies
each state once, forward only). A delivery for a job the ledger does not know (yet)
is answered ``404``, so the provider delivers it again later; reconcile covers any
delivery that never comes. Bad signatures and tokens get ``401``, unreadable bodies
``400``, bodies over ``max_body`` bytes ``413``. Every refusal is logged (``genwire.asgi``:
WARNING, INFO for a job not recorded yet) with a code and a reason, never a secret.

A verified callback on the callback URL of an ``uncertain`` entry (a Cliprise submit whose
reply was lost: its ``genwire_ref`` names the entry's idempotency key) is the provider's own
word on that submit: it is answered ``202``, the job it names is polled once and, if the
provider knows it, attached to the entry (``Ledger.attach``) and applied.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

from ._policy.flows import refresh_flow
from .adapters import ADAPTERS, get_adapter
from .errors import ConfigurationError, GenwireError, WebhookVerificationError
from .models import Job, JobStatus
from .webhooks import DEFAULT_TOLERANCE, parse_webhook

if TYPE_CHECKING:
    from ._policy.driver import AsyncDriver
    from .catalog import Catalog
    from .client import AsyncClient
    from .ledger import Ledger, LedgerEntry

__all__ = ["WebhookApp"]

logger = logging.getLogger("genwire.asgi")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DEFAULT_MAX_BODY = 1 << 20


async def _answer(send: Send, status: int, payload: Mapping[str, Any] | None = None) -> None:
    body = json.dumps(payload).encode() if payload is not None else b""
    headers = [(b"content-type", b"application/json")] if payload is not None else []
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class WebhookApp:
    """The ASGI app. ``secrets`` maps each provider served to its webhook secret(s):
    Clipia's signing secret, Cliprise's callback token (``None`` accepts any callback,
    which is then only ever a prompt to poll). ``client`` (an ``AsyncClient``) makes
    the confirming polls; it is required when an unsigned provider is served. The ledger's
    calls run in up to ``max_threads`` worker threads of the app's own, so concurrent
    deliveries' writes share the ledger's group commits.
    """

    def __init__(self, ledger: Ledger, *, secrets: Mapping[str, str | Sequence[str] | None],
                 client: AsyncClient | None = None, prefix: str = "", catalog: Catalog | None = None,
                 max_body: int = DEFAULT_MAX_BODY, tolerance: float = DEFAULT_TOLERANCE,
                 max_threads: int = 64) -> None:
        unknown = sorted(set(secrets) - set(ADAPTERS))
        if unknown:
            raise ConfigurationError(f"no webhook route for unknown provider(s) {', '.join(unknown)}; "
                                     f"known: {', '.join(ADAPTERS)}", code="unknown_provider")
        for provider, secret in secrets.items():
            if ADAPTERS[provider].signs_webhooks and not secret:
                raise ConfigurationError(f"{provider} deliveries are signed: pass its webhook signing secret",
                                         provider=provider)
            if not ADAPTERS[provider].signs_webhooks and client is None:
                raise ConfigurationError(f"{provider} callbacks are unsigned and must be confirmed by a poll: "
                                         "pass client=AsyncClient(...)", provider=provider)
        self.ledger = ledger
        self.client = client
        self.catalog = catalog if catalog is not None else (client.catalog if client is not None else None)
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.max_body = max_body
        self.tolerance = tolerance
        self._secrets = dict(secrets)
        self._routes = {f"{self.prefix}/{provider}": provider for provider in secrets}
        #: worker threads for the ledger's calls (created on the first delivery)
        self.max_threads = max_threads
        self._threads: Any = None

    def __repr__(self) -> str:  # never the secrets
        return f"WebhookApp(routes={sorted(self._routes)})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, root = str(scope["path"]), str(scope.get("root_path", ""))
        if root and path.startswith(root):  # mounted: route on the part below the mount point
            path = path[len(root):]
        provider = self._routes.get(path.rstrip("/"))
        if provider is None:
            _refused(None, 404, "no_route", f"no webhook route {path!r}; routes: {', '.join(sorted(self._routes))}")
            await _answer(send, 404, {"error": "no such webhook route"})
            return
        if scope["method"] != "POST":
            _refused(provider, 405, "method_not_allowed", f"{scope['method']} instead of POST")
            await send({"type": "http.response.start", "status": 405,
                        "headers": [(b"allow", b"POST"), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        try:
            body = await _read_body(receive, self.max_body)
        except _TooLarge:
            _refused(provider, 413, "body_too_large", f"the body is over {self.max_body} bytes")
            await _answer(send, 413, {"error": "the body is too large"})
            return
        except ConnectionError:
            _refused(provider, 0, "disconnected", "the sender went away before the body arrived")
            return
        await self._deliver(provider, scope, body, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                threads, self._threads = self._threads, None
                if threads is not None:
                    threads.shutdown(wait=False)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _deliver(self, provider: str, scope: Scope, body: bytes, send: Send) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        try:
            job = parse_webhook(provider, scope.get("headers", []), body, secret=self._secrets[provider],
                                url=f"{scope['path']}?{query}", tolerance=self.tolerance, catalog=self.catalog)
        except WebhookVerificationError as err:
            status = 400 if err.code in ("malformed_payload", "invalid_body", "invalid_body_encoding") else 401
            # the error's message never holds a secret (the body excerpt on err.body is not logged)
            _refused(provider, status, err.code or "unverified", err.message)
            await _answer(send, status, {"error": err.code})
            return
        adapter = get_adapter(provider, self.catalog)
        bound = getattr(job, "callback_ref", None)  # a callback URL bound to one submit names its key
        if bound is None and adapter.signs_webhooks and (adapter.webhook_complete(job) or self.client is None):
            # signed, complete and bound to no submit: nothing to check against the entry, so the
            # apply alone (a job it does not know: UNKNOWN) decides, in one write
            await self._apply(provider, job, send)
            return
        try:
            entry = await self._in_thread(self.ledger.find, provider, job.id)
        except Exception:
            logger.exception("ledger read failed for %s job %s", provider, job.id)
            await _answer(send, 503, {"error": "ledger unavailable"})
            return
        if entry is None and bound is not None and self.client is not None:
            uncertain = await self._uncertain(provider, bound)
            if uncertain is not None:
                # the provider's own word on a submit whose reply was lost: one poll confirms it, then
                # the job is attached to the entry (never on the delivery's say-so alone)
                await _answer(send, 202, {"confirming": job.id})
                await self._attach_uncertain(uncertain, job)
                return
        if entry is None:
            _refused(provider, 404, "unknown_job", f"no ledger entry has job {job.id!r} (yet): the provider "
                                                   "will deliver again")
            await _answer(send, 404, {"error": "unknown job"})
            return
        if bound is not None and bound != entry.idempotency_key:
            _refused(provider, 401, "callback_mismatch", f"the delivery for job {job.id!r} came on another "
                                                         "submit's callback URL")
            await _answer(send, 401, {"error": "callback_mismatch"})
            return
        if bound is None and not adapter.signs_webhooks and self._secrets[provider] is not None \
                and entry.job is not None and entry.job.callback_ref is not None:
            _refused(provider, 401, "callback_mismatch", f"the delivery for job {job.id!r} carries an unbound token; "
                                                         "it was submitted bound")
            await _answer(send, 401, {"error": "callback_mismatch"})
            return
        if adapter.signs_webhooks and (adapter.webhook_complete(job) or self.client is None):
            await self._apply(provider, job, send)
            return
        await _answer(send, 202, {"confirming": job.id})  # answered; the poll runs after
        await self._confirm(entry, job)

    async def _apply(self, provider: str, job: Job, send: Send) -> None:
        """Apply a verified, complete delivery; answer once it is durable (204), or 404 for a job
        the ledger does not know (yet)."""
        try:
            outcome = await self._in_thread(self.ledger.apply, job, source="webhook")
        except Exception:
            logger.exception("ledger write failed for %s job %s", provider, job.id)
            await _answer(send, 503, {"error": "ledger unavailable"})
            return
        if outcome.value == "unknown":
            _refused(provider, 404, "unknown_job", f"no ledger entry has job {job.id!r} (yet): the provider "
                                                   "will deliver again")
            await _answer(send, 404, {"error": "unknown job"})
            return
        await _answer(send, 204)

    async def _in_thread(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a ledger call in one of this app's worker threads: concurrent deliveries then wait
        on the database together and share its group commits (the loop's default executor, a
        handful of threads, would let only a few at a time)."""
        if self._threads is None:
            from concurrent.futures import ThreadPoolExecutor

            self._threads = ThreadPoolExecutor(self.max_threads, thread_name_prefix="genwire-webhooks")
        return await asyncio.get_running_loop().run_in_executor(self._threads, lambda: call(*args, **kwargs))

    async def _uncertain(self, provider: str, key: str) -> LedgerEntry | None:
        """The ``uncertain`` entry of ``provider`` whose submit carried idempotency key ``key``, if any."""
        try:
            found = await self._in_thread(self.ledger.entries, state="uncertain", provider=provider,
                                            idempotency_key=key)
        except Exception:
            logger.exception("ledger read failed for %s submit %s", provider, key)
            return None
        return found[0] if len(found) == 1 else None

    async def _attach_uncertain(self, entry: LedgerEntry, hint: Job) -> None:
        """Poll the job the verified callback names; if the provider knows it, attach it to the entry."""
        if self.client is None:
            return
        client: AsyncDriver = self.client
        base = Job(provider=entry.provider, model=entry.model, task=entry.task, id=hint.id, status=JobStatus.QUEUED,
                   callback_ref=hint.callback_ref)
        try:
            polled = await client.drive(refresh_flow(client.adapter(entry.provider), base, client.retry,
                                                     client.random))
        except GenwireError as err:
            logger.warning("callback for uncertain %s submit %s named job %s, which the provider does not "
                           "confirm: %s", entry.provider, entry.ref, hint.id, err)
            return
        try:
            await self._in_thread(self.ledger.attach, entry.ref, polled.id)
            await self._in_thread(self.ledger.apply, polled, source="webhook")
        except Exception:
            logger.exception("attaching %s job %s to entry %s failed", entry.provider, polled.id, entry.ref)
            return
        logger.info("uncertain %s submit %s resolved by its callback: job %s (%s)", entry.provider, entry.ref,
                    polled.id, polled.status.value)

    async def _confirm(self, entry: LedgerEntry, hint: Job) -> None:
        """Poll the provider once and apply what it says (the delivery itself is not trusted)."""
        if entry.done or self.client is None:
            return
        client: AsyncDriver = self.client
        base = entry.job or Job(provider=entry.provider, model=entry.model, task=entry.task, id=hint.id,
                                status=JobStatus(entry.state.value) if entry.state.value in _JOB_STATES
                                else JobStatus.QUEUED)
        try:
            polled = await client.drive(refresh_flow(client.adapter(entry.provider), base, client.retry,
                                                     client.random))
            await self._in_thread(self.ledger.apply, polled, source="webhook")
        except GenwireError as err:  # reconcile will get it
            logger.warning("confirming poll of %s job %s failed: %s", entry.provider, hint.id, err)
        except Exception:
            logger.exception("confirming %s job %s failed", entry.provider, hint.id)


_JOB_STATES = {s.value for s in JobStatus}


#: refusals that are part of the protocol, not a fault: the provider delivers again later
_ROUTINE = frozenset({"unknown_job"})


def _refused(provider: str | None, status: int, code: str, reason: str) -> None:
    """One log record per refused delivery: who, the answer, a code and the reason (never a secret);
    WARNING, or INFO for a routine one (a job not recorded yet)."""
    logger.log(logging.INFO if code in _ROUTINE else logging.WARNING,
               "webhook refused: provider=%s status=%s code=%s: %s", provider or "-", status or "none", code,
               reason, extra={"genwire_provider": provider, "genwire_status": status, "genwire_code": code})
