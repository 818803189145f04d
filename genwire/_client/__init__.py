"""``Client`` / ``AsyncClient`` internals: the shared core, option checks and the async driver
(the sync one is ``genwire.client``). May import every layer below (``_util`` up to ``ledger``
and ``_transport``); only the faces (``client``, ``asgi``, ``cli``, ``testing``) import it."""

__all__: list[str] = []
