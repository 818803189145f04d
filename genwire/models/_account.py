"""What a provider says about an account rather than a job: its balance (``Account``),
a price quote (``Estimate``) and its request budget (``RateLimit``).

Kept apart from ``_job`` (``genwire.models`` re-exports them lazily) so a process that only
submits and polls never builds these classes. No ``from __future__ import annotations``:
pydantic reads real annotation objects faster than it evaluates strings.
"""

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from ._job import _FROZEN, Cost, InputWarning

if TYPE_CHECKING:
    from pydantic import JsonValue
else:
    JsonValue = Any  # as in genwire.models

__all__ = ["Account", "Estimate", "RateLimit"]


class Estimate(Cost):
    """What a request would cost, and the warnings the provider raised about its input.

    A ``Cost`` (``credits``, ``source``) with ``warnings`` added, so code written
    when ``estimate()`` returned a plain ``Cost`` keeps working.
    """

    warnings: tuple[InputWarning, ...] = ()

    @property
    def cost(self) -> Cost:
        return Cost(credits=self.credits, source=self.source)


class RateLimit(BaseModel):
    """A provider's ``RateLimit-*`` headers: requests allowed, left, and seconds until the window resets."""

    model_config = _FROZEN

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None


class Account(BaseModel):
    """A provider account as its API reports it: the balance in credits and recent usage."""

    model_config = _FROZEN

    provider: str
    credits: float
    account_id: str | None = None
    #: the ``balance`` object as given (``{"credits": ...}``)
    balance: dict[str, JsonValue] = Field(default_factory=dict)
    #: usage over the last 30 days as given (e.g. ``requests``, ``credits_spent``)
    usage_30d: dict[str, JsonValue] = Field(default_factory=dict)
    raw: JsonValue = None
