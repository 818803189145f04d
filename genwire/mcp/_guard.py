"""The spending guard: which models an agent may use and how many credits it may spend.

Checked before anything goes on the wire, against the job's estimate; a refusal says
why (``SpendingRefused``, code ``spending_guard``, ``reason`` one of ``not_allowed``,
``unpriced``, ``over_job_limit``, ``over_budget``). Pure bookkeeping: the face asks for
the estimate and tells the guard what each accepted job cost.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..errors import ConfigurationError, GenwireError

__all__ = ["Guard", "SpendingRefused", "parse_allow"]


class SpendingRefused(GenwireError):
    """The spending guard refused a generate call before anything was sent; ``reason`` says which rule."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, code="spending_guard")
        self.reason = reason


@dataclass
class Guard:
    """``allow``: ``provider``, ``provider/model``, ``provider/*`` or a family name (empty: anything).
    ``max_per_job`` and ``max_total`` (credits, for the server's lifetime) are checked against the
    estimate; a job whose cost cannot be estimated is refused while either is set, unless
    ``allow_unpriced``."""

    allow: tuple[str, ...] = ()
    max_per_job: float | None = None
    max_total: float | None = None
    allow_unpriced: bool = False
    #: credits counted per accepted job: the estimate until the job reports its cost
    _charges: dict[tuple[str, str], float] = field(default_factory=dict, repr=False)
    _held: float = field(default=0.0, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        problems = [f"{name} must be a number >= 0, not {value!r}"
                    for name, value in (("max_per_job", self.max_per_job), ("max_total", self.max_total))
                    if value is not None and not value >= 0]
        problems += [f"allow entry {a!r} is empty" for a in self.allow if not a.strip("/* ")]
        if problems:
            raise ConfigurationError("; ".join(problems), code="invalid_guard")

    @property
    def limited(self) -> bool:
        """Whether any credit limit is set (then every job needs an estimate first)."""
        return self.max_per_job is not None or self.max_total is not None

    @property
    def spent(self) -> float:
        """Credits counted so far: accepted jobs, and submits on the wire."""
        with self._lock:
            return sum(self._charges.values()) + self._held

    def allows(self, provider: str, model: str, family: str | None) -> bool:
        if not self.allow:
            return True
        return any(a in (provider, f"{provider}/{model}", f"{provider}/*") or (family is not None and a == family)
                   for a in self.allow)

    def check_allowed(self, candidates: Iterable[tuple[str, str, str | None]]) -> None:
        """Refuse unless every model the call may run on is allowed."""
        refused = [f"{p}/{m}" for p, m, f in candidates if not self.allows(p, m, f)]
        if refused:
            raise SpendingRefused(f"the spending guard does not allow {', '.join(refused)} (allowed: "
                                  f"{', '.join(self.allow)}); name an allowed provider/model", reason="not_allowed")

    def reserve(self, credits: float | None, what: str) -> float:
        """Hold ``credits`` for a submit about to go out, or refuse; returns what was held."""
        if not self.limited:
            return 0.0
        if credits is None:
            if not self.allow_unpriced:
                raise SpendingRefused(f"the cost of {what} cannot be estimated (no provider quote, no catalog "
                                      "price) and the spending guard refuses jobs of unknown cost",
                                      reason="unpriced")
            credits = 0.0
        if self.max_per_job is not None and credits > self.max_per_job:
            raise SpendingRefused(f"{what} is estimated at {credits:g} credits, over the limit of "
                                  f"{self.max_per_job:g} per job", reason="over_job_limit")
        with self._lock:
            spent = sum(self._charges.values()) + self._held
            if self.max_total is not None and spent + credits > self.max_total:
                raise SpendingRefused(f"{what} is estimated at {credits:g} credits; {spent:g} of this server's "
                                      f"{self.max_total:g} are spent, {max(self.max_total - spent, 0):g} left",
                                      reason="over_budget")
            self._held += credits
        return credits

    def release(self, held: float) -> None:
        """The submit certainly started no job: give back what ``reserve`` held."""
        with self._lock:
            self._held = max(self._held - held, 0.0)

    def accepted(self, job: tuple[str, str], held: float) -> None:
        """The provider accepted the job: what was held is now its charge."""
        with self._lock:
            self._held = max(self._held - held, 0.0)
            self._charges.setdefault(job, held)

    def settle(self, job: tuple[str, str], credits: float | None) -> None:
        """The job reported what it cost: count that instead of the estimate."""
        if credits is None:
            return
        with self._lock:
            if job in self._charges:
                self._charges[job] = credits


def parse_allow(values: Sequence[str]) -> tuple[str, ...]:
    """``--allow a,b --allow c`` as one tuple."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())
