"""Cliprise: a task API. ``POST /generate`` answers ``[{"code": 200, "taskId": ...}]``;
``GET /status?apiKey=…&taskId=…`` answers ``[{"status": "processing"}]``,
``[{"status": "success", "fileURL": …}]`` or ``{"status": "fail", "failMsg": …}``.

Errors: 400 ``{"msg": …}``; 401/402/429 ``{"code", "error": {"code", "message"}}``.
Cliprise has no idempotency keys, so a generate is never replayed after an
unknown outcome. ``fileURL`` embeds the key; normalized URLs are stripped of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from .._util.construct import trusted, trusted_update, updater
from .._util.http import is_retryable_status, parse_retry_after
from .._util.json import loads
from .._util.redact import redact_json, redact_reply, strip_query_secrets
from ..catalog import Catalog, Resolved
from ..catalog._translate import build_body
from ..errors import (
    AuthenticationError,
    BadRequestError,
    GenwireError,
    InsufficientCreditsError,
    MalformedResponseError,
    ProviderNotFoundError,
    RateLimitError,
    UnsupportedOperationError,
)
from ..models import InputWarning, Job, JobError, JobStatus, Media
from .base import (
    LiveSource,
    WireRequest,
    WireResponse,
    error_for_status,
    malformed,
    normalized_code,
    parse_datetime,
    raw_text,
    read_json,
)

if TYPE_CHECKING:
    from ..models._account import Account, Estimate

__all__ = ["ClipriseAdapter", "ERROR_BY_CODE", "STATUS"]

_submitted = trusted(Job, "model", "task", "id", "warnings", "raw", provider="cliprise", status=JobStatus.QUEUED)
_updated = updater(Job)
#: the common poll: ``{"status": "processing"}`` and nothing else
_running = trusted_update(Job, "status", "raw")

STATUS: dict[str, JobStatus] = {
    "processing": JobStatus.RUNNING,
    "success": JobStatus.SUCCEEDED,
    "fail": JobStatus.FAILED,  # the status endpoint's spelling
    "failure": JobStatus.FAILED,  # the callback's spelling
}
# module constants: reading an Enum member off its class costs more than the rest of a check
_RUNNING = JobStatus.RUNNING

ERROR_BY_CODE: dict[str, type[GenwireError]] = {
    "invalid_api_key": AuthenticationError,
    "insufficient_credits": InsufficientCreditsError,
    "rate_limit_exceeded": RateLimitError,
    "not_found": ProviderNotFoundError,
    "invalid_request": BadRequestError,
}
#: Cliprise's word -> the normalized code (Clipia's words where both name the same failure)
CODE_ALIASES: dict[str, str] = {"fail": "generation_failed", "failure": "generation_failed",
                                "provider_error": "generation_failed"}


def _unwrap(body: Any) -> Any:
    # Replies come array-wrapped ([{...}]) or bare ({...}) depending on the endpoint.
    if isinstance(body, list) and len(body) == 1:
        return body[0]
    return body


class ClipriseAdapter:
    name: ClassVar[str] = "cliprise"
    submit_replay_safe: ClassVar[bool] = False
    signs_webhooks: ClassVar[bool] = False
    webhook_scheme: ClassVar[str | None] = None
    max_sync_wait: ClassVar[int] = 0
    download_key_param: ClassVar[str | None] = "apiKey"
    #: Cliprise publishes no catalog at run time
    live_source: ClassVar[LiveSource | None] = None

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog

    def _catalog(self) -> Catalog:
        return self.catalog or Catalog.default()

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def _object(self, resp: WireResponse, what: str, job: Job | None = None) -> dict[str, Any]:
        try:  # the common reply straight from loads; read_json only to word the error
            body = loads(resp.body)
        except ValueError:
            body = read_json(resp, self.name, what, job)
        if type(body) is list and len(body) == 1:  # _unwrap
            body = body[0]
        if type(body) is not dict:
            raise malformed(self.name, what, resp, job)
        return body

    # -- submit ----------------------------------------------------------------------
    def build_submit(self, resolved: Resolved, envelope: Mapping[str, Any], webhook_url: str | None,
                     idempotency_key: str) -> WireRequest:
        body = build_body(envelope, resolved.task, resolved.input, webhook_url)
        return WireRequest("POST", "/generate", json=body, replay_safe=False)

    def parse_submit(self, resolved: Resolved, resp: WireResponse) -> Job:
        if resp.status >= 300:
            raise self.parse_error(resp)
        body = self._object(resp, "generate")
        code = body.get("code")
        task_id = body.get("taskId")
        if (len(body) == 2 and code == 200 and type(task_id) is str and task_id
                and "=" not in task_id and "%3" not in task_id):
            # the documented reply and nothing else: two known keys, a number and an id that
            # redaction would leave as they are (it rewrites only text holding "=" or "%3")
            return _submitted(model=resolved.spec.id, task=resolved.task.name, id=task_id,
                              warnings=resolved.warnings, raw=body)
        if isinstance(code, int) and not isinstance(code, bool) and code >= 300:
            raise self._error(code, body, resp)
        task_id = body.get("taskId")
        if not isinstance(task_id, str) or not task_id:
            err = malformed(self.name, "generate: no taskId (a task may still have been created)", resp)
            raise err
        # every value is checked above: built without validating again
        return _submitted(model=resolved.spec.id, task=resolved.task.name, id=task_id,
                          warnings=resolved.warnings, raw=redact_reply(body, resp.body))

    # -- status ----------------------------------------------------------------------
    def build_status(self, job: Job) -> WireRequest:
        return WireRequest("GET", "/status", query={"taskId": job.id}, key_query_param="apiKey")

    def _output_kind(self, model: str) -> str | None:
        spec = self._catalog().find(self.name, model)
        return spec.output_kind if spec is not None else None

    def _apply(self, job: Job, body: Mapping[str, Any], resp: WireResponse | None) -> Job:
        raw = body.get("status")
        status = STATUS.get(raw) if isinstance(raw, str) else None
        if status is None:
            what = f"status: unknown status {body.get('status')!r}"
            if resp is None:
                raise MalformedResponseError(what, provider=self.name, job=job)
            raise malformed(self.name, what, resp, job)
        # a reply's body was parsed here and is ours to keep; a callback's payload is the caller's
        update: dict[str, Any] = {
            "status": status, "raw": redact_json(dict(body)) if resp is None else redact_reply(body, resp.body)}
        if "createdAt" in body or "completedAt" in body:
            for ours, theirs in (("created_at", "createdAt"), ("completed_at", "completedAt")):
                when = parse_datetime(body.get(theirs))
                if when is not None:
                    update[ours] = when
        if status is JobStatus.SUCCEEDED:
            url = body.get("fileURL")
            if not isinstance(url, str) or not url:
                what = "status: success without fileURL"
                if resp is None:
                    raise MalformedResponseError(what, provider=self.name, job=job)
                raise malformed(self.name, what, resp, job)
            kind = self._output_kind(job.model)
            warnings = job.warnings
            if kind is None:
                kind = "image"
                warnings = (*warnings, InputWarning(
                    code="unknown_model",
                    message=f"model {job.model!r} is not in the catalog; output kind assumed image"))
            update.update(outputs=(Media(url=strip_query_secrets(url), kind=kind),),  # type: ignore[arg-type]
                          progress=100.0, warnings=warnings)
        elif status is JobStatus.FAILED:
            update["error"] = self._job_error(body)
        # every value is checked above: laid out as model_copy would
        return _updated(job, update)

    @staticmethod
    def _job_error(body: Mapping[str, Any]) -> JobError:
        err = body.get("error")
        if isinstance(err, Mapping):
            code = err.get("code") if isinstance(err.get("code"), str) else None
            return JobError(code=CODE_ALIASES.get(code, code) if code else "generation_failed", provider_code=code,
                            message=str(err.get("message") or "generation failed"))
        msg = body.get("failMsg")
        return JobError(code="generation_failed", provider_code="fail",
                        message=str(msg) if msg else "generation failed")

    def parse_status(self, job: Job, resp: WireResponse) -> Job:
        if resp.status >= 300:
            raise self.parse_error(resp, job)
        body = self._object(resp, "status", job)
        if len(body) == 1 and body.get("status") == "processing":
            # still processing, and nothing else said: the reply's one key and value are known
            # words with nothing to redact, no times, no outputs (what _apply would find)
            return _running(job, status=_RUNNING, raw=body)
        code = body.get("code")
        if "status" not in body and isinstance(code, int) and code >= 300:
            raise self._error(code, body, resp, job)
        return self._apply(job, body, resp)

    def build_result(self, job: Job) -> WireRequest | None:
        return None  # the status reply already carries fileURL

    def parse_result(self, job: Job, resp: WireResponse) -> Job:
        return self.parse_status(job, resp)

    # -- callbacks ---------------------------------------------------------------------
    def parse_webhook(self, payload: dict[str, Any], headers: Mapping[str, str]) -> Job:
        task_id = payload.get("taskId")
        if not isinstance(task_id, str) or not task_id:
            raise MalformedResponseError("callback: no taskId", provider=self.name)
        wire_model = payload.get("model")
        wire_model = wire_model if isinstance(wire_model, str) else ""
        spec = self._catalog().find(self.name, wire_model)
        job = Job(provider=self.name, model=spec.id if spec else wire_model, id=task_id, status=JobStatus.QUEUED)
        if spec is not None and len(spec.tasks) == 1:
            job = job.model_copy(update={"task": next(iter(spec.tasks))})
        return self._apply(job, payload, None)

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
        return False  # unsigned: a callback is only ever a prompt to poll

    # -- errors ---------------------------------------------------------------------
    def _error(self, status: int, body: Any, resp: WireResponse, job: Job | None = None) -> GenwireError:
        code: str | None = None
        message = f"HTTP {status}"
        if isinstance(body, Mapping):
            err = body.get("error")
            if isinstance(err, Mapping):
                code = err.get("code") if isinstance(err.get("code"), str) else None
                message = str(err.get("message") or code or message)
            elif isinstance(body.get("msg"), str):
                message = body["msg"]
        cls = ERROR_BY_CODE.get(code or "") or error_for_status(status)
        return cls(message, provider=self.name, status=status,
                   code=normalized_code(CODE_ALIASES, code, status), provider_code=code,
                   retryable=is_retryable_status(status),
                   retry_after=parse_retry_after(resp.headers), job=job,
                   body=None if isinstance(body, Mapping) else raw_text(resp.body))

    def parse_error(self, resp: WireResponse, job: Job | None = None) -> GenwireError:
        try:
            body = _unwrap(read_json(resp, self.name, "error"))
        except GenwireError:
            body = None
        return self._error(resp.status, body, resp, job)

    # -- no estimate or balance endpoints ----------------------------------------------------
    def build_estimate(self, resolved: Resolved, envelope: Mapping[str, Any]) -> WireRequest | None:
        return None

    def parse_estimate(self, resp: WireResponse) -> Estimate:
        raise NotImplementedError

    def build_balance(self) -> WireRequest | None:
        return None

    def parse_balance(self, resp: WireResponse) -> float:
        raise NotImplementedError

    def parse_account(self, resp: WireResponse) -> Account:
        raise NotImplementedError
