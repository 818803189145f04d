"""An in-process Cliprise: the task API of reference doc 004, strict about requests."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx

from .._client.core import DEFAULT_BASE_URLS
from ..catalog import Catalog
from ..models import JobStatus
from ._fake_base import SAMPLE_FORMAT, Delivery, DeliveryPolicy, FakeJob, FakeProvider, iso, sample_media

__all__ = ["FakeCliprise"]

_DEFAULT_CODE = {401: "invalid_api_key", 402: "insufficient_credits", 404: "not_found",
                 429: "rate_limit_exceeded"}
_DEFAULT_MESSAGE = {401: "Missing or invalid API key.", 402: "Insufficient credits. Top up your account.",
                    429: "Too many requests. Retry after cooldown."}


class FakeCliprise(FakeProvider):
    """Cliprise's task API in process: ``httpx.MockTransport(FakeCliprise())``.

    ``POST {base}/generate`` takes the key from ``Authorization: Bearer``;
    ``GET {base}/status`` only from the ``apiKey`` query parameter, as the
    reference says. A task reports ``processing`` until its ``steps``-th poll;
    then ``success`` with a ``fileURL`` that, like the real one, embeds the key
    (``download=true`` on it serves small valid bytes of the output).
    """

    provider = "cliprise"
    #: Cliprise retries up to 3 times with exponential backoff and a 10 s timeout
    delivery_policy = DeliveryPolicy(attempts=4)

    def __init__(self, catalog: Catalog | None = None, keys: tuple[str, ...] = ("cliprise_fake",), *,
                 steps: int = 2, base_url: str = DEFAULT_BASE_URLS["cliprise"],
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(catalog, keys, steps, base_url, clock)

    def _handle(self, request: httpx.Request, path: list[str] | None) -> httpx.Response:
        if request.method == "POST" and path == ["generate"]:
            return self._generate(request)
        if request.method == "GET" and path == ["status"]:
            return self._status(request)
        return self._error(404, message=f"no such endpoint: {request.method} {request.url.path}")

    def _is_submit(self, method: str, path: list[str]) -> bool:
        return method == "POST" and path == ["generate"]

    def _error(self, status: int, code: str | None = None, message: str | None = None) -> httpx.Response:
        if status == 400:  # validation failures carry only a message
            return httpx.Response(400, json={"msg": message or code or "Bad request."})
        code = code or _DEFAULT_CODE.get(status, "internal_error")
        message = message or _DEFAULT_MESSAGE.get(status, code.replace("_", " "))
        return httpx.Response(status, json={"code": status, "error": {"code": code, "message": message}})

    # -- generate ----------------------------------------------------------------------
    def _generate(self, request: httpx.Request) -> httpx.Response:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or key not in self.keys:
            return self._error(401)
        try:
            body = json.loads(request.content)
        except (ValueError, UnicodeDecodeError):
            return self._error(400, message="Request body is not valid JSON.")
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return self._error(400, message="model is required.")
        wire_model = body["model"]
        spec = self.catalog.find(self.provider, wire_model)
        if spec is None:
            return self._error(400, message=f"Unknown model: {wire_model}.")
        task, violations = self._check_body(spec, body)
        if task is None:
            return self._error(400, message="Invalid request: " + "; ".join(str(v) for v in violations))
        outcome, message = self._next_outcome()
        job = FakeJob(
            id=uuid.uuid4().hex[:28], model=wire_model, spec_id=spec.id, task=task, output_kind=spec.output_kind,
            output_format=SAMPLE_FORMAT[spec.output_kind], body=body, key=key, base=self._origin_base(request),
            status=JobStatus.RUNNING, outcome=outcome, fail_message=message,
            webhook_url=body.get("callBackUrl"), created_at=self.clock(),
        )
        self.jobs[job.id] = job
        if self.steps == 0:
            self._finish(job)
        return httpx.Response(200, json=[{"code": 200, "taskId": job.id}])

    # -- status and download --------------------------------------------------------------
    def _status(self, request: httpx.Request) -> httpx.Response:
        query = request.url.params
        if query.get("apiKey") not in self.keys:
            return self._error(401)
        task_id = query.get("taskId")
        if not task_id:
            return self._error(400, message="taskId is required.")
        job = self.jobs.get(task_id)
        if job is None:  # the reference does not say; the 401/402/429 envelope with not_found
            return self._error(404, message=f"Task {task_id} not found.")
        if query.get("download") == "true":
            if job.status is not JobStatus.SUCCEEDED:
                return self._error(400, message="The task has no file yet.")
            content, content_type = sample_media(job.output_kind)
            return httpx.Response(200, content=content, headers={"Content-Type": content_type})
        self._advance(job)
        if job.status is JobStatus.SUCCEEDED:
            return httpx.Response(200, json=[{"status": "success", "fileURL": self.file_url(job)}])
        if job.done:  # a bare object, not a list: as the reference shows it
            return httpx.Response(200, json={"status": "fail", "failMsg": job.fail_message})
        return httpx.Response(200, json=[{"status": "processing"}])

    def file_url(self, job: FakeJob) -> str:
        """The job's download URL, key included, as the real API hands it out."""
        query = urlencode({"apiKey": job.key, "taskId": job.id, "download": "true"})
        return f"{job.base}/status?{query}"

    # -- callbacks -----------------------------------------------------------------------
    def _deliver(self, job: FakeJob, url: str) -> None:
        payload: dict[str, Any]
        if job.status is JobStatus.SUCCEEDED:
            payload = {"taskId": job.id, "status": "success", "model": job.model, "fileURL": self.file_url(job),
                       "createdAt": iso(job.created_at), "completedAt": iso(job.completed_at or job.created_at)}
        else:
            payload = {"taskId": job.id, "status": "failure",
                       "error": {"code": "provider_error", "message": job.fail_message}}
        body = json.dumps(payload, separators=(",", ":")).encode()
        self.deliveries.append(Delivery(url, {"Content-Type": "application/json"}, body))
