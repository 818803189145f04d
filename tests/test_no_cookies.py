"""Clients keep no cookies: a reply's Set-Cookie never reaches another request."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from genwire import AsyncClient, Client, ConfigurationError, GenerationRequest

REQUEST = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_set_cookie_reply_is_not_sent_back(mode: str) -> None:
    sent: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("cookie"))
        return httpx.Response(200, json={"request_id": f"r-{len(sent)}", "status": "IN_QUEUE"},
                              headers={"set-cookie": "session=abc; Path=/"})

    kwargs = {"api_keys": {"clipia": "clipia_live_test0000"}, "transport": httpx.MockTransport(handler)}
    if mode == "sync":
        with Client(**kwargs) as client:  # type: ignore[arg-type]
            client.submit(REQUEST)
            client.submit(REQUEST)
            with pytest.raises(ConfigurationError, match="no cookies"):
                client._http.cookies = {"a": "b"}
    else:
        async def main() -> None:
            async with AsyncClient(**kwargs) as client:  # type: ignore[arg-type]
                await client.submit(REQUEST)
                await client.submit(REQUEST)

        asyncio.run(main())
    assert sent == [None, None]
