"""Clipia: a fal-style queue. Submit to ``POST /v1/models/{slug}``, poll
``GET /v1/requests/{id}/status``, read ``GET /v1/requests/{id}`` (202 while pending).

Errors arrive as ``{"error": {"code", "message", "type"}}``; ``clipia_test_``
sandbox keys answer like live ones (a submit may come back already COMPLETED).
The status reply names the state only: the final result (cost charged, ``error``
of a FAILED or CANCELED job) is read from ``GET /v1/requests/{id}`` for every end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from .._util.construct import trusted, trusted_update, updater
from .._util.http import is_retryable_status, parse_retry_after
from .._util.json import loads
from .._util.redact import redact_json, redact_reply
from ..catalog import Catalog, Resolved
from ..catalog._translate import build_body
from ..errors import (
    AuthenticationError,
    BadRequestError,
    GenwireError,
    IdempotencyConflictError,
    InsufficientCreditsError,
    MalformedResponseError,
    ProviderNotFoundError,
    RateLimitError,
    ServerError,
    UnsupportedOperationError,
)
from ..models import TERMINAL_STATUSES, InputWarning, Job, JobError, JobStatus
from ._clipia_output import _integer, _number, _url, parse_output
from .base import (
    LiveSource,
    WireRequest,
    WireResponse,
    as_credits,
    error_for_status,
    malformed,
    normalized_code,
    parse_datetime,
    raw_text,
    read_json,
    read_object,
)

if TYPE_CHECKING:
    from ..models._account import Account, Estimate

__all__ = ["ClipiaAdapter", "ClipiaLiveSource", "ERROR_BY_CODE", "STATUS"]

_submitted = trusted(Job, "model", "task", "id", "status", "queue_position", "status_url", "response_url", "cost",
                     "warnings", "raw", provider="clipia")
_updated = updater(Job)
# a poll's reply, with and without logs (one that reports an error takes _updated)
_polled = trusted_update(Job, "status", "progress", "queue_position", "raw")
_polled_logs = trusted_update(Job, "status", "progress", "queue_position", "logs", "raw")
# module constants: reading an Enum member off its class costs more than most checks here
_QUEUED = JobStatus.QUEUED
# bytes of a reply in which no string can need redacting or stripping: no "=", "%", escape, "?"
# or "#" (redaction rewrites only text holding "=" or "%3", strip_query_secrets only URLs with a
# query or fragment; these byte values appear in every encoding JSON may use)
_EQ, _PERCENT, _BACKSLASH, _QUESTION, _HASH = b"=%\\?#"

STATUS: dict[str, JobStatus] = {
    "IN_QUEUE": JobStatus.QUEUED,
    "IN_PROGRESS": JobStatus.RUNNING,
    "COMPLETED": JobStatus.SUCCEEDED,
    "FAILED": JobStatus.FAILED,
    "CANCELED": JobStatus.CANCELED,
}
# webhook deliveries report the outcome as OK / ERROR
WEBHOOK_STATUS: dict[str, JobStatus] = {"OK": JobStatus.SUCCEEDED, "ERROR": JobStatus.FAILED, **STATUS}

ERROR_BY_CODE: dict[str, type[GenwireError]] = {
    "invalid_request": BadRequestError,
    "invalid_api_key": AuthenticationError,
    "insufficient_credits": InsufficientCreditsError,
    "insufficient_scope": AuthenticationError,
    "not_found": ProviderNotFoundError,
    "idempotency_key_reuse": IdempotencyConflictError,
    "model_input_invalid": BadRequestError,
    "rate_limit_exceeded": RateLimitError,
    "internal_error": ServerError,
    # codes the official SDK (clipia 1.5.0) documents beyond the reference's table
    "model_not_found": ProviderNotFoundError,
    "webhook_url_invalid": BadRequestError,
    "subscription_required": InsufficientCreditsError,
    "concurrency_limit_exceeded": RateLimitError,
    "service_unavailable": ServerError,
}
#: Clipia's word -> the normalized code (its error table's words are the normalized vocabulary)
CODE_ALIASES: dict[str, str] = {"model_not_found": "not_found", "service_unavailable": "internal_error",
                                "failed": "generation_failed"}

def _logs(raw: Mapping[str, Any]) -> tuple[Any, ...]:
    """A status reply's log lines, as given (redacted with the rest of the reply)."""
    logs = raw.get("logs")
    return tuple(logs) if type(logs) is list else ()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _warnings(body: Mapping[str, Any]) -> tuple[InputWarning, ...]:
    """Clipia's ``warnings``: one ``{code, parameter, message}`` per input key it will not apply."""
    raw = body.get("warnings")
    if not isinstance(raw, list):
        return ()
    out = []
    for w in raw:
        if isinstance(w, Mapping):
            code = _text(w.get("code")) or "warning"
            param = _text(w.get("parameter"))
            message = _text(w.get("message")) or f"parameter {param or '?'}: {code}"
            out.append(InputWarning(code=code, parameter=param, message=message))
    return tuple(out)


