"""The drive loop ``Client`` and ``AsyncClient`` share: everything but the I/O. A driver runs
``steps(flow)`` and executes only what it yields (``Send``, ``Sleep``, ``Notify``, ``Record``)."""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any, TypeVar

from .._policy.flows import Flow, Notify, Pace, Record, Send, Sleep
from .._policy.ratelimit import RateLimits

__all__ = ["IO", "Failed", "steps"]

T = TypeVar("T")

logger = logging.getLogger("genwire")

#: the effects a driver executes itself (I/O): everything else is answered in ``steps``
IO = Send | Sleep | Notify | Record


class Failed:
    """A send (or a ``Record``) that failed, as a driver answers it: ``steps`` throws the error
    into the flow outside any except block (nothing chains onto it), so an error after a job
    was accepted carries the job."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


def steps(flow: Flow[T], rate_limits: RateLimits) -> Generator[IO, Any, T]:
    """The drive loop of both drivers, but for the I/O: yields each ``Send`` (answer: the reply
    or a ``Failed``), ``Record`` (its value or a ``Failed``), ``Sleep`` and ``Notify`` (answer:
    None) for the driver to execute, answers ``Pace`` itself (with ``rate_limits``), and closes
    ``flow`` however the run ends (an error, a cancelled task)."""
    try:
        effect = next(flow)
        while True:
            if isinstance(effect, Pace):
                effect = flow.send(rate_limits)
                continue
            if isinstance(effect, Sleep):
                logger.debug("waiting %.2fs", effect.seconds)
            elif isinstance(effect, Notify):
                logger.debug("%s job %s: %s", effect.job.provider, effect.job.id, effect.job.status.value)
            elif not isinstance(effect, (Send, Record)):
                raise TypeError(f"a flow yielded {effect!r}, which is not an effect")
            answer = yield effect
            effect = flow.throw(answer.error) if isinstance(answer, Failed) else flow.send(answer)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        flow.close()
