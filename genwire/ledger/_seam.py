"""Where the clients meet the ledger: wrappers around the shared flows, nothing more.

The flows in ``_policy`` still decide every retry and what is uncertain; these
wrappers pass their effects through untouched and write down what happened:
the intent before the first request goes out, the provider after a family
submit moves on, the outcome after the flow ends, and every status the flow
reports. Each write is itself an effect (``Record``): the driver runs it (the
async one in a worker thread, so concurrent tasks' writes share group commits)
and the flow goes on only once it returned, that is once it is committed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._policy.flows import Effect, Flow, Notify, Record, Send, SubmitPlan
from ..errors import GenwireError, LedgerError, MalformedResponseError, SubmissionUncertainError
from ..models import GenerationRequest, Job
from ._entries import uncertain_message

if TYPE_CHECKING:
    from ._ledger import Ledger

__all__ = ["TakenOver", "fence", "fenced", "recorded_submit", "recorded_updates"]

T = TypeVar("T")

#: what a wrapper does before an effect goes out: a flow of its own (its writes), usually empty
Seen = Callable[[Effect], Flow[None]]


def _relay(inner: Flow[T], seen: Seen) -> Flow[T]:
    """``yield from inner``, running ``seen`` on each effect before it goes out."""
    try:
        effect = next(inner)
        while True:
            try:  # a write's error (or TakenOver) ends the flow: it is not the inner flow's to handle
                yield from seen(effect)
            except GeneratorExit:
                inner.close()
                raise
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


def _write(job: Job | None, what: str, call: Callable[[], Any]) -> Flow[Any]:
    """A ledger call as an effect (see ``_guard``); its value."""
    return (yield Record(lambda: _guard(job, what, call)))


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



def fence(ledger: Ledger, ref: str, replay_safe: Callable[[str], bool]) -> Seen:
    """An effect watcher that records the first request going out to a provider without
    idempotency, and stops the flow (``LedgerError``) if this process no longer holds the
    entry: nothing is then sent twice for one entry. (A provider that deduplicates on the
    idempotency key needs no mark: sending again is always safe.)"""
    sent = [False]

    def seen(effect: Effect) -> Flow[None]:
        if isinstance(effect, Send) and not sent[0] and not replay_safe(effect.provider):
            if not (yield from _write(None, "that the submit is going out", lambda: ledger.mark_sent(ref))):
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
    ref: str = yield from _write(None, "the submit intent", lambda: ledger.record_intent(
        request, provider=first.adapter.name, model=first.resolved.spec.id, task=first.resolved.task.name,
        idempotency_key=idempotency_key))
    by_provider = {plan.adapter.name: plan for plan in plans}
    current = [first.adapter.name]
    going_out = fence(ledger, ref, lambda p: p in by_provider and by_provider[p].adapter.submit_replay_safe)

    def seen(effect: Effect) -> Flow[None]:
        yield from going_out(effect)
        if isinstance(effect, Send) and effect.provider != current[0] and effect.provider in by_provider:
            plan = by_provider[effect.provider]
            current[0] = effect.provider
            if not (yield from _write(None, "the provider a family submit moved on to", lambda: ledger.retarget(
                    ref, provider=plan.adapter.name, model=plan.resolved.spec.id, task=plan.resolved.task.name))):
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
            yield from _write(None, "the refused submit", lambda: ledger.record_rejected(ref, text))
        elif plan.adapter.submit_replay_safe:  # reconcile resubmits it with the same key
            yield from _write(None, "the uncertain submit", lambda: ledger.note_error(ref, text))
        else:
            def uncertain() -> bool:
                entry = ledger.get(ref)
                return ledger.record_uncertain(ref, uncertain_message(entry, text) if entry is not None else text)

            yield from _write(None, "the uncertain submit", uncertain)
        raise
    # the provider's id: recorded (durably, see Ledger.record_accepted) before the caller hears of it
    yield from _write(job, f"accepted job {job.id}", lambda: ledger.record_accepted(ref, job))
    return job


def recorded_updates(ledger: Ledger, inner: Flow[Job], source: str) -> Flow[Job]:
    """A poll or wait flow whose every reported status is applied to the ledger."""
    last: list[Job | None] = [None]

    def seen(effect: Effect) -> Flow[None]:
        if isinstance(effect, Notify):
            job = effect.job
            yield from _write(job, f"the status of job {job.id}", lambda: ledger.apply(job, source=source))
            last[0] = job

    try:
        job = yield from _relay(inner, seen)
    except GenwireError as err:
        failed = err.job
        if failed is not None and failed.done and failed != last[0]:
            yield from _write(failed, f"the status of job {failed.id}", lambda: ledger.apply(failed, source=source))
        raise
    if job != last[0]:
        yield from _write(job, f"the status of job {job.id}", lambda: ledger.apply(job, source=source))
    return job
