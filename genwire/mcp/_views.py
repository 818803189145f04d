"""genwire objects as the plain JSON the tools return (the shapes ``_schemas.RESULTS`` declares).

Pure functions: no I/O, no MCP SDK. Nothing here reads a key; URLs are the ones genwire
normalized (never carrying one).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import GenwireError, InvalidInputError, SubmissionUncertainError
from ._schemas import MAX_WAIT

if TYPE_CHECKING:
    from ..models import InputWarning, Job, Media
    from ..specs import ModelSpec, Price

__all__ = ["error_view", "error_text", "file_name", "generation", "iso", "media_view", "mime_type", "model_detail",
           "model_summary", "price_view", "warnings_view"]

_MIME_BY_FORMAT = {"jpg": "image/jpeg", "mp3": "audio/mpeg", "m4a": "audio/mp4", "webp": "image/webp",
                   "mp4": "video/mp4", "wav": "audio/wav", "txt": "text/plain"}


def iso(value: datetime | float | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, tz=timezone.utc)
    return value.isoformat().replace("+00:00", "Z")


def mime_type(media: Media) -> str | None:
    fmt = (media.format or "").lower().lstrip(".")
    if fmt in _MIME_BY_FORMAT:
        return _MIME_BY_FORMAT[fmt]
    if fmt:
        return mimetypes.types_map.get("." + fmt) or f"{media.kind}/{fmt}"
    return mimetypes.guess_type(media.url.split("?", 1)[0])[0]


def file_name(media: Media) -> str:
    """A short name for an output: the URL's file name, else its kind and format."""
    last = urlsplit(media.url).path.rsplit("/", 1)[-1]
    if "." in last.strip("."):
        return last
    return f"{media.kind}.{media.format}" if media.format else media.kind


def media_view(media: Media) -> dict[str, Any]:
    return {"url": media.url, "kind": media.kind, "mime_type": mime_type(media), "format": media.format,
            "width": media.width, "height": media.height, "duration": media.duration}


def warnings_view(warnings: Sequence[InputWarning]) -> list[dict[str, Any]]:
    return [{"code": w.code, "parameter": w.parameter, "message": w.message} for w in warnings]


def next_step(job: Job) -> str | None:
    """How an agent goes on with a job that is not done."""
    if job.done:
        return None
    return (f"the job is {job.status.value}: call wait_generation with provider={job.provider!r} and id={job.id!r} "
            f"to wait for it (up to {MAX_WAIT:g} s a call; call again while it runs), or get_generation to look once")


def generation(job: Job) -> dict[str, Any]:
    """A job as ``generate``/``get_generation``/``wait_generation`` return it."""
    return {
        "provider": job.provider, "model": job.model, "task": job.task, "id": job.id, "status": job.status.value,
        "done": job.done, "progress": job.progress, "queue_position": job.queue_position,
        "outputs": [media_view(m) for m in job.outputs],
        "cost": {"credits": job.cost.credits, "source": job.cost.source} if job.cost is not None else None,
        "error": ({"code": job.error.code, "message": job.error.message, "retryable": job.error.retryable}
                  if job.error is not None else None),
        "warnings": warnings_view(job.warnings), "sandbox": job.sandbox,
        "created_at": iso(job.created_at), "completed_at": iso(job.completed_at), "next": next_step(job),
    }


def price_view(price: Price | None) -> dict[str, Any] | None:
    return {"credits": price.credits, "note": price.note} if price is not None else None


def model_summary(spec: ModelSpec) -> dict[str, Any]:
    return {"model": f"{spec.provider}/{spec.id}", "provider": spec.provider, "id": spec.id, "name": spec.name,
            "kind": spec.kind, "family": spec.family, "tasks": list(spec.tasks), "price": price_view(spec.price)}


def model_detail(spec: ModelSpec, schemas: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """One model with each task's normalized input schema (``schemas`` by task name)."""
    tasks = []
    for name, task in spec.tasks.items():
        defaults = {p.name: p.default for p in task.params.values() if p.has_default}
        if task.choice is not None:
            defaults.setdefault(task.choice.param, task.choice.values[0])
        tasks.append({"name": name, "description": task.description, "required": sorted(task.required),
                      "defaults": defaults, "notes": list(task.notes), "input_schema": schemas[name]})
    return {**model_summary(spec), "output": {"kind": spec.output_kind, "formats": list(spec.output_formats)},
            "notes": list(spec.notes), "tasks": tasks}


def error_view(err: GenwireError) -> dict[str, Any]:
    """A genwire error as a tool error's structured content: its type, code and violations."""
    body: dict[str, Any] = {"type": type(err).__name__, "code": err.code, "message": err.message,
                            "provider": err.provider, "status": err.status, "retryable": err.retryable}
    if err.retry_after is not None:
        body["retry_after"] = err.retry_after
    if isinstance(err, InvalidInputError):
        body["violations"] = [{"path": v.path, "message": v.message} for v in err.violations]
    if isinstance(err, SubmissionUncertainError):
        body["uncertain"] = True
        body["idempotency_key"] = err.idempotency_key
    if err.job is not None:
        body["job"] = generation(err.job)
    return {"error": body}


def error_text(view: Mapping[str, Any]) -> str:
    """The one paragraph a model reads for a tool error."""
    body = view["error"]
    head = " ".join(str(x) for x in (body.get("provider"), body.get("status") or None, body.get("code")) if x)
    lines = [f"{body['type']}{f' [{head}]' if head else ''}: {body['message'].splitlines()[0]}"]
    lines += [f"  {v['path']}: {v['message']}" for v in body.get("violations", ())]
    if body.get("job"):
        job = body["job"]
        lines.append(f"  the job: {job['provider']} {job['id']} ({job['status']})")
    return "\n".join(lines)
