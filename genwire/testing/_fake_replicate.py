"""An in-process Replicate: predictions create/get/cancel, ``Prefer: wait``, signed webhooks.

Follows the HTTP API reference and the official client (replicate 1.0.x) and refuses what
the real API refuses: an unknown top-level field, a missing ``input``, a ``version`` on the
model endpoint, an input its model version's schema rejects (422 with ``invalid_fields``).
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from .._client.checks import DEFAULT_BASE_URLS
from .._stdwebhooks import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_standard_webhook
from ..catalog import Catalog
from ..models import JobStatus
from ..specs import ModelSpec
from ._fake_base import SAMPLE_FORMAT, Delivery, FakeJob, FakeProvider, iso, sample_media

__all__ = ["DEFAULT_REPLICATE_SECRET", "FakeReplicate", "Prediction"]

DEFAULT_REPLICATE_SECRET = "whsec_" + base64.b64encode(b"genwire fake replicate secret").decode()
MEDIA_URL = "https://replicate.delivery"
#: top-level fields a create may carry (the API refuses others since 2024-05-01)
_CREATE_FIELDS = frozenset({"input", "version", "webhook", "webhook_completed", "webhook_events_filter", "stream"})
_EVENTS = frozenset({"start", "output", "logs", "completed"})
_WIRE_STATUS = {JobStatus.QUEUED: "starting", JobStatus.RUNNING: "processing", JobStatus.SUCCEEDED: "succeeded",
                JobStatus.FAILED: "failed", JobStatus.CANCELED: "canceled"}
_TITLES = {400: "Bad request", 401: "Unauthenticated", 402: "Insufficient credit", 403: "Forbidden",
           404: "Not found", 409: "Conflict", 422: "Input validation failed", 429: "Too many requests"}
_PREFER_WAIT = re.compile(r"^\s*wait(?:=(\d+))?\s*$")


@dataclass
class Prediction(FakeJob):
    """A prediction in the fake's table: a ``FakeJob`` plus what Replicate keeps per prediction."""

    version: str = ""
    events: frozenset[str] = _EVENTS
    log_lines: list[str] = field(default_factory=list)
    started_at: float | None = None