def _job_error(body: Mapping[str, Any]) -> JobError:
    err = body.get("error")
    if isinstance(err, Mapping):
        code = err.get("code") if isinstance(err.get("code"), str) else None
        return JobError(code=CODE_ALIASES.get(code, code) if code else "generation_failed", provider_code=code,
                        message=str(err.get("message") or err.get("code") or "generation failed"))
    if isinstance(err, str) and err:
        return JobError(code="generation_failed", message=err)
    return JobError(code="generation_failed", message="generation failed")


class ClipiaLiveSource:
    """Clipia: ``GET /v1/models`` lists the catalog, ``GET /v1/models/:model`` reads one model."""

    provider = "clipia"

    def build_list(self) -> WireRequest:
        return WireRequest("GET", "/v1/models")

    def parse_list(self, resp: WireResponse) -> list[dict[str, Any]]:
        body = read_json(resp, self.provider, "models")
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise malformed(self.provider, "models: no data list", resp)
        return [e for e in data if isinstance(e, dict)]

    def build_get(self, model: str) -> WireRequest:
        return WireRequest("GET", f"/v1/models/{quote(model, safe='')}")

    def parse_get(self, resp: WireResponse) -> dict[str, Any]:
        body = read_json(resp, self.provider, "model")
        if not isinstance(body, dict) or not isinstance(body.get("slug"), str):
            raise malformed(self.provider, "model: no slug", resp)
        return body

    def slug(self, entry: Mapping[str, Any]) -> str | None:
        from ..catalog._from_clipia import is_generation_model

        # the unified catalog lists text (LLM) models too; genwire submits generation models only
        return str(entry["slug"]) if is_generation_model(entry) else None

    def complete(self, entry: Mapping[str, Any]) -> bool:
        """Whether a list entry already carries the input schema (else GET the model)."""
        return entry.get("input_schema") is not None

    def to_model_data(self, entry: Mapping[str, Any],
                      base: Catalog) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
        from ..catalog._from_clipia import clipia_to_catalog

        return clipia_to_catalog(entry)


