"""Provider adapters: pure translation between genwire objects and each wire format.

``get_adapter(name)`` looks one up in ``ADAPTERS``, a table keyed by provider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import NotFoundError
from .base import Adapter, WireRequest, WireResponse
from .clipia import ClipiaAdapter
from .cliprise import ClipriseAdapter

if TYPE_CHECKING:
    from ..catalog import Catalog

__all__ = ["ADAPTERS", "Adapter", "ClipiaAdapter", "ClipriseAdapter", "WireRequest", "WireResponse", "get_adapter"]

ADAPTERS: dict[str, type[Adapter]] = {
    ClipiaAdapter.name: ClipiaAdapter,
    ClipriseAdapter.name: ClipriseAdapter,
}


def get_adapter(provider: str, catalog: Catalog | None = None) -> Adapter:
    """The adapter for ``provider``, reading model facts from ``catalog`` (default: bundled)."""
    try:
        cls = ADAPTERS[provider]
    except KeyError:
        raise NotFoundError(f"no adapter for provider {provider!r}; known: {', '.join(ADAPTERS)}",
                            provider=provider, code="unknown_provider") from None
    return cls(catalog)  # type: ignore[call-arg]
