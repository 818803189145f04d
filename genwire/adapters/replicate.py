"""Replicate: one prediction resource. ``POST /v1/models/{owner}/{name}/predictions`` (or
``POST /v1/predictions`` with ``version`` when the catalog pins ``owner/name:version``) answers
201 with the prediction; ``GET /v1/predictions/{id}`` reads it, ``POST /v1/predictions/{id}/cancel``
cancels it. A prediction is ``starting``, ``processing``, ``succeeded``, ``failed`` or ``canceled``;
``output`` is whatever the model returns (a URL, a list of URLs, an object holding them).

``Prefer: wait=N`` (1-60 s) holds the create request open until the prediction ends or N
seconds pass; the reply is the prediction either way. Errors are RFC 7807 problem details
(``{"title", "detail", "status"}``); a 422 lists ``invalid_fields`` (``{type, field,
description}``). Replicate has no idempotency key and its official client never retries the
create POST, so a create is never resent once it may have reached the provider.
Webhook deliveries are signed per the Standard Webhooks spec (``genwire._stdwebhooks``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from .._util.construct import trusted
from .._util.http import is_retryable_status, parse_retry_after
from .._util.redact import redact_json, redact_reply, strip_query_secrets
from ..catalog import Catalog, Resolved
from ..catalog._translate import build_body
from ..errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    GenwireError,
    InsufficientCreditsError,
    MalformedResponseError,
    ProviderNotFoundError,
    RateLimitError,
    UnsupportedOperationError,
    Violation,
)
from ..models import InputWarning, Job, JobError, JobMetrics, JobStatus, Media
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

__all__ = ["MAX_SYNC_WAIT", "ReplicateAdapter", "ReplicateLiveSource", "STATUS", "WEBHOOK_EVENTS", "parse_ref",
           "prediction_metrics", "prediction_outputs"]

STATUS: dict[str, JobStatus] = {
    "starting": JobStatus.QUEUED,
    "processing": JobStatus.RUNNING,
    "succeeded": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
    "canceled": JobStatus.CANCELED,
}

#: events a genwire submit asks deliveries for: every one, so a ledger hears of the start too
WEBHOOK_EVENTS: tuple[str, ...] = ("start", "output", "logs", "completed")
#: the longest ``Prefer: wait`` Replicate honours, in seconds
MAX_SYNC_WAIT = 60

_REF = re.compile(r"^(?P<owner>[^/:]+)/(?P<name>[^/:]+)(?::(?P<version>[0-9A-Za-z]+))?$")
# the official client's Progress pattern: "  42%|████      | 21/50 [...]"
_PROGRESS = re.compile(r"^\s*(?P<percentage>\d+)%\s*\|.+?\|\s*(?P<current>\d+)/(?P<total>\d+)")
_MEDIA_PREFIXES = ("https://", "http://", "data:")
_FORMAT_BY_MIME = {"jpeg": "jpg", "mpeg": "mp3", "x-wav": "wav", "wave": "wav"}


def parse_ref(ref: str) -> tuple[str, str, str | None]:
    """``owner/name`` or ``owner/name:version`` -> (owner, name, version or None)."""
    match = _REF.match(ref)
    if match is None:
        raise ValueError(f"not a Replicate model reference (owner/name[:version]): {ref!r}")
    return match["owner"], match["name"], match["version"]


def _urls(value: Any) -> Iterator[str]:
    """Every media URL in an output, in order: a string, a list, an object's values."""
    if isinstance(value, str):
        if value.startswith(_MEDIA_PREFIXES):
            yield value
    elif isinstance(value, list):
        for item in value:
            yield from _urls(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _urls(item)


def _format_of(url: str) -> str | None:
    if url.startswith("data:"):
        mime = url[5:].split(";", 1)[0].split(",", 1)[0]
        sub = mime.rsplit("/", 1)[-1].lower() if "/" in mime else ""
        return _FORMAT_BY_MIME.get(sub, sub) or None
    tail = url.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
    return tail.rsplit(".", 1)[-1].lower() if "." in tail else None


def prediction_outputs(output: Any, kind: str) -> tuple[Media, ...]:
    """A prediction's ``output`` as ``Media`` of ``kind``, each URL once."""
    seen: set[str] = set()
    found: list[Media] = []
    for url in _urls(output):
        clean = url if url.startswith("data:") else strip_query_secrets(url)
        if clean not in seen:
            seen.add(clean)
            found.append(Media(url=clean, kind=kind, format=_format_of(clean)))  # type: ignore[arg-type]
    return tuple(found)


def _logs(value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, str):
        return None
    return tuple(line for line in value.replace("\r", "\n").split("\n") if line.strip())


_metrics = trusted(JobMetrics, "predict_time", "total_time")


def _seconds(value: Any) -> float | None:
    if type(value) not in (int, float) or not 0 <= value < float("inf"):
        return None  # a bool, a string, NaN, a negative or infinite figure: not a time
    return float(value)


def prediction_metrics(value: Any) -> JobMetrics | None:
    """A prediction's ``metrics`` (``{"predict_time": 4.2, "total_time": 5.0, ...}``, seconds) as
    ``JobMetrics``; None when it gives neither time. Other figures stay in ``Job.raw``."""
    if not isinstance(value, Mapping):
        return None
    predict, total = _seconds(value.get("predict_time")), _seconds(value.get("total_time"))
    if predict is None and total is None:
        return None
    return _metrics(predict_time=predict, total_time=total)


def _progress(lines: tuple[str, ...]) -> float | None:
    for line in reversed(lines):
        match = _PROGRESS.match(line)
        if match is not None:
            return max(0.0, min(100.0, float(match["percentage"])))
    return None


class ReplicateLiveSource:
    """Replicate: ``GET /v1/models/{owner}/{name}``, its latest version's OpenAPI input schema.

    Replicate's model list is the whole public registry, so models are always named
    (``owner/name``); a model the bundled catalog serves keeps its id, kind, task and
    whether it is pinned to a version.
    """

    provider = "replicate"

    def build_list(self) -> WireRequest:
        raise ConfigurationError("Replicate lists every public model: name the models to read (owner/name)",
                                 provider=self.provider, code="models_required")

    def parse_list(self, resp: WireResponse) -> list[dict[str, Any]]:
        raise malformed(self.provider, "models: not read", resp)

    def build_get(self, model: str) -> WireRequest:
        owner, slash, name = model.partition("/")
        if not slash or not owner or not name or "/" in name:
            raise ConfigurationError(f"name a Replicate model as owner/name, not {model!r}", provider=self.provider,
                                     code="invalid_model")
        return WireRequest("GET", f"/v1/models/{quote(owner, safe='')}/{quote(name, safe='')}")

    def parse_get(self, resp: WireResponse) -> dict[str, Any]:
        body = read_json(resp, self.provider, "model")
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("owner", "name")):
            raise malformed(self.provider, "model: no owner/name", resp)
        return {**body, "slug": f"{body['owner']}/{body['name']}"}

    def slug(self, entry: Mapping[str, Any]) -> str | None:
        return f"{entry['owner']}/{entry['name']}" if entry.get("owner") and entry.get("name") else None

    def complete(self, entry: Mapping[str, Any]) -> bool:
        latest = entry.get("latest_version")
        return isinstance(latest, Mapping) and latest.get("openapi_schema") is not None

    def to_model_data(self, entry: Mapping[str, Any],
                      base: Catalog) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
        from ..catalog._from_replicate import replicate_to_catalog

        ref = f"{entry.get('owner')}/{entry.get('name')}"
        twin = next(((spec, task) for spec in base.models(provider=self.provider) for task in spec.tasks.values()
                     if task.model is not None and task.model.partition(":")[0] == ref), None)
        if twin is None:
            return replicate_to_catalog(entry)
        spec, task = twin
        return replicate_to_catalog(entry, bundled_id=spec.id, kind=spec.output_kind, task=task.name,
                                    pinned=":" in (task.model or ""))


