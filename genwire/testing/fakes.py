"""Fake providers (Clipia, Cliprise, Replicate), in process, for offline tests.

Each fake is an ``httpx`` handler: plug it into ``httpx.MockTransport`` and
hand that to ``genwire.Client(transport=...)``, ``AsyncClient`` or plain httpx::

    fakes = FakeProviders()
    with fakes.client() as client:          # fake keys, fake base URLs, no network
        job = client.run(GenerationRequest(provider="clipia", model="nano-banana-2",
                                           input={"prompt": "a fox"}))
    fakes.clipia.requests                   # what reached the "server"
    fakes.cliprise.fail_next(429, retry_after=1)

``FakeProviders(catalog=overlay)`` (or a client made with ``fakes.client(catalog=overlay)``)
makes every fake know the overlay's models. ``genwire.testing.server.FakeServer`` serves the
same fakes on a real loopback socket.

The fakes follow the provider references (error shapes, status progressions,
idempotency, key placement) and refuse what the real APIs refuse: a body is
checked against the catalog's wire schema of the model it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from .._client.core import DEFAULT_BASE_URLS
from ..adapters import PROVIDERS, load_class
from ..catalog import Catalog
from ..errors import InvalidInputError
from ..models import GenerationRequest
from ._fake_base import Delivery, FakeJob, FakeProvider, Outcome, RecordedRequest, sample_media, split_path
from ._fake_clipia import DEFAULT_WEBHOOK_SECRET, FakeClipia
from ._fake_cliprise import FakeCliprise
from ._fake_replicate import DEFAULT_REPLICATE_SECRET, FakeReplicate
from ._speed import fast_poll, fast_retry

if TYPE_CHECKING:
    from ..client import AsyncClient, Client

__all__ = [
    "DEFAULT_REPLICATE_SECRET",
    "DEFAULT_WEBHOOK_SECRET",
    "FAKES",
    "Delivery",
    "FakeClipia",
    "FakeCliprise",
    "FakeJob",
    "FakeProvider",
    "FakeProviders",
    "FakeReplicate",
    "Outcome",
    "RecordedRequest",
    "sample_media",
    "sample_request",
]

#: the fake of each provider, made by ``FakeProviders`` when not given one: the one each provider's
#: registration names (``genwire.adapters.PROVIDERS``)
FAKES: dict[str, type[FakeProvider]] = {p: load_class(e.fake, "genwire.testing") for p, e in PROVIDERS.items()
                                        if e.fake}


def sample_request(provider: str, prompt: str = "a red fox", *, catalog: Catalog | None = None,
                   **fields: Any) -> GenerationRequest:
    """A request to ``provider`` that ``prompt`` alone fills (its first image model with such a
    task, else any model's), for tests and soaks that cover every provider in ``FAKES`` without
    naming a model; ``fields`` (``webhook_url=``, ...) go on the request. ``UnknownNameError``
    for a provider the catalog does not know, ``InvalidInputError`` when no model of it takes a
    prompt alone."""
    catalog = catalog or Catalog.default()
    catalog.envelope(provider)  # an unknown provider is UnknownNameError
    given = {"prompt": prompt}
    for spec in sorted(catalog.models(provider=provider), key=lambda s: s.output_kind != "image"):
        for task in spec.tasks:
            try:
                catalog.validate(provider, spec.id, task, given)
            except InvalidInputError:
                continue
            return GenerationRequest(provider=provider, model=spec.id, task=task, input=given, **fields)
    raise InvalidInputError(f"no {provider} model takes a prompt alone", code="invalid_input")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return (parts.scheme, (parts.hostname or "").lower(), parts.port or {"https": 443, "http": 80}.get(parts.scheme))


class FakeProviders:
    """Every fake behind one handler that routes by origin and base path.

    Give fakes positionally or by provider name (``FakeProviders(FakeClipia(steps=0))``,
    ``FakeProviders(clipia=...)``); every provider in ``FAKES`` not given gets a default one.
    Each is reachable as ``fakes.<provider>`` and in ``fakes.fakes``. A request for any other
    host raises ``httpx.ConnectError`` naming the hosts that are served, as an unreachable
    server would.
    """

    def __init__(self, *given: FakeProvider, base_urls: Mapping[str, str] = DEFAULT_BASE_URLS,
                 catalog: Catalog | None = None, **named: FakeProvider) -> None:
        urls = {**DEFAULT_BASE_URLS, **base_urls}
        chosen: dict[str, FakeProvider] = {}
        for fake in (*given, *named.values()):
            if fake.provider in chosen:
                raise ValueError(f"two fakes for {fake.provider}")
            chosen[fake.provider] = fake
        unknown = set(named) - set(FAKES)
        if unknown or any(named[k].provider != k for k in named if k in FAKES):
            raise ValueError(f"name each fake by its provider ({', '.join(FAKES)})")
        self._fakes: dict[str, FakeProvider] = {
            name: chosen.get(name) or cls(catalog, base_url=urls[name])  # type: ignore[call-arg]
            for name, cls in FAKES.items()}
        self._fakes.update({k: v for k, v in chosen.items() if k not in self._fakes})
        if catalog is not None:
            self.use_catalog(catalog)
        for name, fake in self._fakes.items():
            if name in urls and fake.base_url != urls[name].rstrip("/"):
                raise ValueError(f"the {name} fake serves {fake.base_url}, but base_urls says {urls[name]}; "
                                 f"pass base_url={urls[name]!r} to the fake")
        self.base_urls: dict[str, str] = {name: fake.base_url for name, fake in self._fakes.items()}

    def __getattr__(self, name: str) -> Any:
        fakes = self.__dict__.get("_fakes", {})
        if name in fakes:
            return fakes[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def fakes(self) -> dict[str, FakeProvider]:
        return dict(self._fakes)

    @property
    def catalog(self) -> Catalog:
        """The catalog the fakes check bodies against (the first fake's, when they differ)."""
        return next(iter(self._fakes.values())).catalog

    def use_catalog(self, catalog: Catalog) -> None:
        """Make every fake know ``catalog``'s models (an overlay given to the client too)."""
        for fake in self._fakes.values():
            fake.use_catalog(catalog)

    def stats(self) -> dict[str, dict[str, int]]:
        """Per provider: submits received, jobs created and charged, unfinished jobs, requests."""
        return {name: fake.stats() for name, fake in self._fakes.items()}

    def _serve_at(self, base_urls: Mapping[str, str], media_urls: Mapping[str, str]) -> None:
        for name, fake in self._fakes.items():
            fake._serve_at(base_urls[name])
            if name in media_urls and fake.media_url is not None:
                fake.media_url = media_urls[name].rstrip("/")
        self.base_urls = {name: fake.base_url for name, fake in self._fakes.items()}

    @property
    def api_keys(self) -> dict[str, str]:
        """One accepted key per provider (the first of each fake's ``keys``)."""
        return {name: fake.keys[0] for name, fake in self._fakes.items()}

    def _route(self, url: httpx.URL) -> FakeProvider | None:
        for fake in self._fakes.values():
            if fake.serves_media(url):
                return fake
        origin = _origin(str(url))
        path = split_path(url.raw_path)
        best: tuple[int, FakeProvider] | None = None
        for fake in self._fakes.values():
            base = split_path(urlsplit(fake.base_url).path.encode())
            if _origin(fake.base_url) == origin and path[: len(base)] == base and (best is None or len(base) > best[0]):
                best = (len(base), fake)
        return best[1] if best else None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        fake = self._route(request.url)
        if fake is None:
            media = [f.media_url for f in self._fakes.values() if f.media_url is not None]
            served = ", ".join([*self.base_urls.values(), *media])
            raise httpx.ConnectError(f"genwire.testing: no fake provider serves {request.url.scheme}://"
                                     f"{request.url.netloc.decode()}{request.url.path} (served: {served})",
                                     request=request)
        return fake(request)

    def transport(self) -> httpx.MockTransport:
        """A transport for ``Client``/``AsyncClient``/``httpx.Client``/``httpx.AsyncClient``."""
        return httpx.MockTransport(self)

    def _client_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        catalog = kwargs.get("catalog")
        if catalog is not None and catalog is not self.catalog:
            self.use_catalog(catalog)  # the fakes follow the client's catalog
        return {"api_keys": self.api_keys, "base_urls": self.base_urls, "transport": self.transport(),
                "catalog": self.catalog, "poll": fast_poll(), "retry": fast_retry(), **kwargs}

    def client(self, **kwargs: Any) -> Client:
        """A ``genwire.Client`` wired to these fakes, polling and backing off in milliseconds
        (keyword arguments override: ``poll=``, ``retry=``, ``max_retries=``, ...)."""
        from ..client import Client

        return Client(**self._client_kwargs(kwargs))

    def async_client(self, **kwargs: Any) -> AsyncClient:
        """A ``genwire.AsyncClient`` wired to these fakes, at test speed like ``client``."""
        from ..client import AsyncClient

        return AsyncClient(**self._client_kwargs(kwargs))
