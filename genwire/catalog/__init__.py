"""The model catalog (public): load, look up, validate. Inside: the catalog itself (``_catalog``),
the compiler (``_compile``, ``_meta``, ``_lint``, ``_yaml``, ``_json_schema``), input checks
(``_validation``, ``_fastcheck``), value translation (``_translate``) and drafting YAML from
provider docs (``_drafting``, ``_from_clipia``). May import ``_util``, ``models``/``errors``/``specs``.
Importing this package loads only ``_catalog``: the compiler loads on demand."""

from __future__ import annotations

from ._catalog import Catalog, Resolved, bundled_paths

__all__ = ["Catalog", "Resolved", "bundled_paths"]
