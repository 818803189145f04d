"""A logging filter that removes the clients' secrets from every record genwire causes.

httpcore logs each response header at DEBUG and httpx logs each request URL at
INFO; a provider that echoes the key in a header (or a redirect that carries it)
would put it in the log. Every ``Client`` registers its keys here; the filter sits
on genwire's and httpx/httpcore's loggers and rewrites a record whose message
holds one (in any spelling ``secret_forms`` knows) before any handler sees it.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable

from .redact import _literal_forms, _redact

__all__ = ["LOGGER_NAMES", "REDACTING_FILTER", "RedactingFilter"]

#: loggers whose records a client's requests cause (a filter applies to its own logger only)
LOGGER_NAMES = ("genwire", "httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2",
                "httpcore.proxy", "httpcore.socks")


class RedactingFilter(logging.Filter):
    """Rewrites records that hold a registered secret; never drops a record."""

    def __init__(self) -> None:
        super().__init__()
        self._owners: dict[int, tuple[str, ...]] = {}
        self._forms: list[str] = []
        # reentrant, and the tables are replaced rather than changed: ``_forget`` runs from
        # the garbage collector, possibly inside ``register`` on the same thread
        self._lock = threading.RLock()
        self._installed = False

    def register(self, owner: object, secrets: Iterable[str]) -> None:
        """Redact ``secrets`` while ``owner`` (a client) lives."""
        found = tuple(s for s in secrets if isinstance(s, str) and s)
        if not found:
            return
        with self._lock:
            self._set({**self._owners, id(owner): found})
            if not self._installed:
                self._install()
        weakref.finalize(owner, self._forget, id(owner))

    def _forget(self, ident: int) -> None:
        with self._lock:
            if ident in self._owners:
                self._set({k: v for k, v in self._owners.items() if k != ident})
                if not self._owners and self._installed:
                    self._uninstall()

    def _set(self, owners: dict[int, tuple[str, ...]]) -> None:
        self._owners = owners
        self._forms = _literal_forms(s for secrets in owners.values() for s in secrets)

    def _install(self) -> None:
        names = set(LOGGER_NAMES) | {n for n in logging.Logger.manager.loggerDict if n.startswith("genwire.")}
        for name in names:
            logger = logging.getLogger(name)
            if self not in logger.filters:
                logger.addFilter(self)
        self._installed = True

    def _uninstall(self) -> None:
        # no client with secrets is left (the last was collected, or the interpreter is exiting):
        # off the loggers, so logging no longer holds genwire's modules alive through this filter
        for logger in list(logging.Logger.manager.loggerDict.values()):
            if isinstance(logger, logging.Logger) and self in logger.filters:
                logger.removeFilter(self)
        self._installed = False

    def filter(self, record: logging.LogRecord) -> bool:
        forms = self._forms
        if not forms:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's to report
            return True
        clean = _redact(message, forms)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_text:
            record.exc_text = _redact(record.exc_text, forms)
        return True


REDACTING_FILTER = RedactingFilter()
