"""Webhook deliveries that really go out: the fake server POSTs what the fakes would send.

Every fake records the webhooks its provider would send in ``fake.deliveries`` (a
``DeliveryLog``). ``Courier`` subscribes to those logs and POSTs each delivery to its
URL from a background thread, retrying on a non-2xx answer, a timeout or a refused
connection as the provider does. How often and how long is data, each fake's
``delivery_policy`` (a ``DeliveryPolicy``, given to ``watch``), so nothing here knows any
provider by name.
"""

from __future__ import annotations

import heapq
import ipaddress
import itertools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from ._fake_base import Delivery, DeliveryLog, DeliveryPolicy

__all__ = ["CallbackMode", "Courier", "DeliveryAttempt", "DeliveryLog", "DeliveryPolicy", "Dispatch"]

#: "loopback": POST only to loopback URLs (a receiver under test), record the rest as skipped;
#: "all": POST anywhere; "off": record only
CallbackMode = Literal["loopback", "all", "off"]


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST: when, and the answer's status (``None`` when there was none: ``error`` says why)."""

    at: float
    status: int | None
    error: str | None = None


@dataclass
class Dispatch:
    """One delivery and what became of it: ``pending``, ``delivered``, ``failed`` (every attempt
    refused) or ``skipped`` (not sent: ``reason``)."""

    provider: str
    delivery: Delivery
    state: str = "pending"
    reason: str | None = None
    attempts: list[DeliveryAttempt] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "url": self.delivery.url, "headers": dict(self.delivery.headers),
                "body": self.delivery.body.decode("utf-8", errors="replace"), "state": self.state,
                "reason": self.reason,
                "attempts": [{"at": a.at, "status": a.status, "error": a.error} for a in self.attempts]}


def _loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Courier:
    """POSTs the deliveries of the logs it watches, retrying per ``DELIVERY_POLICIES``.

    ``retry_delay`` replaces every provider's pause before the first retry (providers wait
    seconds; a test need not). ``dispatches`` lists every delivery seen, oldest first.
    """

    def __init__(self, *, mode: CallbackMode = "loopback", retry_delay: float | None = None,
                 policies: Mapping[str, DeliveryPolicy] | None = None) -> None:
        if mode not in ("loopback", "all", "off"):
            raise ValueError("callbacks is 'loopback', 'all' or 'off'")
        if retry_delay is not None and not retry_delay >= 0:
            raise ValueError("retry_delay must be >= 0")
        self.mode = mode
        self.retry_delay = retry_delay
        #: per provider, overriding the policy each fake gives ``watch``
        self.policies = dict(policies or {})
        self.dispatches: list[Dispatch] = []
        self._due: list[tuple[float, int, Dispatch]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._watched: list[tuple[DeliveryLog, Callable[[Delivery], None]]] = []
        self._http: httpx.Client | None = None

    def watch(self, provider: str, log: DeliveryLog, policy: DeliveryPolicy | None = None) -> None:
        """POST every delivery appended to ``log`` from now on, as ``provider`` does (retrying per
        ``policy``, the fake's ``delivery_policy``, unless ``policies`` named one for it)."""
        if policy is not None:
            self.policies.setdefault(provider, policy)

        def subscriber(delivery: Delivery) -> None:
            self._enqueue(provider, delivery)

        log.subscribe(subscriber)
        self._watched.append((log, subscriber))

    def policy(self, provider: str) -> DeliveryPolicy:
        return self.policies.get(provider, DeliveryPolicy())

    def _enqueue(self, provider: str, delivery: Delivery) -> None:
        dispatch = Dispatch(provider, delivery)
        with self._cond:
            self.dispatches.append(dispatch)
            if self.mode == "off":
                dispatch.state, dispatch.reason = "skipped", "callbacks are off"
            elif self.mode == "loopback" and not _loopback(delivery.url):
                dispatch.state, dispatch.reason = "skipped", "not a loopback URL (callbacks='all' sends anywhere)"
            else:
                heapq.heappush(self._due, (time.monotonic(), next(self._seq), dispatch))
                self._cond.notify_all()

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._http = httpx.Client(trust_env=False)
            self._thread = threading.Thread(target=self._run, name="genwire-fake-callbacks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop sending (a delivery still pending stays ``pending``) and stop watching."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._http is not None:
            self._http.close()
            self._http = None
        for log, subscriber in self._watched:
            log.unsubscribe(subscriber)
        self._watched.clear()

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until no delivery is pending (or ``timeout`` seconds); whether none is."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(d.state == "pending" for d in self.dispatches):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    # -- sending ------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (not self._due or self._due[0][0] > time.monotonic()):
                    self._cond.wait(None if not self._due else max(self._due[0][0] - time.monotonic(), 0.0))
                if self._stopping:
                    return
                _, _, dispatch = heapq.heappop(self._due)
            attempt = self._post(dispatch)
            with self._cond:
                dispatch.attempts.append(attempt)
                policy = self.policy(dispatch.provider)
                if attempt.status is not None and 200 <= attempt.status < 300:
                    dispatch.state = "delivered"
                elif len(dispatch.attempts) >= policy.attempts:
                    dispatch.state = "failed"
                    dispatch.reason = f"no 2xx answer in {policy.attempts} attempts"
                else:
                    first = policy.initial_delay if self.retry_delay is None else self.retry_delay
                    pause = first * policy.multiplier ** (len(dispatch.attempts) - 1)
                    heapq.heappush(self._due, (time.monotonic() + pause, next(self._seq), dispatch))
                self._cond.notify_all()

    def _post(self, dispatch: Dispatch) -> DeliveryAttempt:
        assert self._http is not None
        delivery = dispatch.delivery
        at = time.time()
        try:
            resp = self._http.post(delivery.url, content=delivery.body, headers=dict(delivery.headers),
                                   timeout=self.policy(dispatch.provider).timeout)
        except httpx.HTTPError as exc:
            return DeliveryAttempt(at, None, f"{type(exc).__name__}: {exc}")
        return DeliveryAttempt(at, resp.status_code)
