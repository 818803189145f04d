"""Provider adapters: pure translation between genwire objects and each wire format.

``PROVIDERS`` is the one registration of every provider: a row names its adapter class,
its API's base URL, the environment variables holding its key, its sandbox key prefix and
its fake (loaded by ``genwire.testing``). Everything else genwire knows of a provider is on
its adapter class (idempotency, webhook scheme, sync wait, live catalog source) or in its
catalog data. Adding a provider is: an adapter module here, ``catalog/<provider>/``, a fake in
``genwire/testing/_fake_<provider>.py``, and one row in ``PROVIDERS``.

``get_adapter(name)`` looks one up in ``ADAPTERS``, a table keyed by provider. A
provider's module is imported when the table is first asked for its adapter, so a
process that talks to Clipia only never loads the Cliprise adapter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import UnknownNameError
from .base import Adapter, WireRequest, WireResponse

if TYPE_CHECKING:
    from ..catalog import Catalog
    from .clipia import ClipiaAdapter
    from .cliprise import ClipriseAdapter
    from .replicate import ReplicateAdapter

__all__ = ["ADAPTERS", "PROVIDERS", "Adapter", "ClipiaAdapter", "ClipriseAdapter", "ProviderEntry", "ReplicateAdapter",
           "WireRequest", "WireResponse", "get_adapter", "load_class"]


class ProviderEntry(NamedTuple):
    """One provider's registration: what genwire needs of it before its adapter module loads
    (a client reads every provider's key variables and base URL when it is made)."""

    #: ``module:Class`` of its adapter, the module relative to ``genwire.adapters`` (or absolute)
    adapter: str
    #: where its API lives (``Client(base_urls=...)`` overrides it)
    base_url: str
    #: the environment variables holding its key, read in this order (the first is documented)
    key_env: tuple[str, ...]
    #: keys with this prefix run in its sandbox: fixed results, cost shown but not charged
    sandbox_key_prefix: str | None = None
    #: ``module:Class`` of its fake, the module relative to ``genwire.testing`` (or absolute; loaded there)
    fake: str | None = None


_ROWS: dict[str, ProviderEntry] = {
    "clipia": ProviderEntry(".clipia:ClipiaAdapter", "https://api.clipia.ai", ("CLIPIA_KEY", "CLIPIA_API_KEY"),
                            sandbox_key_prefix="clipia_test_", fake="._fake_clipia:FakeClipia"),
    "cliprise": ProviderEntry(".cliprise:ClipriseAdapter", "https://business.api.cliprise.app/app/cliprise",
                              ("CLIPRISE_KEY",), fake="._fake_cliprise:FakeCliprise"),
    "replicate": ProviderEntry(".replicate:ReplicateAdapter", "https://api.replicate.com", ("REPLICATE_API_TOKEN",),
                               fake="._fake_replicate:FakeReplicate"),
}
#: every provider genwire drives, by name: the one place a provider is registered (read-only;
#: tests/fourth_provider.py shows a row added before the rest of genwire loads)
PROVIDERS: Mapping[str, ProviderEntry] = MappingProxyType(_ROWS)


def load_class(where: str, package: str) -> Any:
    """The class a registry entry names (``module:Class``, the module relative to ``package``)."""
    module, _, name = where.partition(":")
    return getattr(import_module(module, package), name)


class _AdapterTable(Mapping[str, "type[Adapter]"]):
    """The adapter classes by provider, each imported on first lookup."""

    def __init__(self) -> None:
        self._loaded: dict[str, type[Adapter]] = {}

    def __getitem__(self, provider: str) -> type[Adapter]:
        cls = self._loaded.get(provider)
        if cls is None:
            cls = self._loaded[provider] = load_class(PROVIDERS[provider].adapter, __name__)
        return cls

    def __iter__(self) -> Iterator[str]:
        return iter(PROVIDERS)

    def __len__(self) -> int:
        return len(PROVIDERS)

    def __contains__(self, provider: object) -> bool:
        return provider in PROVIDERS

    def __repr__(self) -> str:
        return f"ADAPTERS({', '.join(PROVIDERS)})"


ADAPTERS: Mapping[str, type[Adapter]] = _AdapterTable()


def get_adapter(provider: str, catalog: Catalog | None = None) -> Adapter:
    """The adapter for ``provider``, reading model facts from ``catalog`` (default: bundled)."""
    try:
        cls = ADAPTERS[provider]
    except KeyError:
        raise UnknownNameError(f"no adapter for provider {provider!r}; known: {', '.join(ADAPTERS)}",
                            provider=provider, code="unknown_provider") from None
    return cls(catalog)  # type: ignore[call-arg]


def __getattr__(name: str) -> Any:
    for provider, entry in PROVIDERS.items():
        if entry.adapter.partition(":")[2] == name:
            cls = globals()[name] = ADAPTERS[provider]
            return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
