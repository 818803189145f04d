"""What both fake providers share: request log, scripting, job table, sample media."""

from __future__ import annotations

import json
import struct
import threading
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, ClassVar, Literal
from urllib.parse import unquote, urlsplit

import httpx

from ..catalog import Catalog
from ..catalog._validation import ValidateFn, compile_validator
from ..errors import Violation
from ..models import JobStatus
from ..specs import ModelSpec

__all__ = ["SAMPLE_FORMAT", "Delivery", "DeliveryLog", "DeliveryPolicy", "FakeJob", "FakeProvider", "Outcome",
           "RecordedRequest", "iso", "sample_media", "split_path"]

Outcome = Literal["succeed", "fail", "cancel"]
DEFAULT_FAIL_MESSAGE = "the generation failed (scripted by the fake)"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it (the URL includes any key in its query)."""

    method: str
    url: str
    headers: Mapping[str, str]
    json: Any
    content: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @classmethod
    def of(cls, request: httpx.Request) -> RecordedRequest:
        content = request.content
        try:
            parsed = json.loads(content) if content else None
        except (ValueError, UnicodeDecodeError):
            parsed = None
        headers = {k.lower(): v for k, v in request.headers.items()}
        return cls(request.method, str(request.url), headers, parsed, content)


@dataclass(frozen=True)
class Delivery:
    """A webhook/callback the provider would have POSTed to ``url``."""

    url: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class DeliveryLog(list[Delivery]):
    """The deliveries a fake would have sent, in order; ``subscribe`` is told of each new one."""

    def __init__(self, items: Iterable[Delivery] = ()) -> None:
        super().__init__(items)
        self._subscribers: list[Callable[[Delivery], None]] = []

    def subscribe(self, subscriber: Callable[[Delivery], None]) -> None:
        self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Callable[[Delivery], None]) -> None:
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)

    def append(self, delivery: Delivery) -> None:
        super().append(delivery)
        for subscriber in list(self._subscribers):
            subscriber(delivery)


@dataclass(frozen=True)
class DeliveryPolicy:
    """How a provider delivers: ``attempts`` in all (the first and the retries), the pause before
    the first retry (doubling by ``multiplier``), and how long it waits for an answer."""

    attempts: int = 4
    initial_delay: float = 1.0
    multiplier: float = 2.0
    timeout: float = 10.0


@dataclass
class FakeJob:
    """A job in the fake's server-side table."""

    id: str
    model: str  # the wire model (slug or ``model`` value)
    spec_id: str
    task: str
    output_kind: str
    output_format: str
    body: dict[str, Any]
    key: str
    base: str  # where the job was submitted (scheme://host/base-path), for the URLs it hands out
    status: JobStatus
    outcome: Outcome = "succeed"
    fail_message: str = DEFAULT_FAIL_MESSAGE
    progress: int = 0
    polls: int = 0
    webhook_url: str | None = None
    created_at: float = 0.0
    completed_at: float | None = None
    cost: float = 0
    sandbox: bool = False
    idempotency_key: str | None = None
    #: polls do not move it on (a job stuck at the provider); ``finish()`` still ends it
    held: bool = False

    @property
    def done(self) -> bool:
        return self.status.is_terminal


@dataclass
class _Script:
    remaining: int
    path: str | None

    def matches(self, path: str) -> bool:
        return self.path is None or path.startswith(self.path)


@dataclass
class _Failure(_Script):
    status: int = 500
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    processed: bool = False


@dataclass
class _Disconnect(_Script):
    before_send: bool = True
    reset: bool = False


@dataclass
class _Truncate(_Script):
    pass


