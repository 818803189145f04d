"""``genwire models --remote PROVIDER`` and ``genwire catalog pull PROVIDER DIR``: the live catalog.

    genwire models --remote clipia [--drift] [--cache-dir D] [--ttl S] [--base-url URL]
    genwire catalog pull clipia DIR [--model SLUG ...] [--cache-dir D] [--ttl S] [--base-url URL]

The key comes from the environment (``CLIPIA_KEY`` or ``CLIPIA_API_KEY``). ``pull`` writes
one ``<slug>.yaml`` per model into DIR for a maintainer to review, then
``python -m tools.compile`` (point DIR at ``catalog/clipia`` to replace the bundled files).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ._main import COMMANDS, CommandError, chosen_catalog, emit_json, register

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["make_client"]


def make_client(**kwargs: Any) -> Client:
    """The client the commands use (tests swap in one wired to the fakes)."""
    from ..client import Client

    return Client(**kwargs)


def _live_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache-dir", help="keep the fetched models here and reuse them while fresh")
    p.add_argument("--ttl", type=float, default=3600.0, help="seconds a cached model stays fresh (default 3600)")
    p.add_argument("--base-url", help="the provider's API base URL (e.g. a `genwire fake-server`)")


def _client(args: argparse.Namespace, provider: str) -> Client:
    from ..live import LIVE_SOURCES

    if provider not in LIVE_SOURCES:
        raise CommandError(f"{provider} publishes no live catalog (live: {', '.join(LIVE_SOURCES)})")
    catalog = chosen_catalog(args)
    return make_client(**({"catalog": catalog} if catalog is not None else {}),
                       **({"base_urls": {provider: args.base_url}} if args.base_url else {}))


# -- models --remote -------------------------------------------------------------------------

_local = COMMANDS["models"]


def _configure_models(p: argparse.ArgumentParser) -> None:
    _local.configure(p)
    p.add_argument("--remote", metavar="PROVIDER", help="list a provider's live catalog instead")
    p.add_argument("--drift", action="store_true", help="with --remote: how the live models differ from the bundled")
    _live_options(p)


def _models(args: argparse.Namespace, out: TextIO) -> int:
    if args.remote is None:
        if args.drift:
            raise CommandError("--drift needs --remote PROVIDER")
        return _local.run(args, out)
    from ..catalog import Catalog
    from ..live import compile_live, drift

    with _client(args, args.remote) as client:
        entries = client.drive(client.live_entries_flow(args.remote, None, args.cache_dir, args.ttl))
        live = compile_live(args.remote, entries, client.catalog)
    specs = [s for s in live.specs if (args.kind is None or s.kind == args.kind)
             and (args.task is None or args.task in s.tasks) and (args.family is None or s.family == args.family)]
    specs.sort(key=lambda s: (s.kind, s.id))
    differences = drift(Catalog.default(), live) if args.drift else []
    if args.json:
        doc: dict[str, Any] = {"models": [
            {"provider": s.provider, "id": s.id, "name": s.name, "kind": s.kind, "family": s.family,
             "tasks": list(s.tasks), "credits": s.price.credits if s.price else None} for s in specs],
            "problems": list(live.problems)}
        if args.drift:
            doc["drift"] = differences
        emit_json(doc, out)
        return 0
    for spec in specs:
        price = f"  {spec.price.credits:g} credits" if spec.price else ""
        out.write(f"{spec.provider:9} {spec.kind:6} {spec.id:28} {', '.join(spec.tasks)}{price}\n")
    out.write(f"{len(specs)} live models, {sum(len(s.tasks) for s in specs)} tasks\n")
    for line in live.problems:
        out.write(f"left out: {line}\n")
    if args.drift:
        out.write(f"drift from the bundled catalog: {len(differences)}\n")
        out.writelines(f"  {d}\n" for d in differences)
    return 0


# -- catalog pull ------------------------------------------------------------------------------

def _configure_catalog(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    pull = sub.add_parser("pull", help="write the provider's live models as catalog YAML for review",
                          description="write the provider's live models as catalog YAML for review")
    pull.add_argument("provider", help="a provider that publishes its catalog")
    pull.add_argument("dir", help="directory for <slug>.yaml (e.g. catalog/<provider>)")
    pull.add_argument("--model", action="append", help="only this slug (repeatable)")
    # SUPPRESS: `genwire catalog --json pull ...` (the parent's flag) must not be reset here
    pull.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable JSON output")
    _live_options(pull)


def _catalog(args: argparse.Namespace, out: TextIO) -> int:
    from ..catalog._drafting import render_yaml
    from ..live import compile_live, model_data

    with _client(args, args.provider) as client:
        entries = client.drive(client.live_entries_flow(args.provider, args.model, args.cache_dir, args.ttl))
        base = client.catalog
    live = compile_live(args.provider, entries, base)  # what would not compile is reported, not written
    good = {s.id for s in live.specs}
    target = Path(args.dir)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in entries:
        try:
            data, comments = model_data(args.provider, entry, base)
        except ValueError:
            continue
        if data["id"] not in good:
            continue
        data.setdefault("notes", []).append(f"live: drafted from GET /v1/models/{data['id']}; review before commit")
        order = ("id", "name", "kind", "family", "output", "price", "notes", "params", "tasks")
        data = {k: data[k] for k in sorted(data, key=lambda k: order.index(k) if k in order else len(order))}
        path = target / f"{data['id']}.yaml"
        path.write_text(render_yaml(data, comments), encoding="utf-8")
        written.append(str(path))
    if args.json:
        emit_json({"written": written, "problems": list(live.problems)}, out)
    else:
        out.writelines(f"wrote {p}\n" for p in written)
        out.writelines(f"left out: {line}\n" for line in live.problems)
    return 1 if live.problems and not written else 0


register("models", help=_local.help, configure=_configure_models, run=_models, replace=True)
register("catalog", help="work with a provider's live catalog (pull: draft YAML for review)",
         configure=_configure_catalog, run=_catalog)
