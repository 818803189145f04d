"""The fake providers on a real loopback socket: ``FakeServer`` and ``genwire fake-server``.

The same ``FakeProviders`` that serve ``httpx.MockTransport`` in process answer here
(one implementation, two faces): each HTTP request is turned into an
``httpx.Request`` and handed to them. One port serves both providers under
their own base paths (``/clipia``, ``/cliprise``, ``/replicate``) and each provider's media
under ``/<provider>-media``::

    with FakeServer() as srv:
        with Client(base_urls=srv.base_urls, api_keys=srv.api_keys) as client:
            job = client.run(GenerationRequest(provider="clipia", model="nano-banana-2",
                                               input={"prompt": "a fox"}))
        srv.stats()["clipia"]["charged"]      # jobs that cost credits, for crash tests
        srv.fakes.cliprise.fail_next(429)     # script the fakes directly in Python

From any language, the admin endpoints under ``/_fake/`` do the same over HTTP
(each takes and returns JSON; ``provider`` names one of the fakes):

    GET  /_fake/stats             {"clipia": {"submits", "jobs", "charged", "unfinished", "requests"}, ...}
    GET  /_fake/deliveries        [{"provider", "url", "headers", "body", "state", "reason", "attempts"}, ...]
                                  (?provider=P for one provider's)
    POST /_fake/finish            {"provider", "job"?}   end one job (or all unfinished) as scripted
    POST /_fake/advance           {"provider", "job"?}   one poll's worth of progress
    POST /_fake/fail_next         {"provider", "status", "code"?, "message"?, "retry_after"?, "times"?, "path"?}
    POST /_fake/disconnect_next   {"provider", "times"?, "before_send"?, "path"?}
    POST /_fake/script_outcome    {"provider", "outcome", "message"?, "times"?}

A body that breaks these shapes is answered 400 with every problem named (a missing or
unknown field, a wrong type). A scripted disconnect closes the connection without a
reply; with ``before_send=false`` the fake has processed the request first (a submit
then created its job), as when a reply is lost.

When a job with a webhook URL ends, the server POSTs the provider's delivery to it, as
the provider would: Clipia's signed with ``webhook_secrets["clipia"]``
(``X-Clipia-Signature``), Cliprise's unsigned to the callback URL the client built
(bound to its submit by the client's ``callback_token``). A non-2xx answer, a timeout
or a refused connection is retried (each fake's ``delivery_policy``:
attempts and timeout per provider; ``callback_retry_delay`` the first pause). By default
only loopback URLs are called (``callbacks="all"``: any; ``"off"``: none).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import httpx

from .._util.redact import redact_text, strip_query_secrets
from ..catalog import Catalog
from ._callbacks import CallbackMode, Courier
from ._speed import fast_poll, fast_retry
from .fakes import FakeProviders

if TYPE_CHECKING:
    from ..client import AsyncClient, Client

__all__ = ["ADMIN_PREFIX", "FakeServer"]

ADMIN_PREFIX = "/_fake/"

Log = Callable[[str], None]


class _AdminError(Exception):
    pass


class FakeServer:
    """Both fake providers served over HTTP on ``host:port`` (port 0: a free one).

    Start it with ``with FakeServer() as srv:`` or ``start()``/``stop()``; it serves
    from a background thread. ``log`` receives one line per request (keys removed;
    ``json_log=True``: a JSON object with method, path, status and ms). Given ``fakes``
    are moved to this server's URLs (their in-process transport then serves those).
    """

    def __init__(self, fakes: FakeProviders | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 catalog: Catalog | None = None, log: Log | None = None, json_log: bool = False,
                 callbacks: CallbackMode = "loopback", callback_retry_delay: float | None = 0.05) -> None:
        self.fakes = fakes if fakes is not None else FakeProviders(catalog=catalog)
        #: POSTs the fakes' webhook deliveries (``deliveries()`` says what became of each)
        self.courier = Courier(mode=callbacks, retry_delay=callback_retry_delay)
        for name, fake in self.fakes.fakes.items():
            self.courier.watch(name, fake.deliveries, fake.delivery_policy)
        if fakes is not None and catalog is not None:
            self.fakes.use_catalog(catalog)
        self._log = log
        self._json_log = json_log
        self._httpd = _Server((host, port), _Handler)
        self._httpd.owner = self
        bound_host, bound_port = str(self._httpd.server_address[0]), self._httpd.server_address[1]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        #: scheme://host:port this server answers on
        self.origin = f"http://{shown}:{bound_port}"
        # each provider under /<provider>, its media (when it serves them apart) under /<provider>-media
        self.fakes._serve_at({name: f"{self.origin}/{name}" for name in self.fakes.fakes},
                             {name: f"{self.origin}/{name}-media" for name in self.fakes.fakes})
        self._thread: threading.Thread | None = None

    # -- what clients need ----------------------------------------------------------------
    @property
    def base_urls(self) -> dict[str, str]:
        return dict(self.fakes.base_urls)

    @property
    def api_keys(self) -> dict[str, str]:
        return self.fakes.api_keys

    def client_options(self) -> dict[str, Any]:
        """What a ``Client``/``AsyncClient`` needs to talk to this server at test speed:
        ``base_urls``, ``api_keys`` and millisecond ``poll``/``retry`` policies."""
        return {"base_urls": self.base_urls, "api_keys": self.api_keys, "poll": fast_poll(), "retry": fast_retry()}

    def client(self, **kwargs: Any) -> Client:
        """A ``genwire.Client`` talking to this server over its socket, polling and backing off in
        milliseconds (keyword arguments override, e.g. ``poll=PollPolicy()`` for production timing)."""
        from ..client import Client

        return Client(**{**self.client_options(), **kwargs})

    def async_client(self, **kwargs: Any) -> AsyncClient:
        """A ``genwire.AsyncClient`` like ``client``."""
        from ..client import AsyncClient

        return AsyncClient(**{**self.client_options(), **kwargs})

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def stats(self) -> dict[str, dict[str, int]]:
        """Per provider: ``submits`` received, ``jobs`` created, ``charged``, ``unfinished``, ``requests``."""
        return self.fakes.stats()

    @property
    def webhook_secrets(self) -> dict[str, str]:
        """Per provider that signs its deliveries, the secret it signs them with (Clipia's:
        pass it to ``parse_webhook``/``WebhookApp``). Cliprise signs nothing: its callbacks are
        bound to their submit by the client's own ``callback_token``."""
        return {name: fake.webhook_secret for name, fake in self.fakes.fakes.items() if fake.webhook_secret}

    def deliveries(self, provider: str | None = None) -> list[dict[str, Any]]:
        """Every webhook delivery so far (``provider``'s only, if given), oldest first: url,
        headers, body, ``state`` (pending, delivered, failed, skipped) and each attempt's answer."""
        with self.courier._cond:
            return [d.to_dict() for d in self.courier.dispatches if provider is None or d.provider == provider]

    def settle_deliveries(self, timeout: float = 10.0) -> bool:
        """Wait until no delivery is pending (at most ``timeout`` seconds); whether none is."""
        return self.courier.settle(timeout)

    def announcement(self) -> dict[str, Any]:
        """The first line ``genwire fake-server`` prints."""
        return {"base_urls": self.base_urls, "api_keys": self.api_keys, "webhook_secrets": self.webhook_secrets}

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                            name=f"genwire-fake-server:{self.port}", daemon=True)
            self._thread.start()
            self.courier.start()
        return self

    def stop(self) -> None:
        """Stop serving and delivering, close every open connection and the listening socket."""
        self.courier.stop()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.close_connections()
        self._httpd.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"FakeServer({self.origin})"

    # -- answering -------------------------------------------------------------------------
    def _answer(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> httpx.Response | None:
        """The reply to one request, or None to drop the connection (a scripted disconnect)."""
        if target.startswith(ADMIN_PREFIX):
            name, _, query = target[len(ADMIN_PREFIX):].partition("?")
            return self._admin(method, name, body, query)
        request = httpx.Request(method, self.origin + target, headers=headers, content=body)
        try:
            response = self.fakes(request)
        except httpx.TransportError:
            return None
        response.read()
        return response

    def _admin(self, method: str, name: str, body: bytes, query: str = "") -> httpx.Response:
        action = _ADMIN.get((method, name))
        if action is None:
            known = ", ".join(f"{m} {ADMIN_PREFIX}{n}" for m, n in _ADMIN)
            return httpx.Response(404, json={"error": f"no admin endpoint {method} {ADMIN_PREFIX}{name}; "
                                                      f"known: {known}"})
        try:
            if method == "GET":
                args: Any = {k: v[-1] for k, v in parse_qs(query).items()}
            else:
                try:
                    args = json.loads(body) if body.strip() else {}
                except ValueError as exc:
                    raise _AdminError(f"the body is not JSON: {exc}") from None
            _check_admin(self, name, args)
            return httpx.Response(200, json=action(self, args))
        except (ValueError, _AdminError) as exc:
            return httpx.Response(400, json={"error": f"{method} {ADMIN_PREFIX}{name}: {exc}"})
        except KeyError as exc:  # no such job: the fake's own words, not the key's repr
            said = exc.args[0] if exc.args else exc
            return httpx.Response(400, json={"error": f"{method} {ADMIN_PREFIX}{name}: {said}"})

    def _fake(self, args: dict[str, Any]) -> Any:
        return self.fakes.fakes[str(args.pop("provider"))]

    def _record(self, method: str, path: str, status: int | None, elapsed_ms: float) -> None:
        if self._log is None:
            return
        path = redact_text(strip_query_secrets(path), [k for f in self.fakes.fakes.values() for k in f.keys])
        if self._json_log:
            line = json.dumps({"method": method, "path": path, "status": status, "ms": round(elapsed_ms, 1)})
        else:
            outcome = "dropped (scripted disconnect)" if status is None else str(status)
            line = f"{method} {path} -> {outcome} {elapsed_ms:.1f}ms"
        self._log(line)


def _stats(server: FakeServer, args: dict[str, Any]) -> Any:
    return server.stats()


def _deliveries(server: FakeServer, args: dict[str, Any]) -> Any:
    return server.deliveries(args.get("provider"))


def _finish(server: FakeServer, args: dict[str, Any]) -> Any:
    server._fake(args).finish(args.get("job"))
    return server.stats()


def _advance(server: FakeServer, args: dict[str, Any]) -> Any:
    server._fake(args).advance(args.get("job"))
    return server.stats()


def _fail_next(server: FakeServer, args: dict[str, Any]) -> Any:
    fake = server._fake(args)
    fake.fail_next(int(args.pop("status")), **args)
    return {"ok": True}


def _disconnect_next(server: FakeServer, args: dict[str, Any]) -> Any:
    server._fake(args).disconnect_next(**args)
    return {"ok": True}


def _script_outcome(server: FakeServer, args: dict[str, Any]) -> Any:
    fake = server._fake(args)
    fake.script_outcome(args.pop("outcome"), **args)
    return {"ok": True}


_ADMIN: dict[tuple[str, str], Callable[[FakeServer, dict[str, Any]], Any]] = {
    ("GET", "stats"): _stats,
    ("GET", "deliveries"): _deliveries,
    ("POST", "finish"): _finish,
    ("POST", "advance"): _advance,
    ("POST", "fail_next"): _fail_next,
    ("POST", "disconnect_next"): _disconnect_next,
    ("POST", "script_outcome"): _script_outcome,
}

_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "str": ((str,), "a string"), "int": ((int,), "an integer"), "number": ((int, float), "a number"),
    "bool": ((bool,), "true or false"),
}
_JOB = {"provider": ("str", True), "job": ("str", False)}
#: each admin endpoint's fields: name -> (type, required)
_FIELDS: dict[str, dict[str, tuple[str, bool]]] = {
    "stats": {},
    "deliveries": {"provider": ("str", False)},
    "finish": _JOB,
    "advance": _JOB,
    "fail_next": {"provider": ("str", True), "status": ("int", True), "code": ("str", False),
                  "message": ("str", False), "retry_after": ("number", False), "times": ("int", False),
                  "path": ("str", False)},
    "disconnect_next": {"provider": ("str", True), "times": ("int", False), "before_send": ("bool", False),
                        "path": ("str", False)},
    "script_outcome": {"provider": ("str", True), "outcome": ("str", True), "message": ("str", False),
                       "times": ("int", False)},
}