class ClipiaAdapter:
    name: ClassVar[str] = "clipia"
    submit_replay_safe: ClassVar[bool] = True
    signs_webhooks: ClassVar[bool] = True
    webhook_scheme: ClassVar[str | None] = "clipia"
    max_sync_wait: ClassVar[int] = 0
    download_key_param: ClassVar[str | None] = None
    live_source: ClassVar[LiveSource | None] = ClipiaLiveSource()

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    # -- submit ---------------------------------------------------------------
    def build_submit(self, resolved: Resolved, envelope: Mapping[str, Any], webhook_url: str | None,
                     idempotency_key: str) -> WireRequest:
        body = build_body(envelope, resolved.task, resolved.input, webhook_url)
        return WireRequest(
            "POST", f"/v1/models/{quote(resolved.task.wire_model(resolved.input), safe='')}",
            headers={"Idempotency-Key": idempotency_key}, json=body, replay_safe=True,
        )

    def _body(self, resp: WireResponse, what: str, job: Job | None = None) -> dict[str, Any]:
        return read_object(resp, self.name, what, job)

    def _status(self, body: Mapping[str, Any], resp: WireResponse, what: str, job: Job | None,
                table: Mapping[str, JobStatus] = STATUS) -> JobStatus:
        raw = body.get("status")
        status = table.get(raw) if isinstance(raw, str) else None
        if status is None:
            raise malformed(self.name, f"{what}: unknown status {body.get('status')!r}", resp, job)
        return status

    def parse_submit(self, resolved: Resolved, resp: WireResponse) -> Job:
        if resp.status >= 300:
            raise self.parse_error(resp)
        try:  # read_object, inlined: every submit reads one
            body = loads(resp.body)
        except ValueError:
            body = None
        if type(body) is not dict:
            body = read_object(resp, self.name, "submit")  # raises the error read_object raises for it
        request_id = body.get("request_id")
        if type(request_id) is not str or not request_id:
            raise malformed(self.name, "submit: no request_id", resp)
        raw = body.get("status")
        status = STATUS.get(raw) if type(raw) is str else None
        if status is None:
            job = Job(provider=self.name, model=resolved.spec.id, task=resolved.task.name, id=request_id,
                      status=JobStatus.QUEUED, warnings=resolved.warnings)
            raise malformed(self.name, f"submit: unknown status {raw!r}", resp, job)
        warnings = _warnings(body) if "warnings" in body else ()
        # the common values are checked inline; anything else by the helper that reads it
        queue_position = body.get("queue_position")
        if type(queue_position) is not int:
            queue_position = _integer(queue_position)
        status_url, response_url, cost = body.get("status_url"), body.get("response_url"), body.get("cost")
        data = resp.body
        if (len(body) == 6 and type(queue_position) is int and type(status_url) is str and status_url
                and type(response_url) is str and response_url and (type(cost) is int or type(cost) is float)
                and _EQ not in data and _PERCENT not in data and _BACKSLASH not in data
                and _QUESTION not in data and _HASH not in data):
            # the documented reply: its six keys (each read above, of a plain type) and no text
            # that redaction or _url would change: the reply is its own redacted form
            return _submitted(
                model=resolved.spec.id, task=resolved.task.name, id=request_id, status=status,
                queue_position=queue_position, status_url=status_url, response_url=response_url,
                cost=as_credits(cost), warnings=resolved.warnings, raw=body)
        # every value is checked above or by its helper: built without validating again
        return _submitted(
            model=resolved.spec.id, task=resolved.task.name, id=request_id, status=status,
            queue_position=queue_position, status_url=_url(status_url), response_url=_url(response_url),
            cost=as_credits(cost), warnings=resolved.warnings + warnings if warnings else resolved.warnings,
            raw=redact_reply(body, data),
        )

    # -- status and result ----------------------------------------------------------
    def build_status(self, job: Job) -> WireRequest:
        return WireRequest("GET", f"/v1/requests/{quote(job.id, safe='')}/status")

    def parse_status(self, job: Job, resp: WireResponse) -> Job:
        if resp.status >= 300:
            raise self.parse_error(resp, job)
        try:  # self._body and self._status, inlined: a poll is the hot path
            body = loads(resp.body)
        except ValueError:
            body = None
        if type(body) is not dict:
            body = self._body(resp, "status", job)  # raises the error read_object raises for it
        word = body.get("status")
        status = STATUS.get(word) if type(word) is str else None
        if status is None:
            raise malformed(self.name, f"status: unknown status {word!r}", resp, job)
        given, queue_position, logs = body.get("progress"), body.get("queue_position"), body.get("logs")
        data = resp.body
        if (len(body) == 1 + (type(body.get("request_id")) is str) + (type(given) is int or type(given) is float)
                + (type(queue_position) is int) + (type(logs) is list and not logs)
                and _EQ not in data and _PERCENT not in data and _BACKSLASH not in data):
            # only the documented keys (and empty logs), each of a plain type, and no text that
            # redaction would change: the reply is its own redacted form
            raw = body
        else:
            raw = redact_reply(body, data)
        progress: float | None
        if type(given) is int and 0 <= given <= 100:
            progress = float(given)
        else:  # a float (-0.0 is 0.0), out of range, absent or not a number
            number = _number(given)
            progress = max(0.0, min(100.0, float(number))) if number is not None else job.progress
        if status is not _QUEUED:
            queue_position = None
        elif type(queue_position) is not int:
            queue_position = _integer(queue_position)
        if status in TERMINAL_STATUSES and body.get("error"):
            # not in the reference's status reply; kept if sent
            update: dict[str, Any] = {"status": status, "progress": progress, "queue_position": queue_position,
                                      "raw": raw, "error": _job_error(body)}
            if "logs" in body:
                update["logs"] = _logs(raw)
            return _updated(job, update)
        # every value is checked above: laid out as model_copy would
        if "logs" in body:
            return _polled_logs(job, status=status, progress=progress, queue_position=queue_position,
                                logs=_logs(raw), raw=raw)
        return _polled(job, status=status, progress=progress, queue_position=queue_position, raw=raw)

    def build_result(self, job: Job) -> WireRequest | None:
        """The final result, for every end not read yet: a success's outputs, a failure's
        error and refunded cost (the status reply carries neither)."""
        if (job.status is JobStatus.SUCCEEDED and not job.outputs) or (
                job.status in (JobStatus.FAILED, JobStatus.CANCELED) and job.error is None):
            return WireRequest("GET", f"/v1/requests/{quote(job.id, safe='')}")
        return None

    def parse_result(self, job: Job, resp: WireResponse) -> Job:
        if resp.status >= 300 and resp.status != 202:
            raise self.parse_error(resp, job)
        body = self._body(resp, "result", job)
        status = self._status(body, resp, "result", job)
        update = self._result_update(body, status, resp, job)
        if status in (JobStatus.FAILED, JobStatus.CANCELED) and "error" not in update:
            code = "canceled" if status is JobStatus.CANCELED else "generation_failed"
            update["error"] = JobError(code=code, message=f"the job ended {status.value}")
        if not job.model:
            # a job known only by its id: the result names the model
            update.update(self._model_fields(body))
        return job.model_copy(update=update)

    def _model_fields(self, body: Mapping[str, Any]) -> dict[str, Any]:
        slug = _text(body.get("model")) or ""
        # the wire names the slug; jobs carry the catalog id
        spec = (self.catalog or Catalog.default()).find(self.name, slug) if slug else None
        out: dict[str, Any] = {"model": spec.id if spec is not None else slug}
        if spec is not None and len(spec.tasks) == 1:
            out["task"] = next(iter(spec.tasks))
        return out

    def _result_update(self, body: Mapping[str, Any], status: JobStatus, resp: WireResponse | None,
                       job: Job | None) -> dict[str, Any]:
        update: dict[str, Any] = {"status": status, "raw": redact_json(dict(body))}
        cost = as_credits(body.get("cost"))
        if cost is not None:
            update["cost"] = cost
        for key in ("created_at", "completed_at"):
            when = parse_datetime(body.get(key))
            if when is not None:
                update[key] = when
        if status is JobStatus.SUCCEEDED:
            update.update(progress=100.0, queue_position=None)
            output = body.get("output") if "output" in body else body.get("payload")
            outputs = parse_output(output)
            if outputs:
                update["outputs"] = outputs
            elif resp is not None:
                raise malformed(self.name, "result: COMPLETED without output", resp, job)
            elif output:
                raise ValueError("a successful delivery whose output holds no media")
            # else: a delivery that only says OK; the outputs are read from the result endpoint
        elif status in (JobStatus.FAILED, JobStatus.CANCELED):
            update["queue_position"] = None
            if body.get("error"):
                update["error"] = _job_error(body)
        return update

    # -- webhooks -------------------------------------------------------------------
    def parse_webhook(self, payload: dict[str, Any], headers: Mapping[str, str]) -> Job:
        request_id = payload.get("request_id")
        raw_status = payload.get("status")
        status = WEBHOOK_STATUS.get(raw_status) if isinstance(raw_status, str) else None
        if not isinstance(request_id, str) or not request_id or status is None:
            raise MalformedResponseError("webhook: needs request_id and a known status", provider=self.name)
        # fal-style deliveries nest the result under "payload"; accept "output" too
        inner = payload.get("payload")
        body: dict[str, Any] = dict(payload)
        if isinstance(inner, Mapping) and "output" in inner:
            body = {**payload, **inner}
        elif isinstance(inner, Mapping):
            body = {**payload, "output": inner}
        job = Job(provider=self.name, id=request_id, status=status, **self._model_fields(body))
        try:
            update = self._result_update(body, status, None, job)
        except ValueError as exc:
            raise MalformedResponseError(f"webhook: {exc}", provider=self.name) from None
        return job.model_copy(update=update)

    # -- no cancel, no sync mode -------------------------------------------------------------
    def with_sync_wait(self, request: WireRequest, seconds: int) -> WireRequest:
        raise UnsupportedOperationError(f"{self.name} has no sync mode", provider=self.name,
                                        code="unsupported_operation")

    def build_cancel(self, job: Job) -> WireRequest | None:
        return None

    def parse_cancel(self, job: Job, resp: WireResponse) -> Job:
        raise UnsupportedOperationError(f"{self.name} jobs cannot be canceled through its API", provider=self.name,
                                        code="unsupported_operation", job=job)

    @staticmethod
    def webhook_complete(job: Job) -> bool:
        """Only a success with its outputs: a delivery may come without its payload, and ``ERROR``
        is sent for failed and canceled jobs alike."""
        return job.status is JobStatus.SUCCEEDED and bool(job.outputs)

    # -- errors ---------------------------------------------------------------------
    def parse_error(self, resp: WireResponse, job: Job | None = None) -> GenwireError:
        code: str | None = None
        message = f"HTTP {resp.status}"
        try:
            body = read_json(resp, self.name, "error")
        except GenwireError:
            body = None
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, Mapping):
            code = err.get("code") if isinstance(err.get("code"), str) else None
            message = str(err.get("message") or code or message)
        cls = ERROR_BY_CODE.get(code or "") or error_for_status(resp.status)
        return cls(message, provider=self.name, status=resp.status,
                   code=normalized_code(CODE_ALIASES, code, resp.status), provider_code=code,
                   retryable=is_retryable_status(resp.status),
                   retry_after=parse_retry_after(resp.headers), job=job,
                   body=None if body is not None else raw_text(resp.body))

    # -- estimate and account ----------------------------------------------------------
    def build_estimate(self, resolved: Resolved, envelope: Mapping[str, Any]) -> WireRequest | None:
        body = build_body(envelope, resolved.task, resolved.input, None)
        slug = quote(resolved.task.wire_model(resolved.input), safe="")
        return WireRequest("POST", f"/v1/models/{slug}/estimate", json=body)

    def parse_estimate(self, resp: WireResponse) -> Estimate:
        if resp.status >= 300:
            raise self.parse_error(resp)
        body = self._body(resp, "estimate")
        cost = as_credits(body.get("credits"))
        if cost is None:
            raise malformed(self.name, "estimate: no credits", resp)
        from ..models._account import Estimate

        return Estimate(credits=cost.credits, source=cost.source, warnings=_warnings(body))

    def build_balance(self) -> WireRequest | None:
        return WireRequest("GET", "/v1/account")

    def parse_balance(self, resp: WireResponse) -> float:
        return self.parse_account(resp).credits

    def parse_account(self, resp: WireResponse) -> Account:
        if resp.status >= 300:
            raise self.parse_error(resp)
        body = self._body(resp, "account")
        balance = body.get("balance")
        credits = balance.get("credits") if isinstance(balance, Mapping) else None
        if _number(credits) is None:
            raise malformed(self.name, "account: no balance.credits", resp)
        usage = body.get("usage_30d")
        from ..models._account import Account

        return Account(provider=self.name, credits=float(credits),  # type: ignore[arg-type]
                       account_id=_text(body.get("account_id")), balance=redact_json(dict(balance)),  # type: ignore[arg-type]
                       usage_30d=redact_json(dict(usage)) if isinstance(usage, Mapping) else {},
                       raw=redact_json(body))