class FakeReplicate(FakeProvider):
    """Replicate's prediction API in process: ``httpx.MockTransport(FakeReplicate())``.

    ``Authorization: Bearer <key>`` (or the older ``Token <key>``) for a key in ``keys``.
    A prediction is ``starting`` until its first poll, ``processing`` (with progress logs)
    until its ``steps``-th, then ends as scripted. ``Prefer: wait=N`` holds the create:
    the prediction ends within it unless ``sync_finishes`` is False (then the reply is the
    unfinished prediction, as when the wait runs out). ``waits`` records each N asked for.
    Deliveries go to ``deliveries``, signed with ``webhook_secret`` per Standard Webhooks,
    one per event the create's ``webhook_events_filter`` asks for.
    """

    provider = "replicate"

    def __init__(self, catalog: Catalog | None = None, keys: tuple[str, ...] = ("r8_fake",), *,
                 steps: int = 2, webhook_secret: str = DEFAULT_REPLICATE_SECRET,
                 clock: Callable[[], float] = time.time, base_url: str = DEFAULT_BASE_URLS["replicate"],
                 media_url: str = MEDIA_URL, sync_finishes: bool = True) -> None:
        super().__init__(catalog, keys, steps, base_url, clock)
        self.webhook_secret: str = webhook_secret
        self.media_url: str = media_url.rstrip("/")
        self.sync_finishes = sync_finishes
        #: the N of every ``Prefer: wait=N`` received (60 for a bare ``wait``)
        self.waits: list[int] = []
        #: cancel requests received
        self.cancels = 0

    # -- routing -------------------------------------------------------------------------
    def serves_media(self, url: httpx.URL) -> bool:
        media = urlsplit(self.media_url)
        return (url.scheme, url.host) == (media.scheme, media.hostname or "") and (
            url.port in (None, media.port)) and url.path.startswith((media.path or "") + "/")

    def _is_submit(self, method: str, path: list[str]) -> bool:
        return method == "POST" and (path == ["v1", "predictions"] or (
            len(path) == 5 and path[:2] == ["v1", "models"] and path[4] == "predictions"))

    def _handle(self, request: httpx.Request, path: list[str] | None) -> httpx.Response:
        if self.serves_media(request.url):
            return self._media(request)
        if path is None or len(path) < 2 or path[0] != "v1":
            return self._error(404, message=f"no such endpoint: {request.method} {request.url.path}")
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        key = key.strip()
        if scheme.lower() not in ("bearer", "token") or key not in self.keys:
            return self._error(401, message="You did not pass a valid authentication token")
        method, rest = request.method, path[1:]
        if method == "POST" and rest == ["predictions"]:
            return self._create(request, None, key)
        if method == "POST" and len(rest) == 4 and rest[0] == "models" and rest[3] == "predictions":
            return self._create(request, f"{rest[1]}/{rest[2]}", key)
        if rest[0] == "predictions" and len(rest) in (2, 3):
            job = self.jobs.get(rest[1])
            if not isinstance(job, Prediction):
                return self._error(404, message="The requested resource could not be found.")
            if method == "GET" and len(rest) == 2:
                self._advance(job)
                return httpx.Response(200, json=self.prediction(job))
            if method == "POST" and len(rest) == 3 and rest[2] == "cancel":
                self.cancels += 1
                if not job.done:
                    job.outcome = "cancel"
                    self._finish(job)
                return httpx.Response(200, json=self.prediction(job))
        if method == "GET" and len(rest) == 3 and rest[0] == "models":
            return self._model(f"{rest[1]}/{rest[2]}")
        return self._error(404, message=f"no such endpoint: {method} {request.url.path}")

    def _error(self, status: int, code: str | None = None, message: str | None = None,
               invalid: list[dict[str, str]] | None = None) -> httpx.Response:
        title = code or _TITLES.get(status, "Internal server error")
        problem: dict[str, Any] = {"title": title, "detail": message or title, "status": status}
        if invalid is not None:
            problem["invalid_fields"] = invalid
        return httpx.Response(status, content=json.dumps(problem).encode(),
                              headers={"Content-Type": "application/problem+json"})

    # -- create ------------------------------------------------------------------------------
    def _find(self, ref: str) -> ModelSpec | None:
        spec = self.catalog.find(self.provider, ref)
        return spec if spec is not None and spec.id != ref else None  # a catalog id is no wire reference

    def _version_ref(self, version: str) -> str | None:
        """The pinned ``owner/name:version`` a bare version id belongs to."""
        for spec in self.catalog.models(provider=self.provider):
            for task in spec.tasks.values():
                if task.model is not None and task.model.endswith(f":{version}"):
                    return task.model
        return None

    def _create(self, request: httpx.Request, model: str | None, key: str) -> httpx.Response:
        try:
            body = json.loads(request.content)
        except (ValueError, UnicodeDecodeError):
            return self._error(400, message="the request body is not valid JSON")
        if not isinstance(body, dict):
            return self._error(422, message="the body must be a JSON object",
                               invalid=[{"type": "invalid_type", "field": "", "description": "expected an object"}])
        invalid = [{"type": "additional_property_not_allowed", "field": "",
                    "description": f"Additional property {name} is not allowed"}
                   for name in body if name not in _CREATE_FIELDS or (model is not None and name == "version")]
        if not isinstance(body.get("input"), dict):
            invalid.append({"type": "required", "field": "", "description": "input is required"})
        if model is None and not isinstance(body.get("version"), str):
            invalid.append({"type": "required", "field": "", "description": "version is required"})
        events = body.get("webhook_events_filter", sorted(_EVENTS))
        if not isinstance(events, list) or not set(events) <= _EVENTS:
            invalid.append({"type": "enum", "field": "webhook_events_filter",
                            "description": f"events must be among {sorted(_EVENTS)}"})
        if invalid:
            return self._error(422, invalid=invalid)
        wait = self._prefer_wait(request)
        if isinstance(wait, httpx.Response):
            return wait
        version = body.get("version")
        ref = model if model is not None else self._version_ref(str(version))
        spec = self._find(ref) if ref is not None else None
        if spec is None or ref is None:
            return self._error(404, message=f"model or version {model or version!r} not found")
        wire = {"input": body["input"], **({"webhook": body["webhook"]} if "webhook" in body else {})}
        task, violations = self._check_body(spec, wire, ref)
        if task is None:
            return self._error(422, invalid=[
                {"type": "invalid", "field": v.path.removeprefix("$.").removeprefix("$"), "description": v.message}
                for v in violations])
        outcome, message = self._next_outcome()
        job = Prediction(
            id=uuid.uuid4().hex[:26], model=ref.split(":", 1)[0], spec_id=spec.id, task=task,
            output_kind=spec.output_kind,
            output_format=spec.output_formats[0] if spec.output_formats else SAMPLE_FORMAT[spec.output_kind],
            body=body, key=key, base=self._origin_base(request), status=JobStatus.QUEUED, outcome=outcome,
            fail_message=message, webhook_url=body.get("webhook"), created_at=self.clock(),
            version=ref.partition(":")[2] or uuid.uuid5(uuid.NAMESPACE_URL, ref).hex + uuid.uuid5(
                uuid.NAMESPACE_DNS, ref).hex, events=frozenset(events))
        self.jobs[job.id] = job
        self._event(job, "start")
        if self.steps == 0 or (wait is not None and self.sync_finishes):
            self._finish(job)
        return httpx.Response(201, json=self.prediction(job))

    def _prefer_wait(self, request: httpx.Request) -> int | httpx.Response | None:
        prefer = request.headers.get("prefer")
        if prefer is None:
            return None
        match = _PREFER_WAIT.match(prefer)
        seconds = int(match[1]) if match is not None and match[1] is not None else 60
        if match is None or not 1 <= seconds <= 60:
            return self._error(400, message=f"invalid Prefer header {prefer!r}: expected wait or wait=1..60")
        self.waits.append(seconds)
        return seconds

    # -- progress ------------------------------------------------------------------------------
    def _advance(self, job: FakeJob) -> None:
        if job.done or job.held or not isinstance(job, Prediction):
            return
        job.started_at = job.started_at or self.clock()
        super()._advance(job)
        if not job.done:
            bar = "#" * (job.progress // 10)
            job.log_lines.append(f"{job.progress:3d}%|{bar:<10}| {job.polls}/{self.steps}")
            self._event(job, "logs")

    def _finish(self, job: FakeJob) -> None:
        assert isinstance(job, Prediction)
        job.started_at = job.started_at or self.clock()
        if job.outcome == "succeed":
            job.log_lines.append(f"100%|##########| {self.steps}/{self.steps}")
        super()._finish(job)

    def _deliver(self, job: FakeJob, url: str) -> None:
        assert isinstance(job, Prediction)
        if job.status is JobStatus.SUCCEEDED:
            self._event(job, "output", url)
        self._event(job, "completed", url)

    def _event(self, job: Prediction, event: str, url: str | None = None) -> None:
        url = url or job.webhook_url
        if url is None or event not in job.events:
            return
        body = json.dumps(self.prediction(job), separators=(",", ":")).encode()
        msg_id = f"msg_{uuid.uuid4().hex}"
        stamp = int(self.clock())
        headers = {"Content-Type": "application/json", "User-Agent": "Replicate-Webhooks/1.0",
                   ID_HEADER: msg_id, TIMESTAMP_HEADER: str(stamp),
                   SIGNATURE_HEADER: sign_standard_webhook(msg_id, stamp, body, self.webhook_secret)}
        self.deliveries.append(Delivery(url, headers, body))

    # -- the prediction object -------------------------------------------------------------------
    def media_path(self, job: FakeJob) -> str:
        return f"/{job.id}/output.{job.output_format}"

    def prediction(self, job: FakeJob) -> dict[str, Any]:
        """The prediction as ``GET /v1/predictions/{id}`` shows it."""
        assert isinstance(job, Prediction)
        done = job.done
        body: dict[str, Any] = {
            "id": job.id, "model": job.model, "version": job.version, "input": job.body.get("input", {}),
            "logs": "\n".join(job.log_lines), "output": None, "data_removed": False, "error": None,
            "status": _WIRE_STATUS[job.status], "created_at": iso(job.created_at),
            "urls": {"get": f"{job.base}/v1/predictions/{job.id}",
                     "cancel": f"{job.base}/v1/predictions/{job.id}/cancel",
                     "web": f"https://replicate.com/p/{job.id}"},
        }
        if job.started_at is not None:
            body["started_at"] = iso(job.started_at)
        if done:
            body["completed_at"] = iso(job.completed_at or job.created_at)
            ended = job.completed_at or job.created_at
            body["metrics"] = {"predict_time": round(max(0.0, ended - (job.started_at or ended)), 3),
                               "total_time": round(max(0.0, ended - job.created_at), 3)}
        if job.status is JobStatus.SUCCEEDED:
            url = self.media_url + self.media_path(job)
            body["output"] = [url] if job.output_kind == "image" else url
        elif job.status is JobStatus.FAILED:
            body["error"] = job.fail_message
        return body

    def _media(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path[len(urlsplit(self.media_url).path.rstrip("/")):]
        job = self.jobs.get(path.strip("/").split("/", 1)[0])
        if request.method != "GET" or job is None or job.status is not JobStatus.SUCCEEDED or \
                self.media_path(job) != path:
            return httpx.Response(404, text="Not Found")
        content, content_type = sample_media(job.output_kind)
        return httpx.Response(200, content=content, headers={"Content-Type": content_type})

    # -- models ----------------------------------------------------------------------------------
    def _model(self, ref: str) -> httpx.Response:
        """``GET /v1/models/{owner}/{name}``: the model with its latest version's OpenAPI schema."""
        specs = [(s, t) for s in self.catalog.models(provider=self.provider) for t in s.tasks.values()
                 if t.model is not None and t.model.split(":", 1)[0] == ref]
        if not specs:
            return self._error(404, message=f"model {ref!r} not found")
        spec = specs[0][0]
        properties: dict[str, Any] = {}
        required: set[str] = set()
        for s, task in specs:
            wire = self.catalog.wire_schema(self.provider, s.id, task.name)
            schema_in = wire["properties"]["input"]
            for order, (name, prop) in enumerate(schema_in.get("properties", {}).items()):
                properties.setdefault(name, {"title": name.replace("_", " ").title(), "x-order": order, **prop})
            required |= set(schema_in.get("required", ())) if len(specs) == 1 else set()
        version = next((t.model.partition(":")[2] for _, t in specs if t.model and ":" in t.model), "")
        output: dict[str, Any] = {"type": "string", "format": "uri", "title": "Output"}
        if spec.output_kind == "image":
            output = {"type": "array", "items": {"type": "string", "format": "uri"}, "title": "Output"}
        owner, name = ref.split("/", 1)
        latest = {"id": version or uuid.uuid5(uuid.NAMESPACE_URL, ref).hex * 2, "cog_version": "0.9.4",
                  "created_at": iso(self.clock()), "openapi_schema": {
                      "openapi": "3.0.2", "info": {"title": "Cog", "version": "0.1.0"},
                      "components": {"schemas": {
                          "Input": {"type": "object", "title": "Input", "properties": properties,
                                    "required": sorted(required)},
                          "Output": output}}}}
        return httpx.Response(200, json={
            "url": f"https://replicate.com/{ref}", "owner": owner, "name": name, "description": spec.name,
            "visibility": "public", "run_count": 0, "latest_version": latest})
