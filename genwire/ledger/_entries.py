"""What the ledger holds: one entry per job, its state, and the events applied to it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from .._util.redact import redact_json
from ..models import GenerationRequest, Job, JobStatus

__all__ = ["ApplyOutcome", "LedgerEntry", "LedgerEvent", "LedgerState", "RANK", "TERMINAL_STATES", "state_of",
           "uncertain_message"]


class LedgerState(str, Enum):
    """Where a ledger entry is. The job statuses, plus three of the ledger's own:

    ``submitting``: the intent is recorded and the submit may be on the wire;
    ``uncertain``: a submit to a provider without idempotency may have created a job
    that no reply named (never resent: an operator decides, see ``Ledger.attach``);
    ``rejected``: the provider certainly created no job.
    """

    SUBMITTING = "submitting"
    UNCERTAIN = "uncertain"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    REJECTED = "rejected"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def rank(self) -> int:
        """Transitions only go to a higher rank; the terminal states share the highest."""
        return RANK[self]


TERMINAL_STATES = frozenset({LedgerState.SUCCEEDED, LedgerState.FAILED, LedgerState.CANCELED, LedgerState.REJECTED})

#: transitions only go up this order; terminal states share the top rank, so none replaces another
RANK: dict[LedgerState, int] = {
    LedgerState.SUBMITTING: 0,
    LedgerState.UNCERTAIN: 1,
    LedgerState.QUEUED: 2,
    LedgerState.RUNNING: 3,
    LedgerState.SUCCEEDED: 4,
    LedgerState.FAILED: 4,
    LedgerState.CANCELED: 4,
    LedgerState.REJECTED: 4,
}
TERMINAL_RANK = 4


def state_of(status: JobStatus) -> LedgerState:
    return LedgerState(status.value)


@dataclass(frozen=True)
class LedgerEvent:
    """One applied transition: the state reached, who reported it (``submit``, ``poll``,
    ``wait``, ``webhook``, ``reconcile``, ``operator``) and when (Unix seconds)."""

    ref: str
    state: LedgerState
    source: str
    at: float


@dataclass(frozen=True)
class LedgerEntry:
    """One job as the ledger knows it. ``ref`` is the local reference, known before the
    provider's id; ``job`` is the last ``Job`` seen (None until the provider accepted)."""

    ref: str
    provider: str
    model: str
    task: str | None
    request: GenerationRequest
    idempotency_key: str
    provider_id: str | None
    state: LedgerState
    job: Job | None
    cost: float | None
    error: str | None
    created_at: float
    updated_at: float
    lease_owner: str | None
    lease_until: float | None
    version: int
    #: when the submit's first request went out; None: never sent (safe to send from reconcile)
    sent_at: float | None = None

    @property
    def done(self) -> bool:
        return self.state.is_terminal

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view for operators; credential-like values are masked."""
        request = redact_json(json.loads(self.request.model_dump_json()))
        job = redact_json(json.loads(self.job.model_dump_json())) if self.job is not None else None
        return {
            "ref": self.ref, "provider": self.provider, "model": self.model, "task": self.task,
            "state": self.state.value, "provider_id": self.provider_id, "idempotency_key": self.idempotency_key,
            "cost": self.cost, "error": self.error, "created_at": self.created_at, "updated_at": self.updated_at,
            "lease_owner": self.lease_owner, "lease_until": self.lease_until, "version": self.version,
            "sent_at": self.sent_at,
            "request": request, "job": job,
        }

    def __repr__(self) -> str:
        return (f"LedgerEntry(ref={self.ref!r}, provider={self.provider!r}, model={self.model!r}, "
                f"state={self.state.value!r}, provider_id={self.provider_id!r})")


class ApplyOutcome(str, Enum):
    """What ``Ledger.apply`` did: moved the job forward, ignored a repeat or an older
    state, or found no job with that provider id."""

    APPLIED = "applied"
    STALE = "stale"
    UNKNOWN = "unknown"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def uncertain_message(entry: LedgerEntry, error: str | None = None) -> str:
    """What an operator needs to resolve an uncertain submit."""
    error = error or entry.error
    earlier = f" The submit failed with: {error}." if error else ""
    return (f"The submit of {entry.provider}/{entry.model} at {_iso(entry.created_at)} got no reply naming a job; "
            f"{entry.provider} has no idempotency keys, so genwire will not send it again.{earlier} "
            f"Look for a job created around then in the provider's dashboard or your callback logs, then run "
            f"`genwire jobs attach {entry.ref} JOB_ID`, or `genwire jobs abandon {entry.ref}` if none was created.")
