"""An in-process Clipia: the queue API of reference docs 000-003, strict about requests."""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from .._client.core import DEFAULT_BASE_URLS
from ..catalog import Catalog
from ..catalog._json_schema import to_wire_value
from ..models import JobStatus
from ..specs import ModelSpec
from ..webhooks import CLIPIA_SIGNATURE_HEADER, sign_clipia
from ._fake_base import SAMPLE_FORMAT, Delivery, DeliveryPolicy, FakeJob, FakeProvider, iso, sample_media

__all__ = ["DEFAULT_WEBHOOK_SECRET", "FakeClipia"]

DEFAULT_WEBHOOK_SECRET = "whsec_fake"
MEDIA_URL = "https://media.clipia.ai"
#: the cost of a model without a catalog price
DEFAULT_COST = 10
RATE_LIMIT = 600  # requests per window, advertised in RateLimit-* headers (enforced only when asked)

_WIRE_STATUS = {
    JobStatus.QUEUED: "IN_QUEUE", JobStatus.RUNNING: "IN_PROGRESS", JobStatus.SUCCEEDED: "COMPLETED",
    JobStatus.FAILED: "FAILED", JobStatus.CANCELED: "CANCELED",
}
_DEFAULT_CODE = {400: "invalid_request", 401: "invalid_api_key", 402: "insufficient_credits",
                 403: "insufficient_scope", 404: "not_found", 409: "idempotency_key_reuse",
                 422: "model_input_invalid", 429: "rate_limit_exceeded"}
_ERROR_TYPE = {401: "authentication_error", 403: "authentication_error", 402: "billing_error",
               429: "rate_limit_error"}
_SIZES = {"image": (1024, 1024), "video": (1280, 720)}


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