@dataclass
class _Scripted:
    remaining: int
    outcome: Outcome
    message: str | None


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)  # 1x1 RGBA
    pixels = zlib.compress(b"\x00\x2a\x7f\xd4\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _mp4() -> bytes:
    ftyp = b"ftyp" + b"isom" + struct.pack(">I", 0x200) + b"isomiso2mp41"
    mdat = b"mdat" + b"genwire fake video"
    return struct.pack(">I", 4 + len(ftyp)) + ftyp + struct.pack(">I", 4 + len(mdat)) + mdat


def _wav() -> bytes:
    rate, samples = 8000, 800  # 0.1 s of 16-bit mono silence
    data = b"\x00\x00" * samples
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", len(data)) + data)


_SAMPLES: dict[str, tuple[bytes, str]] = {
    "image": (_png(), "image/png"),
    "video": (_mp4(), "video/mp4"),
    "audio": (_wav(), "audio/wav"),
    "text": (b"genwire fake transcript\n", "text/plain"),
}
#: file extension each sample is served as
SAMPLE_FORMAT = {"image": "png", "video": "mp4", "audio": "wav", "text": "txt"}


def sample_media(kind: str) -> tuple[bytes, str]:
    """Small valid bytes for an output kind and their content type."""
    return _SAMPLES.get(kind, _SAMPLES["image"])


def split_path(raw_path: bytes) -> list[str]:
    """The URL path's segments, each percent-decoded (so an encoded ``/`` stays inside its segment)."""
    path = raw_path.split(b"?", 1)[0].decode("ascii", errors="replace")
    return [unquote(part) for part in path.split("/") if part]


class FakeProvider:
    """The scripting surface and bookkeeping both fakes share.

    Subclasses implement ``_handle`` (answer one request), ``_error`` (the
    provider's error shape) and ``_deliver`` (a finished job's webhook).
    """

    provider: str = ""
    #: the secret its webhook deliveries are signed with (``None``: they are not signed)
    webhook_secret: str | None = None
    #: where the provider serves generated media, when not under ``base_url`` (a CDN)
    media_url: str | None = None
    #: how ``genwire fake-server`` retries its deliveries, as the provider's reference says
    delivery_policy: ClassVar[DeliveryPolicy] = DeliveryPolicy()

    def __init__(self, catalog: Catalog | None, keys: tuple[str, ...], steps: int, base_url: str,
                 clock: Callable[[], float]) -> None:
        if steps < 0:
            raise ValueError("steps must be >= 0")
        if not keys:
            raise ValueError("give the fake at least one accepted key")
        self.catalog = catalog or Catalog.default()
        self.keys = tuple(keys)
        self.steps = steps
        self.base_url = base_url.rstrip("/")
        self._base_path = split_path(urlsplit(self.base_url).path.encode())
        self.clock = clock
        #: every request that reached the fake, in order
        self.requests: list[RecordedRequest] = []
        #: webhooks/callbacks the provider would have sent, in order
        self.deliveries = DeliveryLog()
        #: the server-side job table, by id
        self.jobs: dict[str, FakeJob] = {}
        self._failures: list[_Failure] = []
        self._disconnects: list[_Disconnect] = []
        self._truncations: list[_Truncate] = []
        self._outcomes: list[_Scripted] = []
        self._validators: dict[tuple[str, str], ValidateFn] = {}
        self._lock = threading.RLock()
        #: submit requests received (answered or not); ``len(jobs)`` is how many created a job
        self.submits = 0

    def serves_media(self, url: httpx.URL) -> bool:
        """Whether ``url`` is this provider's media (served from ``media_url``)."""
        return False

    def use_catalog(self, catalog: Catalog) -> None:
        """Check bodies against ``catalog`` from now on (an overlay the client also uses)."""
        with self._lock:
            self.catalog = catalog
            self._validators.clear()

    def _serve_at(self, base_url: str) -> None:
        """Serve under another base URL (a loopback server's, once its port is known)."""
        with self._lock:
            self.base_url = base_url.rstrip("/")
            self._base_path = split_path(urlsplit(self.base_url).path.encode())

    def stats(self) -> dict[str, int]:
        """Counts for crash and fan-out tests: ``submits`` received, ``jobs`` created,
        ``charged`` (created jobs that cost credits: sandbox jobs do not), ``unfinished`` jobs,
        ``requests`` received."""
        with self._lock:
            jobs = list(self.jobs.values())
            return {"submits": self.submits, "jobs": len(jobs), "charged": sum(1 for j in jobs if not j.sandbox),
                    "unfinished": sum(1 for j in jobs if not j.done), "requests": len(self.requests)}

    # -- scripting -------------------------------------------------------------------
    def fail_next(self, status: int, *, code: str | None = None, message: str | None = None,
                  retry_after: float | None = None, times: int = 1, path: str | None = None,
                  processed: bool = False) -> None:
        """Answer the next ``times`` requests (whose path below the base URL starts with
        ``path``, if given) with this error, before any other check; with ``processed``, after
        handling them as usual (a gateway's 502/504 in front of a backend that did the work: a
        submit then HAS created its job)."""
        if status < 400 or times < 1:
            raise ValueError("fail_next needs an error status (>= 400) and times >= 1")
        with self._lock:
            self._failures.append(_Failure(times, path, status, code, message, retry_after, processed))

    def disconnect_next(self, times: int = 1, *, before_send: bool = True, path: str | None = None,
                        reset: bool = False) -> None:
        """Drop the next ``times`` matching requests: ``httpx.ConnectError`` before the
        fake sees them, or (``before_send=False``) ``httpx.ReadTimeout`` after it has
        processed them (a submit then HAS created its job: the outcome is unknown);
        ``reset=True`` with ``before_send=False``: the connection is reset mid-reply
        (``httpx.ReadError``) instead of timing out."""
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._disconnects.append(_Disconnect(times, path, before_send, reset))

    def truncate_next(self, times: int = 1, *, path: str | None = None) -> None:
        """Handle the next ``times`` matching requests as usual, then cut their reply's body
        short (status and headers kept): a 2xx whose body cannot be read."""
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._truncations.append(_Truncate(times, path))

    def script_outcome(self, outcome: Outcome, *, message: str | None = None, times: int = 1) -> None:
        """How the next ``times`` submitted jobs end (default: they succeed)."""
        if outcome not in ("succeed", "fail", "cancel") or times < 1:
            raise ValueError("outcome is 'succeed', 'fail' or 'cancel'; times >= 1")
        with self._lock:
            self._outcomes.append(_Scripted(times, outcome, message))

    def finish(self, job_id: str | None = None) -> None:
        """End one job (or every unfinished one) now, as scripted, delivering its webhook."""
        with self._lock:
            for job in self._targets(job_id):
                if not job.done:
                    self._finish(job)

    def advance(self, job_id: str | None = None) -> None:
        """Move one job (or every unfinished one) one step on, as a poll would."""
        with self._lock:
            for job in self._targets(job_id):
                self._advance(job)

    def _targets(self, job_id: str | None) -> list[FakeJob]:
        if job_id is None:
            return list(self.jobs.values())
        if job_id not in self.jobs:
            raise KeyError(f"the fake {self.provider} has no job {job_id!r}")
        return [self.jobs[job_id]]

    # -- the handler -----------------------------------------------------------------
    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(RecordedRequest.of(request))
            path = self._relative(request)
            rel = "/" + "/".join(path) if path is not None else urlsplit(str(request.url)).path
            if path is not None and self._is_submit(request.method, path):
                self.submits += 1
            drop = self._take(self._disconnects, rel)
            if drop is not None and drop.before_send:
                raise httpx.ConnectError(f"fake {self.provider}: connection refused (scripted)", request=request)
            failure = self._take(self._failures, rel)
            if failure is not None:
                if failure.processed:
                    self._handle(request, path)
                response = self._error(failure.status, failure.code, failure.message)
                if failure.retry_after is not None:
                    response.headers["Retry-After"] = f"{failure.retry_after:g}"
            else:
                response = self._handle(request, path)
            self._finalize(request, response)
            if drop is not None:
                if drop.reset:
                    raise httpx.ReadError(f"fake {self.provider}: connection reset by peer (scripted)",
                                          request=request)
                raise httpx.ReadTimeout(f"fake {self.provider}: read timed out (scripted)", request=request)
            if self._take(self._truncations, rel) is not None:
                body = response.read()
                headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
                response = httpx.Response(response.status_code, headers=headers, content=body[: len(body) // 2])
            return response

    def _relative(self, request: httpx.Request) -> list[str] | None:
        """The path's segments below the base URL, or None when it is not below it."""
        parts = split_path(request.url.raw_path)
        if parts[: len(self._base_path)] != self._base_path:
            return None
        return parts[len(self._base_path):]

    @staticmethod
    def _take(scripts: list[Any], path: str) -> Any:
        for script in scripts:
            if script.matches(path):
                script.remaining -= 1
                if script.remaining <= 0:
                    scripts.remove(script)
                return script
        return None

    def _handle(self, request: httpx.Request, path: list[str] | None) -> httpx.Response:
        raise NotImplementedError

    def _is_submit(self, method: str, path: list[str]) -> bool:
        """Whether a request to ``path`` (below the base URL) asks for a new job."""
        raise NotImplementedError

    def _error(self, status: int, code: str | None = None, message: str | None = None) -> httpx.Response:
        raise NotImplementedError

    def _finalize(self, request: httpx.Request, response: httpx.Response) -> None:
        """Headers every reply carries, scripted errors included."""

    def _deliver(self, job: FakeJob, url: str) -> None:
        raise NotImplementedError

    # -- helpers for subclasses ---------------------------------------------------------
    def _origin_base(self, request: httpx.Request) -> str:
        """scheme://host[:port]/base-path as this request reached the fake."""
        url = request.url
        port = f":{url.port}" if url.port is not None else ""
        prefix = "".join(f"/{p}" for p in self._base_path)
        return f"{url.scheme}://{url.host}{port}{prefix}"

    def _check_body(self, spec: ModelSpec, body: Any,
                    wire_model: str | None = None) -> tuple[str | None, list[Violation]]:
        """The first task whose wire schema accepts ``body``, else the closest task's violations."""
        best: list[Violation] | None = None
        for name, task in spec.tasks.items():
            if wire_model is not None and task.model is not None and task.model != wire_model:
                continue
            key = (spec.id, name)
            validate = self._validators.get(key)
            if validate is None:
                validate = self._validators[key] = compile_validator(
                    self.catalog.wire_schema(self.provider, spec.id, name))
            found = validate(body)
            if not found:
                return name, []
            if best is None or len(found) < len(best):
                best = found
        return None, best or [Violation("$", "no task of this model takes this body")]

    def _next_outcome(self) -> tuple[Outcome, str]:
        scripted = self._outcomes[0] if self._outcomes else None
        if scripted is None:
            return "succeed", DEFAULT_FAIL_MESSAGE
        scripted.remaining -= 1
        if scripted.remaining <= 0:
            self._outcomes.pop(0)
        return scripted.outcome, scripted.message or DEFAULT_FAIL_MESSAGE

    def _advance(self, job: FakeJob) -> None:
        """One poll's worth of progress: the job ends on its ``steps``-th poll (a held one never)."""
        if job.done or job.held:
            return
        job.polls += 1
        if job.polls >= self.steps:
            self._finish(job)
        else:
            job.status = JobStatus.RUNNING
            job.progress = int(100 * job.polls / self.steps)

    def _finish(self, job: FakeJob) -> None:
        job.status = {"succeed": JobStatus.SUCCEEDED, "fail": JobStatus.FAILED,
                      "cancel": JobStatus.CANCELED}[job.outcome]
        job.progress = 100 if job.status is JobStatus.SUCCEEDED else job.progress
        job.completed_at = self.clock()
        self._settle(job)
        if job.webhook_url is not None:
            self._deliver(job, job.webhook_url)

    def _settle(self, job: FakeJob) -> None:
        """Billing when a job ends (Clipia refunds failures)."""

