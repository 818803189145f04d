"""``genwire run``, ``genwire status``, ``genwire cancel`` and ``genwire balance``: the client from the shell.

Keys come from the environment (``CLIPIA_KEY``, ``CLIPRISE_KEY``), never from the
command line (process lists and shell histories show arguments). Base URLs come from
``--base-url PROVIDER=URL`` or ``GENWIRE_BASE_URL_<PROVIDER>``, so the commands can be
pointed at ``genwire fake-server``.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from ._main import CommandError, add_catalog_option, chosen_catalog, emit_json, read_input, register, resume_hint

if TYPE_CHECKING:
    from ..client import Client
    from ..ledger import Ledger
    from ..models import Job

__all__ = ["BASE_URL_ENV_PREFIX", "Progress", "base_urls_of", "connection_options"]

#: ``GENWIRE_BASE_URL_CLIPIA=http://127.0.0.1:8000/clipia`` points the commands at another server
BASE_URL_ENV_PREFIX = "GENWIRE_BASE_URL_"


def _providers() -> list[str]:
    from ..adapters import ADAPTERS

    return sorted(ADAPTERS)


def connection_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base-url", action="append", default=[], metavar="PROVIDER=URL",
                   help=f"send PROVIDER's requests to URL (repeatable; also {BASE_URL_ENV_PREFIX}<PROVIDER>)")
    p.add_argument("--request-timeout", type=float, default=60.0, metavar="SECONDS",
                   help="timeout of each HTTP request (default 60)")
    add_catalog_option(p)


def _wait_options(p: argparse.ArgumentParser, default_wait: bool) -> None:
    p.add_argument("--wait", action=argparse.BooleanOptionalAction, default=default_wait,
                   help=f"follow the job until it ends (default: {'--wait' if default_wait else '--no-wait'})")
    p.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                   help="give up waiting after SECONDS (default 600); the job keeps running at the provider")
    p.add_argument("--poll-interval", type=float, default=1.0, metavar="SECONDS",
                   help="first pause between status polls; it grows to 15 s (default 1)")


def base_urls_of(args: argparse.Namespace) -> dict[str, str]:
    known = _providers()
    urls = {p: os.environ[BASE_URL_ENV_PREFIX + p.upper()] for p in known
            if os.environ.get(BASE_URL_ENV_PREFIX + p.upper())}
    for item in args.base_url:
        provider, eq, url = item.partition("=")
        if not eq or not url:
            raise CommandError(f"--base-url takes PROVIDER=URL, got {item!r}")
        if provider not in known:
            raise CommandError(f"--base-url: unknown provider {provider!r}; known: {', '.join(known)}")
        urls[provider] = url
    return urls


def _client(args: argparse.Namespace, ledger: Ledger | None = None) -> Client:
    from .._policy.retry import PollPolicy
    from ..client import Client

    if args.request_timeout <= 0:
        raise CommandError("--request-timeout must be > 0")
    poll = None
    if getattr(args, "poll_interval", None) is not None:
        if args.poll_interval <= 0:
            raise CommandError("--poll-interval must be > 0")
        poll = PollPolicy(initial_interval=args.poll_interval, max_interval=max(15.0, args.poll_interval))
    return Client(base_urls=base_urls_of(args), timeout=args.request_timeout, poll=poll, catalog=chosen_catalog(args),
                  ledger=ledger)


def _provider(name: str) -> str:
    if name not in _providers():
        raise CommandError(f"unknown provider {name!r}; known: {', '.join(_providers())}")
    return name


class Progress:
    """Job updates for a person: one live line on a terminal (status, progress, elapsed),
    plain lines when the output is a file or a pipe (one per change)."""

    def __init__(self, out: TextIO, *, live: bool) -> None:
        self.out = out
        self.live = live
        self.started = time.monotonic()
        self._job: Job | None = None
        self._last: tuple[object, ...] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.live:
            self._ticker = threading.Thread(target=self._tick, name="genwire-progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self.live and self._job is not None:
            with self._lock:
                self.out.write("\n")
                self.out.flush()

    def line(self, job: Job) -> str:
        parts = [f"{job.provider}/{job.model or '?'}", job.id, job.status.value]
        if job.progress is not None:
            parts.append(f"{job.progress:.0f}%")
        if job.queue_position is not None and not job.done:
            parts.append(f"queue position {job.queue_position}")
        parts.append(f"{time.monotonic() - self.started:.1f}s")
        return " ".join(parts)

    def update(self, job: Job) -> None:
        with self._lock:
            self._job = job
            if self.live:
                self._draw(job)
                return
            state = (job.status, job.progress, job.queue_position)
            if state != self._last:
                self._last = state
                self.out.write(self.line(job) + "\n")
                self.out.flush()

    def _draw(self, job: Job) -> None:
        self.out.write("\r\x1b[K" + self.line(job))
        self.out.flush()

    def _tick(self) -> None:
        while not self._stop.wait(0.25):
            with self._lock:
                if self._job is not None:
                    self._draw(self._job)


def _isatty(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def _report(job: Job, args: argparse.Namespace, out: TextIO) -> int:
    if args.json:
        emit_json(job.model_dump(mode="json"), out)
        return 0
    for media in job.outputs:
        size = f" {media.width}x{media.height}" if media.width and media.height else ""
        out.write(f"{media.kind}{size}: {media.url}\n")
    if job.cost is not None:
        out.write(f"cost: {job.cost.credits:g} credits ({job.cost.source})\n")
    if job.error is not None:
        out.write(f"error: {job.error.message}\n")
    for warning in job.warnings:
        out.write(f"warning: {warning}\n")
    return 0


def _follow(client: Client, job: Job, args: argparse.Namespace, out: TextIO) -> Job:
    """Wait for ``job`` showing progress; on Ctrl-C say how to pick it up again."""
    progress = Progress(out, live=_isatty(out)) if not args.json else None
    try:
        if progress is None:
            return client.wait(job, timeout=args.timeout)
        with progress:
            progress.update(job)
            return client.wait(job, timeout=args.timeout, on_update=progress.update)
    except KeyboardInterrupt:
        print(f"genwire: stopped waiting; {resume_hint(job)}", file=sys.stderr)
        raise


# -- run -------------------------------------------------------------------------------------------

def _configure_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", metavar="PROVIDER/MODEL",
                   help="the model, e.g. cliprise/veo-3-fast (or a family name offered by several providers)")
    p.add_argument("--input", required=True, metavar="JSON",
                   help="the input: a JSON object, @FILE, or - for standard input")
    p.add_argument("--task", help="the task (inferred from the input when left out)")
    p.add_argument("--webhook-url", metavar="URL", help="the provider calls this URL when the job ends")
    p.add_argument("--idempotency-key", metavar="KEY", help="submitting again with the same key gives the same job "
                   "(Clipia)")
    p.add_argument("--ledger", metavar="URL", help="record the submit in this job ledger (sqlite:///jobs.db, "
                   "postgresql://...), so `genwire jobs reconcile` can follow it even if this command dies")
    p.add_argument("--intent-lease", type=float, default=None, metavar="SECONDS",
                   help="with --ledger: how long reconcile leaves the recorded submit to this command (default 120)")
    _wait_options(p, default_wait=True)
    connection_options(p)


def _open_ledger(args: argparse.Namespace) -> Ledger | None:
    if args.ledger is None:
        if args.intent_lease is not None:
            raise CommandError("--intent-lease needs --ledger URL")
        return None
    if args.intent_lease is not None and not args.intent_lease > 0:
        raise CommandError("--intent-lease must be > 0")
    from ..ledger import open_ledger

    return open_ledger(args.ledger, **({"intent_lease": args.intent_lease} if args.intent_lease else {}))


def _run(args: argparse.Namespace, out: TextIO) -> int:
    data = read_input(args.input)
    if "/" in args.target:
        _provider(args.target.partition("/")[0])
    ledger = _open_ledger(args)
    try:
        return _submit(args, data, out, ledger)
    finally:
        if ledger is not None:
            ledger.close()


def _submit(args: argparse.Namespace, data: dict[str, Any], out: TextIO, ledger: Ledger | None) -> int:
    with _client(args, ledger) as client:
        job = client.submit(args.target, input=data, task=args.task, webhook_url=args.webhook_url,
                            idempotency_key=args.idempotency_key)
        if not args.wait:
            if args.json:
                emit_json(job.model_dump(mode="json"), out)
            else:
                out.write(f"{job.provider}/{job.model} {job.id} {job.status.value}\n")
                out.write(f"follow it with: genwire status {job.provider} {job.id} --wait\n")
            return 0
        return _report(_follow(client, job, args, out), args, out)


# -- status and balance ------------------------------------------------------------------------------

def _configure_status(p: argparse.ArgumentParser) -> None:
    p.add_argument("provider", help=f"the provider ({', '.join(_providers())})")
    p.add_argument("id", help="the provider's job id (as `genwire run --no-wait` printed it)")
    _wait_options(p, default_wait=False)
    connection_options(p)


def _status(args: argparse.Namespace, out: TextIO) -> int:
    provider = _provider(args.provider)
    with _client(args) as client:
        job = client.status(provider, args.id)
        if args.wait and not job.done:
            job = _follow(client, job, args, out)
        elif not args.json:
            out.write(Progress(out, live=False).line(job).rsplit(" ", 1)[0] + "\n")
        return _report(job, args, out)


def _configure_cancel(p: argparse.ArgumentParser) -> None:
    p.add_argument("provider", help=f"the provider ({', '.join(_providers())})")
    p.add_argument("id", help="the provider's job id")
    connection_options(p)


def _cancel(args: argparse.Namespace, out: TextIO) -> int:
    provider = _provider(args.provider)
    with _client(args) as client:
        job = client.cancel(provider, args.id)
    if not args.json:
        out.write(Progress(out, live=False).line(job).rsplit(" ", 1)[0] + "\n")
    return _report(job, args, out)


def _configure_balance(p: argparse.ArgumentParser) -> None:
    p.add_argument("provider", help=f"the provider ({', '.join(_providers())})")
    connection_options(p)


def _balance(args: argparse.Namespace, out: TextIO) -> int:
    provider = _provider(args.provider)
    with _client(args) as client:
        credits = client.balance(provider)
    if args.json:
        emit_json({"provider": provider, "credits": credits}, out)
    else:
        out.write(f"{provider}: {credits:g} credits\n")
    return 0


register("run", help="submit a job and follow it to the end", configure=_configure_run, run=_run)
register("status", help="a job's status by provider and id (--wait to follow it)", configure=_configure_status,
         run=_status)
register("cancel", help="cancel a job by provider and id (providers that can cancel)", configure=_configure_cancel,
         run=_cancel)
register("balance", help="the account's credit balance at a provider", configure=_configure_balance,
         run=_balance)