def _check_admin(server: FakeServer, name: str, args: Any) -> None:
    """Every problem with an admin request's fields, in one ``_AdminError``."""
    if not isinstance(args, dict):
        raise _AdminError(f"the body must be a JSON object, not {type(args).__name__}")
    fields = _FIELDS[name]
    problems = [f"missing {f!r} ({_TYPES[t][1]})" for f, (t, required) in fields.items()
                if required and f not in args]
    for key, value in args.items():
        if key not in fields:
            problems.append(f"unknown field {key!r}" + (f"; fields: {', '.join(fields)}" if fields else
                                                         "; it takes none"))
            continue
        kind, required = fields[key]
        types, what = _TYPES[kind]
        if value is None and not required:
            continue
        if (not isinstance(value, types) or (isinstance(value, bool) and bool not in types)):
            problems.append(f"{key!r} must be {what}, not {json.dumps(value)}")
    provider = args.get("provider")
    if isinstance(provider, str) and provider not in server.fakes.fakes:
        problems.append(f"'provider' must be one of {', '.join(sorted(server.fakes.fakes))}, not {provider!r}")
    if problems:
        raise _AdminError("; ".join(problems))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FakeServer

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._open_lock:
            (self._open.add if add else self._open.discard)(conn)

    def close_connections(self) -> None:
        with self._open_lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._open.clear()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as providers serve it
    # headers and body go out in two writes: without TCP_NODELAY the body waits for the
    # client's delayed ACK, 40 ms per request on Linux
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        started = time.perf_counter()
        owner = self.server.owner
        try:
            body = self._body()
        except ValueError:
            self.send_error(400, "unreadable body")
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "transfer-encoding")}
        try:
            response = owner._answer(self.command, self.path, headers, body)
        except Exception as exc:  # a bug in a fake: answer, and say so in the log
            response = httpx.Response(500, json={"error": f"fake server error: {type(exc).__name__}: {exc}"})
        elapsed = (time.perf_counter() - started) * 1000
        if response is None:
            owner._record(self.command, self.path, None, elapsed)
            self.close_connection = True
            return
        content = response.content
        self.send_response(response.status_code)
        for name, value in response.headers.multi_items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)
        owner._record(self.command, self.path, response.status_code, elapsed)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: requests are logged through the server's ``log``."""
