"""Where the clients meet the ledger: wrappers around the shared flows, nothing more.

The flows in ``_policy`` still decide every retry and what is uncertain; these
wrappers pass their effects through untouched and write down what happened:
the intent before the first request goes out, the provider after a family
submit moves on, the outcome after the flow ends, and every status the flow
reports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._policy.flows import Effect, Flow, Notify, Send, SubmitPlan
from ..errors import GenwireError, LedgerError, MalformedResponseError, SubmissionUncertainError
from ..models import GenerationRequest, Job
from ._entries import uncertain_message

if TYPE_CHECKING:
    from ._ledger import Ledger

__all__ = ["TakenOver", "fence", "fenced", "recorded_submit", "recorded_updates"]

T = TypeVar("T")


def _relay(inner: Flow[T], seen: Callable[[Effect], None]) -> Flow[T]:
    """``yield from inner``, calling ``seen`` on each effect before it goes out."""
    try:
        effect = next(inner)
        while True:
            seen(effect)
            try:
                reply = yield effect
            except GeneratorExit:
                inner.close()
                raise
            except BaseException as exc:
                effect = inner.throw(exc)
                continue
            effect = inner.send(reply)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def _guard(job: Job | None, what: str, call: Callable[[], Any]) -> Any:
    """Run a ledger write; a database failure becomes ``LedgerError`` carrying the job."""
    try:
        return call()
    except GenwireError:
        raise
    except Exception as exc:
        raise LedgerError(f"the ledger could not record {what}: {type(exc).__name__}: {exc}",
                          code="ledger_write_failed", job=job) from exc


class TakenOver(LedgerError):
    """Another worker holds the entry now (its lease ran out and was taken over): this one must
    not send, and records nothing."""



def fence(ledger: Ledger, ref: str, replay_safe: Callable[[str], bool]) -> Callable[[Effect], None]:
    """An effect watcher that records the first request going out to a provider without
    idempotency, and stops the flow (``LedgerError``) if this process no longer holds the
    entry: nothing is then sent twice for one entry. (A provider that deduplicates on the
    idempotency key needs no mark: sending again is always safe.)"""
    sent = [False]

    def seen(effect: Effect) -> None:
        if isinstance(effect, Send) and not sent[0] and not replay_safe(effect.provider):
            if not _guard(None, "that the submit is going out", lambda: ledger.mark_sent(ref)):
                raise TakenOver(f"ledger entry {ref} was taken over by reconcile before it was sent; not sending",
                                 code="ledger_taken_over")
            sent[0] = True

    return seen


def fenced(ledger: Ledger, ref: str, inner: Flow[T], replay_safe: Callable[[str], bool]) -> Flow[T]:
    """``inner`` with its first request recorded first (see ``fence``)."""
    return (yield from _relay(inner, fence(ledger, ref, replay_safe)))


def recorded_submit(ledger: Ledger, request: GenerationRequest, idempotency_key: str,
                    plans: Sequence[SubmitPlan], inner: Flow[Job]) -> Flow[Job]:
    """The submit flow with its intent recorded before the wire and its outcome after."""
    first = plans[0]
    ref: str = _guard(None, "the submit intent", lambda: ledger.record_intent(
        request, provider=first.adapter.name, model=first.resolved.spec.id, task=first.resolved.task.name,
        idempotency_key=idempotency_key))
    by_provider = {plan.adapter.name: plan for plan in plans}
    current = [first.adapter.name]
    going_out = fence(ledger, ref, lambda p: p in by_provider and by_provider[p].adapter.submit_replay_safe)

    def seen(effect: Effect) -> None:
        going_out(effect)
        if isinstance(effect, Send) and effect.provider != current[0] and effect.provider in by_provider:
            plan = by_provider[effect.provider]
            current[0] = effect.provider
            if not _guard(None, "the provider a family submit moved on to", lambda: ledger.retarget(
                    ref, provider=plan.adapter.name, model=plan.resolved.spec.id, task=plan.resolved.task.name)):
                raise TakenOver(f"ledger entry {ref} was taken over by reconcile; not moving on to "
                                 f"{plan.adapter.name}", code="ledger_taken_over")

    try:
        job = yield from _relay(inner, seen)
    except TakenOver:
        raise
    except GenwireError as err:
        plan = by_provider.get(err.provider or current[0], by_provider[current[0]])
        text = str(err)
        if not isinstance(err, (SubmissionUncertainError, MalformedResponseError)):
            _guard(None, "the refused submit", lambda: ledger.record_rejected(ref, text))
        elif plan.adapter.submit_replay_safe:  # reconcile resubmits it with the same key
            _guard(None, "the uncertain submit", lambda: ledger.note_error(ref, text))
        else:
            entry = ledger.get(ref)
            message = uncertain_message(entry, text) if entry is not None else text
            _guard(None, "the uncertain submit", lambda: ledger.record_uncertain(ref, message))
        raise
    _guard(job, f"accepted job {job.id}", lambda: ledger.record_accepted(ref, job))
    return job


def recorded_updates(ledger: Ledger, inner: Flow[Job], source: str) -> Flow[Job]:
    """A poll or wait flow whose every reported status is applied to the ledger."""
    last: list[Job | None] = [None]

    def seen(effect: Effect) -> None:
        if isinstance(effect, Notify):
            job = effect.job
            _guard(job, f"the status of job {job.id}", lambda: ledger.apply(job, source=source))
            last[0] = job

    try:
        job = yield from _relay(inner, seen)
    except GenwireError as err:
        failed = err.job
        if failed is not None and failed.done and failed != last[0]:
            _guard(failed, f"the status of job {failed.id}", lambda: ledger.apply(failed, source=source))
        raise
    if job != last[0]:
        _guard(job, f"the status of job {job.id}", lambda: ledger.apply(job, source=source))
    return job