class ReplicateAdapter:
    name: ClassVar[str] = "replicate"
    submit_replay_safe: ClassVar[bool] = False
    signs_webhooks: ClassVar[bool] = True
    download_key_param: ClassVar[str | None] = None
    #: how deliveries are signed (``genwire.webhooks`` holds the verifier of each scheme)
    webhook_scheme: ClassVar[str | None] = "standard-webhooks"
    #: seconds a create may be held open by ``Prefer: wait`` (0: the provider has no sync mode)
    max_sync_wait: ClassVar[int] = MAX_SYNC_WAIT
    live_source: ClassVar[LiveSource | None] = ReplicateLiveSource()

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog

    def _catalog(self) -> Catalog:
        return self.catalog or Catalog.default()

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    # -- create ------------------------------------------------------------------------
    def build_submit(self, resolved: Resolved, envelope: Mapping[str, Any], webhook_url: str | None,
                     idempotency_key: str) -> WireRequest:
        """The create request; ``idempotency_key`` is not sent (Replicate takes none)."""
        owner, name, version = parse_ref(resolved.task.wire_model(resolved.input))
        body = build_body(envelope, resolved.task, resolved.input, webhook_url)
        if webhook_url is not None:
            body["webhook_events_filter"] = list(WEBHOOK_EVENTS)
        if version is not None:
            return WireRequest("POST", "/v1/predictions", json={**body, "version": version}, replay_safe=False)
        path = f"/v1/models/{quote(owner, safe='')}/{quote(name, safe='')}/predictions"
        return WireRequest("POST", path, json=body, replay_safe=False)

    def with_sync_wait(self, request: WireRequest, seconds: int) -> WireRequest:
        """``request`` (a create) asking the provider to hold it open up to ``seconds``."""
        if not 1 <= seconds <= self.max_sync_wait:
            raise ValueError(f"a sync wait is 1..{self.max_sync_wait} seconds, not {seconds!r}")
        return WireRequest(request.method, request.path, request.query,
                           {**request.headers, "Prefer": f"wait={seconds}"}, request.json,
                           request.key_query_param, request.replay_safe)

    def parse_submit(self, resolved: Resolved, resp: WireResponse) -> Job:
        if resp.status >= 300:
            raise self.parse_error(resp)
        body = self._object(resp, "create")
        pid = body.get("id")
        if not isinstance(pid, str) or not pid:
            raise malformed(self.name, "create: no prediction id (a prediction may still have been created)", resp)
        job = Job(provider=self.name, model=resolved.spec.id, task=resolved.task.name, id=pid,
                  status=JobStatus.QUEUED, warnings=resolved.warnings)
        return self._apply(job, body, resp)

    # -- get and cancel -------------------------------------------------------------------
    def build_status(self, job: Job) -> WireRequest:
        return WireRequest("GET", f"/v1/predictions/{quote(job.id, safe='')}")

    def parse_status(self, job: Job, resp: WireResponse) -> Job:
        if resp.status >= 300:
            raise self.parse_error(resp, job)
        return self._apply(job, self._object(resp, "get", job), resp)

    def build_result(self, job: Job) -> WireRequest | None:
        return None  # the prediction carries its output, error and logs

    def parse_result(self, job: Job, resp: WireResponse) -> Job:
        return self.parse_status(job, resp)

    def build_cancel(self, job: Job) -> WireRequest:
        """Cancel; repeating it is harmless (a finished prediction stays as it ended)."""
        return WireRequest("POST", f"/v1/predictions/{quote(job.id, safe='')}/cancel")

    def parse_cancel(self, job: Job, resp: WireResponse) -> Job:
        if resp.status >= 300:
            raise self.parse_error(resp, job)
        return self._apply(job, self._object(resp, "cancel", job), resp)

    # -- reading a prediction --------------------------------------------------------------
    def _object(self, resp: WireResponse, what: str, job: Job | None = None) -> dict[str, Any]:
        body = read_json(resp, self.name, what, job)
        if not isinstance(body, dict):
            raise malformed(self.name, what, resp, job)
        return body

    def _spec_id(self, body: Mapping[str, Any]) -> tuple[str, str | None]:
        """The catalog id (and single task) of the model a prediction names."""
        model = body.get("model") if isinstance(body.get("model"), str) else ""
        version = body.get("version") if isinstance(body.get("version"), str) else ""
        catalog = self._catalog()
        spec = (catalog.find(self.name, f"{model}:{version}") if model and version else None) or (
            catalog.find(self.name, model) if model else None)
        if spec is None:
            return str(model), None
        return spec.id, next(iter(spec.tasks)) if len(spec.tasks) == 1 else None

    def _apply(self, job: Job, body: Mapping[str, Any], resp: WireResponse | None) -> Job:
        """``job`` updated from a prediction object (a reply, or a webhook delivery)."""
        if not job.model:  # a job known by its id alone: the prediction names the model
            model, task = self._spec_id(body)
            job = job.model_copy(update={"model": model, "task": job.task or task})
        raw = body.get("status")
        status = STATUS.get(raw) if isinstance(raw, str) else None
        if status is None:
            what = f"prediction: unknown status {raw!r}"
            if resp is None:
                raise MalformedResponseError(what, provider=self.name, job=job)
            raise malformed(self.name, what, resp, job)
        urls = body.get("urls")
        update: dict[str, Any] = {
            "status": status, "queue_position": None,
            "raw": redact_reply(dict(body), resp.body) if resp is not None else redact_json(dict(body)),
        }
        if isinstance(urls, Mapping) and isinstance(urls.get("get"), str):
            update["status_url"] = strip_query_secrets(urls["get"])
        for key in ("created_at", "completed_at"):
            when = parse_datetime(body.get(key))
            if when is not None:
                update[key] = when
        metrics = prediction_metrics(body.get("metrics"))
        if metrics is not None:
            update["metrics"] = metrics
        lines = _logs(body.get("logs"))
        if lines is not None:
            update["logs"] = lines
            progress = _progress(lines)
            if progress is not None:
                update["progress"] = progress
        if status is JobStatus.SUCCEEDED:
            kind, warnings = self._output_kind(job)
            outputs = prediction_outputs(body.get("output"), kind)
            if not outputs:
                what = "prediction: succeeded without a media URL in its output"
                if resp is None:
                    raise MalformedResponseError(what, provider=self.name, job=job)
                raise malformed(self.name, what, resp, job)
            update.update(outputs=outputs, progress=100.0, warnings=warnings)
        elif status is JobStatus.FAILED:
            error = body.get("error")
            update["error"] = JobError(code="generation_failed", provider_code="failed",
                                       message=str(error) if error else "the prediction failed")
        elif status is JobStatus.CANCELED:
            update["error"] = JobError(code="canceled", message="the prediction was canceled")
        return job.model_copy(update=update)

    def _output_kind(self, job: Job) -> tuple[str, tuple[InputWarning, ...]]:
        spec = self._catalog().find(self.name, job.model) if job.model else None
        if spec is not None:
            return spec.output_kind, job.warnings
        return "image", (*job.warnings, InputWarning(
            code="unknown_model", message=f"model {job.model!r} is not in the catalog; output kind assumed image"))

    # -- webhooks ---------------------------------------------------------------------------
    def parse_webhook(self, payload: dict[str, Any], headers: Mapping[str, str]) -> Job:
        """A delivery's body is the prediction as ``GET /v1/predictions/{id}`` shows it."""
        pid = payload.get("id")
        if not isinstance(pid, str) or not pid:
            raise MalformedResponseError("webhook: no prediction id", provider=self.name)
        model, task = self._spec_id(payload)
        job = Job(provider=self.name, model=model, task=task, id=pid, status=JobStatus.QUEUED)
        return self._apply(job, payload, None)

    @staticmethod
    def webhook_complete(job: Job) -> bool:
        """Always: every delivery is the whole prediction as a poll would show it. An early event
        (start, logs, output) applies forward only, so it never undoes a later final state."""
        return True

    # -- errors ------------------------------------------------------------------------------
    def parse_error(self, resp: WireResponse, job: Job | None = None) -> GenwireError:
        try:
            body = read_json(resp, self.name, "error")
        except GenwireError:
            body = None
        problem = body if isinstance(body, Mapping) else {}
        detail = problem.get("detail")
        title = problem.get("title")
        message = (detail if isinstance(detail, str) and detail else
                   title if isinstance(title, str) and title else f"HTTP {resp.status}")
        provider_code = _code(title)
        kwargs: dict[str, Any] = {
            "provider": self.name, "status": resp.status, "provider_code": provider_code,
            "code": normalized_code({}, provider_code, resp.status),
            "retryable": is_retryable_status(resp.status), "retry_after": parse_retry_after(resp.headers),
            "job": job, "body": None if body is not None else raw_text(resp.body)}
        if resp.status in (400, 422):
            return BadRequestError(message, _violations(problem.get("invalid_fields")), **kwargs)
        cls = _ERROR_BY_STATUS.get(resp.status) or error_for_status(resp.status)
        return cls(message, **kwargs)

    # -- no estimate or balance endpoints ---------------------------------------------------
    def build_estimate(self, resolved: Resolved, envelope: Mapping[str, Any]) -> WireRequest | None:
        return None

    def parse_estimate(self, resp: WireResponse) -> Estimate:
        raise UnsupportedOperationError("replicate has no price estimate endpoint", provider=self.name)

    def build_balance(self) -> WireRequest | None:
        return None

    def parse_balance(self, resp: WireResponse) -> float:
        raise UnsupportedOperationError("replicate has no balance endpoint", provider=self.name)

    def parse_account(self, resp: WireResponse) -> Account:
        raise UnsupportedOperationError("replicate has no balance endpoint", provider=self.name)


_ERROR_BY_STATUS: dict[int, type[GenwireError]] = {
    401: AuthenticationError, 402: InsufficientCreditsError, 403: AuthenticationError, 404: ProviderNotFoundError,
    429: RateLimitError,
}


def _code(title: Any) -> str | None:
    """A problem title as a code: ``"Input validation failed"`` -> ``input_validation_failed``."""
    if not isinstance(title, str) or not title.strip():
        return None
    return re.sub(r"[^a-z0-9]+", "_", title.strip().lower()).strip("_")[:64] or None


def _violations(fields: Any) -> list[Violation]:
    """``invalid_fields`` entries as violations; ``input.prompt`` is ``$.prompt``."""
    out: list[Violation] = []
    for item in fields if isinstance(fields, list) else ():
        if not isinstance(item, Mapping):
            continue
        raw_field = item.get("field")
        field = raw_field if isinstance(raw_field, str) else ""
        description = item.get("description")
        message = description if isinstance(description, str) and description else str(item.get("type") or "invalid")
        field = field.removeprefix("input").lstrip(".")
        out.append(Violation(f"$.{field}" if field else "$", message))
    return out


