"""Provider adapters: pure translation between genwire objects and each wire format.

``get_adapter(name)`` looks one up in ``ADAPTERS``, a table keyed by provider. A
provider's module is imported when the table is first asked for its adapter, so a
process that talks to Clipia only never loads the Cliprise adapter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any

from ..errors import UnknownNameError
from .base import Adapter, WireRequest, WireResponse

if TYPE_CHECKING:
    from ..catalog import Catalog
    from .clipia import ClipiaAdapter
    from .cliprise import ClipriseAdapter
    from .replicate import ReplicateAdapter

__all__ = ["ADAPTERS", "Adapter", "ClipiaAdapter", "ClipriseAdapter", "ReplicateAdapter", "WireRequest", "WireResponse",
           "get_adapter"]

#: provider -> (module, class) of its adapter
_WHERE: dict[str, tuple[str, str]] = {
    "clipia": (".clipia", "ClipiaAdapter"),
    "cliprise": (".cliprise", "ClipriseAdapter"),
    "replicate": (".replicate", "ReplicateAdapter"),
}


class _AdapterTable(Mapping[str, "type[Adapter]"]):
    """The adapter classes by provider, each imported on first lookup."""

    def __init__(self) -> None:
        self._loaded: dict[str, type[Adapter]] = {}

    def __getitem__(self, provider: str) -> type[Adapter]:
        cls = self._loaded.get(provider)
        if cls is None:
            module, name = _WHERE[provider]
            cls = self._loaded[provider] = getattr(import_module(module, __name__), name)
        return cls

    def __iter__(self) -> Iterator[str]:
        return iter(_WHERE)

    def __len__(self) -> int:
        return len(_WHERE)

    def __contains__(self, provider: object) -> bool:
        return provider in _WHERE

    def __repr__(self) -> str:
        return f"ADAPTERS({', '.join(_WHERE)})"


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
    for provider, (_, cls_name) in _WHERE.items():
        if cls_name == name:
            cls = globals()[name] = ADAPTERS[provider]
            return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