class FakeClipia(FakeProvider):
    """Clipia's queue API in process: ``httpx.MockTransport(FakeClipia())``.

    Accepts ``Authorization: Bearer <key>`` or ``Key <key>`` for a key in
    ``keys``; ``clipia_test_`` keys run in the sandbox (the job is COMPLETED at
    once with a fixed sample, cost shown but not charged). A live job moves one
    step per poll of its status or result: IN_QUEUE, IN_PROGRESS, then its end
    on the ``steps``-th poll. Credits are reserved on submit, refunded on
    failure. Media is served from ``media_url`` (no key needed, like a CDN).
    """

    provider = "clipia"
    #: Clipia retries with exponential backoff and asks for an answer within 10 s
    delivery_policy = DeliveryPolicy(attempts=6)

    def __init__(self, catalog: Catalog | None = None, keys: tuple[str, ...] = ("clipia_live_fake",), *,
                 steps: int = 2, webhook_secret: str | None = None, clock: Callable[[], float] = time.time,
                 credits: float = 10_000, base_url: str = DEFAULT_BASE_URLS["clipia"],
                 media_url: str = MEDIA_URL, webhook_output: bool = True, rate_limit: int | None = None,
                 rate_window: float = 60.0) -> None:
        super().__init__(catalog, keys, steps, base_url, clock)
        #: False: deliveries say only {"request_id", "status"} (and the error on ERROR); the
        #: receiver reads the outputs from the result endpoint
        self.webhook_output = webhook_output
        self.webhook_secret: str = webhook_secret or DEFAULT_WEBHOOK_SECRET
        self.media_url: str = media_url.rstrip("/")
        #: credits available (reservations of running jobs already taken off)
        self.balance = float(credits)
        self.spent = 0.0
        self._idempotency: dict[str, tuple[str, dict[str, Any]]] = {}
        self._window: list[float] = []
        #: requests allowed per ``rate_window`` seconds; None advertises RATE_LIMIT without enforcing it
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        #: replies refused with 429 because the window was used up
        self.throttled = 0

    # -- routing ---------------------------------------------------------------------
    def serves_media(self, url: httpx.URL) -> bool:
        media = urlsplit(self.media_url)
        default = {"https": 443, "http": 80}
        if (url.scheme, url.host, url.port or default.get(url.scheme)) != (
                media.scheme, media.hostname or "", media.port or default.get(media.scheme)):
            return False
        prefix = media.path.rstrip("/")
        return not prefix or url.path == prefix or url.path.startswith(prefix + "/")

    def _is_submit(self, method: str, path: list[str]) -> bool:
        return method == "POST" and len(path) == 3 and path[:2] == ["v1", "models"]

    def _handle(self, request: httpx.Request, path: list[str] | None) -> httpx.Response:
        if self.serves_media(request.url):
            return self._media(request)
        if self._window_full():
            self.throttled += 1
            refused = self._error(429, message="rate limit exceeded")
            refused.extensions["genwire_fake_throttled"] = True
            return refused
        return self._route(request, path)

    def _finalize(self, request: httpx.Request, response: httpx.Response) -> None:
        if not self.serves_media(request.url):
            throttled = bool(response.extensions.get("genwire_fake_throttled"))
            response.headers.update(self._rate_headers(count=not throttled))
            if throttled:
                response.headers["Retry-After"] = response.headers["RateLimit-Reset"]

    def _route(self, request: httpx.Request, path: list[str] | None) -> httpx.Response:
        if path is None or len(path) < 2 or path[0] != "v1":
            return self._error(404, message=f"no such endpoint: {request.method} {request.url.path}")
        key = self._auth(request)
        if key is None:
            return self._error(401, message="Missing or invalid API key.")
        method, rest = request.method, path[1:]
        if method == "POST" and rest[0] == "models" and len(rest) == 2:
            return self._submit(request, rest[1], key)
        if method == "POST" and rest[0] == "models" and len(rest) == 3 and rest[2] == "estimate":
            return self._estimate(request, rest[1])
        if method == "GET" and rest == ["models"]:
            return httpx.Response(200, json={"data": [self._model_entry(s) for s in self._models()]})
        if method == "GET" and rest[0] == "models" and len(rest) == 2:
            spec = self.catalog.find(self.provider, rest[1])
            if spec is None:
                return self._error(404, message=f"model {rest[1]!r} not found")
            return httpx.Response(200, json=self._model_detail(spec))
        if method == "GET" and rest[0] == "requests" and len(rest) in (2, 3):
            job = self.jobs.get(rest[1])
            if job is None:
                return self._error(404, message=f"request {rest[1]!r} not found")
            if len(rest) == 3 and rest[2] == "status":
                self._advance(job)
                return httpx.Response(200, json=self._status_body(job))
            if len(rest) == 2:
                self._advance(job)
                return httpx.Response(200 if job.done else 202, json=self._result_body(job))
        if method == "GET" and rest == ["account"]:
            # usage_30d fields as the official SDK (clipia 1.5.0) types them
            usage = {"credits_spent": _number(self.spent),
                     "requests": sum(1 for j in self.jobs.values() if j.status is JobStatus.SUCCEEDED)}
            return httpx.Response(200, json={"balance": {"credits": _number(self.balance)}, "usage_30d": usage})
        return self._error(404, message=f"no such endpoint: {method} {request.url.path}")

    def _auth(self, request: httpx.Request) -> str | None:
        scheme, _, key = str(request.headers.get("authorization", "")).partition(" ")
        key = key.strip()
        return key if scheme.lower() in ("bearer", "key") and key in self.keys else None

    def _window_full(self) -> bool:
        now = self.clock()
        self._window = [t for t in self._window if now - t < self.rate_window]
        return self.rate_limit is not None and len(self._window) >= self.rate_limit

    def _rate_headers(self, count: bool = True) -> dict[str, str]:
        now = self.clock()
        if self.rate_limit is None:
            # nothing enforced, so nothing is used up: the nominal limit, all of it left
            return {"RateLimit-Limit": str(RATE_LIMIT), "RateLimit-Remaining": str(RATE_LIMIT),
                    "RateLimit-Reset": str(math.ceil(self.rate_window))}
        self._window = [t for t in self._window if now - t < self.rate_window] + ([now] if count else [])
        oldest = self._window[0] if self._window else now
        reset = max(0, math.ceil(self.rate_window - (now - oldest)))
        return {"RateLimit-Limit": str(self.rate_limit),
                "RateLimit-Remaining": str(max(0, self.rate_limit - len(self._window))),
                "RateLimit-Reset": str(reset)}

    def _error(self, status: int, code: str | None = None, message: str | None = None) -> httpx.Response:
        code = code or _DEFAULT_CODE.get(status, "internal_error")
        error = {"code": code, "message": message or code.replace("_", " "),
                 "type": _ERROR_TYPE.get(status, "api_error" if status >= 500 else "invalid_request_error")}
        return httpx.Response(status, json={"error": error})

    # -- submit and estimate --------------------------------------------------------------
    def _read_body(self, request: httpx.Request) -> dict[str, Any] | httpx.Response:
        try:
            body = json.loads(request.content)
        except (ValueError, UnicodeDecodeError):
            return self._error(400, message="the request body is not valid JSON")
        if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
            return self._error(400, message='the body must be a JSON object with an "input" object')
        return body

    def _checked(self, request: httpx.Request, slug: str) -> tuple[ModelSpec, str, dict[str, Any]] | httpx.Response:
        body = self._read_body(request)
        if isinstance(body, httpx.Response):
            return body
        spec = self.catalog.find(self.provider, slug)
        if spec is None:
            return self._error(404, message=f"model {slug!r} not found")
        task, violations = self._check_body(spec, body, slug)
        if task is None:
            listed = "; ".join(str(v) for v in violations)
            return self._error(422, message=f"input does not match model {slug}: {listed}")
        return spec, task, body

    def _cost(self, spec: ModelSpec) -> float:
        return spec.price.credits if spec.price is not None else DEFAULT_COST

    def _estimate(self, request: httpx.Request, slug: str) -> httpx.Response:
        checked = self._checked(request, slug)
        if isinstance(checked, httpx.Response):
            return checked
        return httpx.Response(200, json={"credits": _number(self._cost(checked[0]))})

    def _submit(self, request: httpx.Request, slug: str, key: str) -> httpx.Response:
        idem = request.headers.get("idempotency-key")
        fingerprint = f"{slug}\n{request.content.decode('utf-8', errors='replace')}"
        if idem is not None and idem in self._idempotency:
            seen, first = self._idempotency[idem]
            if seen != fingerprint:
                return self._error(409, message="this Idempotency-Key was used with a different request")
            return httpx.Response(200, json=first)  # the same job: no new job, no second charge
        checked = self._checked(request, slug)
        if isinstance(checked, httpx.Response):
            return checked
        spec, task, body = checked
        cost = self._cost(spec)
        sandbox = key.startswith("clipia_test_")
        if not sandbox and self.balance < cost:
            return self._error(402, message=f"this job costs {_number(cost)} credits; the balance is "
                                            f"{_number(self.balance)}")
        outcome, message = self._next_outcome()
        job = FakeJob(
            id=str(uuid.uuid4()), model=slug, spec_id=spec.id, task=task, output_kind=spec.output_kind,
            output_format=spec.output_formats[0] if spec.output_formats else SAMPLE_FORMAT[spec.output_kind],
            body=body, key=key, base=self._origin_base(request), status=JobStatus.QUEUED, outcome=outcome,
            fail_message=message, webhook_url=body.get("webhook_url"), created_at=self.clock(), cost=cost,
            sandbox=sandbox, idempotency_key=idem,
        )
        self.jobs[job.id] = job
        if not sandbox:
            self.balance -= cost
        if sandbox or self.steps == 0:
            self._finish(job)
        reply: dict[str, Any] = {"request_id": job.id, "status": _WIRE_STATUS[job.status]}
        if job.status is JobStatus.QUEUED:
            reply["queue_position"] = sum(1 for j in self.jobs.values() if j.status is JobStatus.QUEUED) - 1
        reply.update(status_url=f"{job.base}/v1/requests/{job.id}/status",
                     response_url=f"{job.base}/v1/requests/{job.id}", cost=_number(cost))
        if idem is not None:
            self._idempotency[idem] = (fingerprint, reply)
        return httpx.Response(200, json=reply)

    def _settle(self, job: FakeJob) -> None:
        if job.sandbox:
            return
        if job.status is JobStatus.SUCCEEDED:
            self.spent += job.cost
        else:
            self.balance += job.cost  # reserved on submit, refunded in full on failure

    # -- status, result, output ----------------------------------------------------------
    def _status_body(self, job: FakeJob) -> dict[str, Any]:
        body: dict[str, Any] = {"request_id": job.id, "status": _WIRE_STATUS[job.status]}
        if job.status is JobStatus.QUEUED:
            ahead = [j for j in self.jobs.values() if j.status is JobStatus.QUEUED and j.created_at < job.created_at]
            body["queue_position"] = len(ahead)
        elif job.status is JobStatus.RUNNING:
            body["progress"] = job.progress
            body["logs"] = [{"message": f"step {job.polls} of {self.steps}"}]
        # the status reply names the state only; a FAILED job's error is in the result
        return body

    @staticmethod
    def _job_error(job: FakeJob) -> dict[str, str]:
        if job.status is JobStatus.CANCELED:
            return {"code": "canceled", "message": "the generation was canceled"}
        return {"code": "generation_failed", "message": job.fail_message}

    def _result_body(self, job: FakeJob) -> dict[str, Any]:
        if not job.done:
            return self._status_body(job)
        body: dict[str, Any] = {"request_id": job.id, "status": _WIRE_STATUS[job.status], "model": job.model}
        if job.status is JobStatus.SUCCEEDED:
            body["output"] = self._output(job)
            body["cost"] = _number(job.cost)
        else:
            body["error"] = self._job_error(job)
            body["cost"] = 0
        body["created_at"] = iso(job.created_at)
        body["completed_at"] = iso(job.completed_at or job.created_at)
        return body

    def media_path(self, job: FakeJob) -> str:
        name = "sandbox/sample" if job.sandbox else f"works/{job.id}"
        return f"/{name}.{job.output_format}"

    def _output(self, job: FakeJob) -> dict[str, Any]:
        item: dict[str, Any] = {"url": self.media_url + self.media_path(job)}
        if job.output_kind in _SIZES:
            item["width"], item["height"] = _SIZES[job.output_kind]
        if job.output_kind == "video":
            item["duration"] = job.body["input"].get("duration", 4)
            return {"video": item}
        if job.output_kind == "audio":
            item["duration"] = 0.1
            return {"audio": item, "audios": [item]}
        if job.output_kind == "text":
            return {"text": "genwire fake transcript", "file": item}
        return {"images": [item]}

    def _media(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path[len(urlsplit(self.media_url).path.rstrip("/")):]
        stem = path.rsplit(".", 1)[0]
        kind = None
        if request.method == "GET" and stem == "/sandbox/sample":
            kind = next((j.output_kind for j in self.jobs.values()
                         if j.sandbox and self.media_path(j) == path), "image")
        elif request.method == "GET" and stem.startswith("/works/"):
            job = self.jobs.get(stem[len("/works/"):])
            if job is not None and job.status is JobStatus.SUCCEEDED and self.media_path(job) == path:
                kind = job.output_kind
        if kind is None:
            return httpx.Response(404, text="Not Found")
        content, content_type = sample_media(kind)
        return httpx.Response(200, content=content, headers={"Content-Type": content_type})

    # -- catalog endpoints ---------------------------------------------------------------
    def _models(self) -> list[ModelSpec]:
        return self.catalog.models(provider=self.provider)

    def _model_entry(self, spec: ModelSpec) -> dict[str, Any]:
        pricing: dict[str, Any] = {}
        if spec.price is not None:
            pricing["credits"] = _number(spec.price.credits)
            if spec.price.note:
                pricing["note"] = spec.price.note
        return {"slug": spec.id, "type": spec.kind, "name": spec.name, "capabilities": list(spec.tasks),
                "pricing": pricing}

    def _model_detail(self, spec: ModelSpec) -> dict[str, Any]:
        """``GET /v1/models/:model`` as reference 003 shows it, plus ``text_limits`` for
        text-to-speech models (SDK 1.5.0): the prompt's length bounds."""
        out = {**self._model_entry(spec), "input_schema": self._descriptor(spec)}
        prompt = spec.tasks["text-to-speech"].params.get("prompt") if "text-to-speech" in spec.tasks else None
        if prompt is not None:
            limits = {"min_chars": prompt.spec.get("min_length", 1)}
            if "max_length" in prompt.spec:
                limits["max_chars"] = prompt.spec["max_length"]
            out["text_limits"] = limits
        return out

    @staticmethod
    def _descriptor(spec: ModelSpec) -> dict[str, Any]:
        """input_schema as a wire key -> descriptor map (type, required, enum, default, as 003 documents,
        and the min/max/minLength/maxLength/maxItems bounds the SDK's parameter type names)."""
        out: dict[str, dict[str, Any]] = {}
        for task in spec.tasks.values():
            for p in task.params.values():
                spec_ = p.spec
                single = spec_.get("transform") == "first"
                as_text = single or spec_.get("transform") == "to_string" or p.type == "url"
                entry = out.setdefault(p.wire, {"type": "string" if as_text else p.type, "required": p.required})
                entry["required"] = entry["required"] and p.required
                if p.enum is not None:
                    entry["enum"] = [to_wire_value(spec_, v) for v in p.enum]
                if p.has_default:
                    entry["default"] = to_wire_value(spec_, p.default)
                for src, dst in (("minimum", "min"), ("maximum", "max"), ("min_length", "minLength"),
                                 ("max_length", "maxLength")):
                    if src in spec_:
                        entry[dst] = spec_[src]
                if p.type == "array" and not single and "max_items" in spec_:
                    entry["maxItems"] = spec_["max_items"]
        # a parameter only some tasks take is optional for the model as a whole
        for name, entry in out.items():
            if not all(any(p.wire == name for p in t.params.values()) for t in spec.tasks.values()):
                entry["required"] = False
        return out

    # -- webhooks ------------------------------------------------------------------------
    def _deliver(self, job: FakeJob, url: str) -> None:
        # The reference fixes only status "OK"/"ERROR". We follow fal's layout, which
        # Clipia mirrors: {"request_id", "status", "payload": <the GET /v1/requests/{id}
        # result>}, plus "model" and, on ERROR, the result's "error" at the top level.
        result = self._result_body(job)
        payload: dict[str, Any] = {"request_id": job.id, "status": "OK" if job.status is JobStatus.SUCCEEDED
                                   else "ERROR"}
        if self.webhook_output:
            payload.update(model=job.model, payload=result)
        if "error" in result:
            payload["error"] = result["error"]
        body = json.dumps(payload, separators=(",", ":")).encode()
        stamp = int(self.clock())
        headers = {"Content-Type": "application/json", "User-Agent": "Clipia-Webhooks/1.0",
                   CLIPIA_SIGNATURE_HEADER: sign_clipia(body, self.webhook_secret, stamp),
                   "X-Clipia-Timestamp": str(stamp)}
        self.deliveries.append(Delivery(url, headers, body))

