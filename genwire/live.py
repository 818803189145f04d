"""Live model catalogs: a provider's published models, compiled like the bundled YAML.

Clipia publishes its catalog at run time (``GET /v1/models``, ``GET /v1/models/:model``), and
Replicate each model's latest version (``GET /v1/models/{owner}/{name}``).
``fetch_flow`` reads it through the shared request policy (``send_flow``: the same
retries as every other call); ``compile_live`` converts each model with the code the
maintainer importer uses (``genwire.catalog._from_clipia``) and compiles it with the catalog
compiler, so a live model is validated exactly like a bundled one. ``LiveCache`` keeps
the fetched JSON on disk with a time to live, so a gateway starts without a round trip
per model. Each provider's source is its adapter's ``live_source`` (``LIVE_SOURCES`` by provider).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._policy.flows import Flow, send_flow
from ._policy.retry import LIVE_CATALOG_TTL
from .adapters import ADAPTERS
from .adapters.base import Adapter, LiveSource
from .errors import CatalogError, UnknownNameError

if TYPE_CHECKING:
    from ._policy.retry import RetryPolicy
    from .catalog import Catalog
    from .specs import ModelSpec

__all__ = ["DEFAULT_TTL", "LIVE_SOURCES", "LiveCache", "LiveCatalog", "LiveSource", "compile_live", "drift",
           "fetch_flow", "live_source", "model_data", "require"]

logger = logging.getLogger("genwire")

#: seconds a cached live model stays fresh
DEFAULT_TTL = LIVE_CATALOG_TTL
CACHE_FORMAT = 1


class _LiveSources(Mapping[str, LiveSource]):
    """The live source of every provider whose adapter has one (``Adapter.live_source``); a
    lookup imports that provider's adapter, a listing every provider's."""

    def __getitem__(self, provider: str) -> LiveSource:
        source = ADAPTERS[provider].live_source if provider in ADAPTERS else None
        if source is None:
            raise KeyError(provider)
        return source

    def __iter__(self) -> Iterator[str]:
        return (p for p in ADAPTERS if ADAPTERS[p].live_source is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, provider: object) -> bool:
        return isinstance(provider, str) and provider in ADAPTERS and ADAPTERS[provider].live_source is not None


#: provider -> how it publishes its catalog (read from the adapters)
LIVE_SOURCES: Mapping[str, LiveSource] = _LiveSources()


def live_source(provider: str) -> LiveSource:
    try:
        return LIVE_SOURCES[provider]
    except KeyError:
        raise UnknownNameError(f"{provider} publishes no live catalog; live: {', '.join(LIVE_SOURCES)}",
                            provider=provider, code="unsupported_operation") from None


def fetch_flow(adapter: Adapter, source: LiveSource, models: Sequence[str] | None, retry: RetryPolicy,
               random: Callable[[], float], *, known: Mapping[str, dict[str, Any]] | None = None,
               listing: Sequence[str] | None = None) -> Flow[tuple[list[str], dict[str, dict[str, Any]]]]:
    """Fetch the models' JSON: ``models``, or every generation model the list names.

    ``known`` (slug -> JSON, e.g. fresh cache entries) and ``listing`` (a fresh list of
    slugs) are not fetched again. Returns (the slugs wanted, the JSON fetched now).
    """
    known = known or {}
    fetched: dict[str, dict[str, Any]] = {}
    if models is not None:
        wanted = list(dict.fromkeys(models))
    elif listing is not None:
        wanted = list(listing)
    else:
        resp = yield from send_flow(adapter, source.build_list(), retry, random)
        wanted = []
        for entry in source.parse_list(resp):
            slug = source.slug(entry)
            if slug is None or slug in wanted:
                continue
            wanted.append(slug)
            if source.complete(entry) and slug not in known:
                fetched[slug] = entry
    for slug in wanted:
        if slug in known or slug in fetched:
            continue
        resp = yield from send_flow(adapter, source.build_get(slug), retry, random)
        fetched[slug] = source.parse_get(resp)
    return wanted, fetched


@dataclass(frozen=True)
class LiveCatalog:
    """The base catalog with the live models laid over it, and what could not be compiled."""

    catalog: Catalog
    specs: tuple[ModelSpec, ...]
    #: one line per live model left out (file ``live:<provider>/<slug>``, field, message)
    problems: tuple[str, ...] = ()


def model_data(provider: str, entry: Mapping[str, Any],
               base: Catalog) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """Catalog model data (and review comments) for one live entry.

    A bundled model with the same id keeps its ``family`` and output ``formats``,
    which the provider does not publish. Raises ``ValueError`` for an entry that
    does not convert.
    """
    data, comments = live_source(provider).to_model_data(entry, base)
    bundled = base.find(provider, data["id"])
    if bundled is not None:
        if bundled.family and "family" not in data:
            data["family"] = bundled.family
        if bundled.output_formats and bundled.output_kind == data["output"]["kind"]:
            data["output"] = {**data["output"], "formats": list(bundled.output_formats)}
    return data, comments


def compile_live(provider: str, entries: Iterable[Mapping[str, Any]], base: Catalog) -> LiveCatalog:
    """Convert and compile live model JSON, then lay it over ``base``.

    Models that do not convert or compile are left out and listed in ``problems``.
    """
    from .catalog._compile import compile_models

    raws: list[tuple[str, Any]] = []
    problems: list[str] = []
    for entry in entries:
        name = f"live:{provider}/{entry.get('slug', '?')}"
        try:
            data, _ = model_data(provider, entry, base)
        except (ValueError, TypeError, KeyError) as exc:
            problems.append(f"{name}: {exc}")
            continue
        raws.append((name, data))
    compiled, found = compile_models(provider, raws, vocabulary=base._index["vocabulary"],
                                     providers=base._index["providers"])
    problems += [str(p) for p in found]
    for line in problems:
        logger.warning("live catalog: left out %s", line)
    catalog = base.overlaid(compiled)
    specs = tuple(catalog.get(provider, m["id"]) for m in compiled.index["models"])
    return LiveCatalog(catalog, specs, tuple(problems))


def require(live: LiveCatalog, models: Sequence[str]) -> LiveCatalog:
    """Raise ``CatalogError`` when a model the caller named explicitly could not be compiled."""
    have = {s.id for s in live.specs}
    missing = [m for m in models if m not in have]
    if missing and live.problems:
        raise CatalogError(f"live model(s) {', '.join(missing)} could not be compiled:\n  "
                           + "\n  ".join(live.problems), model=missing[0])
    return live


class LiveCache:
    """Fetched model JSON on disk: ``<cache_dir>/<provider>.json``, each entry stamped with its fetch time."""

    def __init__(self, cache_dir: str | Path, provider: str, ttl: float = DEFAULT_TTL) -> None:
        self.path = Path(cache_dir) / f"{provider}.json"
        self.ttl = ttl

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) and data.get("format") == CACHE_FORMAT else {}

    def fresh(self, now: float) -> tuple[list[str] | None, dict[str, dict[str, Any]]]:
        """(the cached list of slugs if fresh, the fresh model JSON by slug)."""
        data = self._read()

        def ok(stamp: Any) -> bool:
            return isinstance(stamp, (int, float)) and 0 <= now - stamp < self.ttl

        listing = data.get("list")
        slugs = listing.get("slugs") if isinstance(listing, dict) and ok(listing.get("at")) else None
        models = data.get("models")
        known = {k: v["data"] for k, v in (models if isinstance(models, dict) else {}).items()
                 if isinstance(v, dict) and ok(v.get("at")) and isinstance(v.get("data"), dict)}
        return ([str(s) for s in slugs] if isinstance(slugs, list) else None), known

    def store(self, now: float, fetched: Mapping[str, dict[str, Any]], listing: Sequence[str] | None) -> None:
        """Add what was fetched now (and the list of slugs, when it was fetched); atomic."""
        data = self._read() or {"format": CACHE_FORMAT, "models": {}}
        data.setdefault("models", {})
        for slug, entry in fetched.items():
            data["models"][slug] = {"at": now, "data": entry}
        if listing is not None:
            data["list"] = {"at": now, "slugs": list(listing)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _param_facts(spec: ModelSpec) -> dict[str, dict[str, dict[str, Any]]]:
    keys = ("type", "required", "enum", "default", "minimum", "maximum", "min_length", "max_length",
            "min_items", "max_items")
    return {t.name: {p.wire: {k: p.spec.get(k) for k in keys if p.spec.get(k) is not None}
                     for p in t.params.values()} for t in spec.tasks.values()}


def drift(base: Catalog, live: LiveCatalog) -> list[str]:
    """Differences between the live models and ``base``'s (the bundled catalog), one line each:
    models only one side has, and per task the wire parameters and their type, required flag,
    enum, default and bounds."""
    out: list[str] = []
    provider = live.specs[0].provider if live.specs else None
    live_ids = {s.id for s in live.specs}
    if provider is not None:
        for spec in base.models(provider=provider):
            if spec.id not in live_ids:
                out.append(f"{provider}/{spec.id}: bundled, not in the live catalog")
    for spec in live.specs:
        old = base.find(spec.provider, spec.id)
        if old is None:
            out.append(f"{spec.provider}/{spec.id}: live, not bundled")
            continue
        if (old.price and old.price.credits) != (spec.price and spec.price.credits):
            out.append(f"{spec.provider}/{spec.id}: price bundled {old.price and old.price.credits}, "
                       f"live {spec.price and spec.price.credits}")
        mine, theirs = _param_facts(old), _param_facts(spec)
        for task in sorted(mine.keys() | theirs.keys()):
            where = f"{spec.provider}/{spec.id} {task}"
            if task not in theirs or task not in mine:
                out.append(f"{where}: task {'bundled' if task in mine else 'live'} only")
                continue
            for wire in sorted(mine[task].keys() | theirs[task].keys()):
                a, b = mine[task].get(wire), theirs[task].get(wire)
                if a is None or b is None:
                    out.append(f"{where} {wire}: {'bundled' if b is None else 'live'} only")
                    continue
                for key in sorted(a.keys() | b.keys()):
                    if a.get(key) != b.get(key):
                        out.append(f"{where} {wire}: {key} bundled {a.get(key)!r}, live {b.get(key)!r}")
    return out
