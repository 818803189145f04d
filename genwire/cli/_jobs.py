"""``genwire jobs``: the ledger for operators.

    genwire jobs list      --db URL [--state S] [--provider P] [--limit N] [--json]
    genwire jobs show REF  --db URL [--json]
    genwire jobs reconcile --db URL [--older-than SECONDS] [--limit N] [--base-url PROVIDER=URL] [--json]
    genwire jobs attach REF JOB_ID --db URL     # an uncertain submit's job, found by an operator
    genwire jobs abandon REF --db URL [--reason TEXT]

``--db`` defaults to ``$GENWIRE_LEDGER_URL``. ``reconcile`` reads API keys from the
usual environment variables and exits 1 when any entry failed (cron then reports it).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from ._main import CommandError, add_catalog_option, chosen_catalog, emit_json, register

if TYPE_CHECKING:
    from ..ledger import Ledger, LedgerEntry

__all__: list[str] = []

LEDGER_ENV = "GENWIRE_LEDGER_URL"

JobsRun = Callable[[argparse.Namespace, "Ledger", TextIO], int]


def _open(args: argparse.Namespace) -> Ledger:
    from ..ledger import open_ledger

    url = args.db or os.environ.get(LEDGER_ENV)
    if not url:
        raise CommandError(f"name the ledger: --db URL or ${LEDGER_ENV} (sqlite:///jobs.db, postgresql://...)")
    return open_ledger(url)


def _age(entry: LedgerEntry) -> str:
    seconds = max(0.0, time.time() - entry.updated_at)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def _list(args: argparse.Namespace, ledger: Ledger, out: TextIO) -> int:
    entries = ledger.entries(state=args.state, provider=args.provider, limit=args.limit)
    if args.json:
        emit_json([e.to_dict() for e in entries], out)
        return 0
    for e in entries:
        out.write(f"{e.ref}  {e.state.value:10} {e.provider}/{e.model:24} {e.provider_id or '-':36} {_age(e):>4}\n")
    if args.state is None and args.provider is None:
        counts = ledger.counts()
        out.write(f"{len(entries)} shown; " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "empty")
                  + "\n")
        return 0
    # a filtered listing totals what matches the filter, not the whole ledger
    matching = len(entries) if args.limit is None else len(ledger.entries(state=args.state, provider=args.provider))
    which = " ".join(part for part in (args.state, args.provider and f"from {args.provider}") if part)
    out.write(f"{len(entries)} shown; {matching} {which} in all\n")
    return 0


def _entry(ledger: Ledger, ref: str) -> LedgerEntry:
    entry = ledger.get(ref)
    if entry is None:
        raise CommandError(f"no job {ref!r} in the ledger")
    return entry


def _show(args: argparse.Namespace, ledger: Ledger, out: TextIO) -> int:
    entry = _entry(ledger, args.ref)
    events = ledger.events(entry.ref)
    view = entry.to_dict()
    if args.json:
        emit_json({**view, "events": [{"state": e.state.value, "source": e.source, "at": e.at} for e in events]}, out)
        return 0
    for name in ("ref", "state", "provider", "model", "task", "provider_id", "idempotency_key", "cost", "error"):
        if view[name] is not None:
            out.write(f"{name:16} {view[name]}\n")
    for e in events:
        out.write(f"  {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(e.at))}Z  {e.state.value:10} ({e.source})\n")
    return 0


def _base_urls(pairs: list[str]) -> dict[str, str]:
    urls = {}
    for pair in pairs:
        provider, sep, url = pair.partition("=")
        if not sep or not provider or not url:
            raise CommandError(f"--base-url takes PROVIDER=URL, got {pair!r}")
        urls[provider] = url
    return urls


def _reconcile(args: argparse.Namespace, ledger: Ledger, out: TextIO) -> int:
    from ..client import Client

    with Client(base_urls=_base_urls(args.base_url), catalog=chosen_catalog(args)) as client:
        report = ledger.reconcile(client, older_than=args.older_than, limit=args.limit, lease=args.lease)
    if args.json:
        emit_json(report.to_dict(), out)
    else:
        for change in report.changes:
            out.write(f"{change.ref}  {change.before} -> {change.after} ({change.action})\n")
        for ref, message in report.errors:
            out.write(f"{ref}  error: {message}\n")
        now = time.time()
        for held in report.leased:
            until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(held.until))
            out.write(f"{held.ref}  {held.state}: leased until {until} (in {max(0.0, held.until - now):.0f} s): "
                      f"{held.why}\n")
        out.write(report.summary() + "\n")
    return 1 if report.errors else 0


def _attach(args: argparse.Namespace, ledger: Ledger, out: TextIO) -> int:
    _entry(ledger, args.ref)
    entry = ledger.attach(args.ref, args.job_id)
    emit_json(entry.to_dict(), out) if args.json else out.write(f"{entry.ref}  {entry.state.value} {args.job_id}\n")
    return 0


def _abandon(args: argparse.Namespace, ledger: Ledger, out: TextIO) -> int:
    _entry(ledger, args.ref)
    entry = ledger.abandon(args.ref, args.reason)
    emit_json(entry.to_dict(), out) if args.json else out.write(f"{entry.ref}  {entry.state.value}\n")
    return 0


def _configure(parser: argparse.ArgumentParser) -> None:
    from ..ledger import LedgerState

    sub = parser.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")

    def action(name: str, help: str, run: JobsRun) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--db", help=f"the ledger URL (default: ${LEDGER_ENV})")
        p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable JSON output")
        p.set_defaults(jobs_run=run)
        return p

    p = action("list", "list ledger entries, oldest first", _list)
    p.add_argument("--state", choices=[s.value for s in LedgerState], help="only entries in this state")
    p.add_argument("--provider", help="only entries of this provider")
    p.add_argument("--limit", type=int, help="at most this many entries")
    p = action("show", "one entry and the transitions applied to it", _show)
    p.add_argument("ref", help="the entry's local reference")
    p = action("reconcile", "poll, resubmit (Clipia) or flag (Cliprise) every open entry not heard of recently",
               _reconcile)
    p.add_argument("--older-than", type=float, default=60.0, metavar="SECONDS",
                   help="only entries not updated for this long (default 60)")
    p.add_argument("--limit", type=int, default=500, help="at most this many entries per run (default 500)")
    p.add_argument("--lease", type=float, default=300.0, metavar="SECONDS",
                   help="how long this run holds each entry it claims (default 300; renewed while it works)")
    p.add_argument("--base-url", action="append", default=[], metavar="PROVIDER=URL",
                   help="talk to this base URL for a provider (repeatable)")
    add_catalog_option(p)
    p = action("attach", "record the provider job an operator found for an uncertain submit", _attach)
    p.add_argument("ref", help="the entry's local reference")
    p.add_argument("job_id", help="the provider's job id")
    p = action("abandon", "close an uncertain submit that created no job", _abandon)
    p.add_argument("ref", help="the entry's local reference")
    p.add_argument("--reason", default="abandoned by an operator", help="why (kept with the entry)")


def _run(args: argparse.Namespace, out: TextIO) -> int:
    with _open(args) as ledger:
        return int(args.jobs_run(args, ledger, out))


register("jobs", help="the durable job ledger: list, show, reconcile, attach, abandon", configure=_configure,
         run=_run)
