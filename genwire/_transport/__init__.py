"""httpx plumbing: request building (``requests``), sockets (``sockets``), the fan-out gate
(``gate``), key-carrying transports and downloads (``http``). May import ``_util``, ``errors``
and ``_policy``."""

__all__: list[str] = []
