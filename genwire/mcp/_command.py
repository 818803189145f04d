"""``genwire mcp``: the MCP server from the shell (registered with the ``genwire`` command).

    genwire mcp                                   # stdio: what Claude Code, Cursor, ... start
    genwire mcp --http 127.0.0.1:8765             # Streamable HTTP at http://127.0.0.1:8765/mcp
    genwire mcp --allow cliprise/veo-3-fast --max-credits-per-job 50 --max-credits 500

Keys come from the environment as for ``genwire run`` (``CLIPIA_KEY``, ``CLIPRISE_KEY``),
never from arguments or tool calls. This module imports no part of the MCP SDK until the
command runs, so the base install lists the command and says how to get the SDK.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING, TextIO

from ..cli import CommandError, register
from ..cli._main import chosen_catalog
from ..cli._run import base_urls_of, connection_options

if TYPE_CHECKING:
    from ..client import AsyncClient

__all__ = ["INSTALL_HINT", "TOKEN_ENV"]

TOKEN_ENV = "GENWIRE_MCP_TOKEN"
INSTALL_HINT = "genwire mcp needs the MCP SDK: pip install 'genwire[mcp]'"


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--http", metavar="[HOST:]PORT",
                   help="serve Streamable HTTP at http://HOST:PORT/mcp instead of stdio (HOST default 127.0.0.1; "
                        "PORT 0: a free one)")
    p.add_argument("--token", help=f"the bearer token HTTP clients must send (default ${TOKEN_ENV}); required "
                                   "when HOST is not loopback")
    p.add_argument("--allow", action="append", default=[], metavar="MODEL",
                   help="what the agent may generate with: PROVIDER, PROVIDER/MODEL, PROVIDER/* or a family "
                        "(repeatable or comma-separated; default: everything)")
    p.add_argument("--max-credits-per-job", type=float, metavar="CREDITS",
                   help="refuse a job whose estimate is higher")
    p.add_argument("--max-credits", type=float, metavar="CREDITS",
                   help="refuse jobs once the server has spent this many credits (estimates until jobs report "
                        "their cost)")
    p.add_argument("--allow-unpriced", action="store_true",
                   help="with a credit limit, let through jobs whose cost cannot be estimated (counted as 0)")
    p.add_argument("--ledger", metavar="URL",
                   help="record every job in this ledger (sqlite:///jobs.db, postgresql://...): a restarted "
                        "server and `genwire jobs` still know them; adds the list_generations tool")
    p.add_argument("--poll-interval", type=float, default=1.0, metavar="SECONDS",
                   help="first pause between status polls while waiting; it grows to 5 s (default 1)")
    p.add_argument("--inline-images", type=int, default=None, metavar="BYTES",
                   help="also send image outputs up to this size as image content (default 1 MiB; 0: links only)")
    connection_options(p)


def _listen(value: str) -> tuple[str, int]:
    host, colon, port = value.rpartition(":")
    if not colon:
        host, port = "127.0.0.1", value
    try:
        number = int(port)
    except ValueError:
        raise CommandError(f"--http takes [HOST:]PORT, got {value!r}") from None
    if not 0 <= number <= 65535:
        raise CommandError(f"--http: port {number} is out of range")
    return host or "127.0.0.1", number


def _client(args: argparse.Namespace) -> AsyncClient:
    from .. import PollPolicy
    from ..client import AsyncClient

    if args.request_timeout <= 0 or args.poll_interval <= 0:
        raise CommandError("--request-timeout and --poll-interval must be > 0")
    catalog = chosen_catalog(args)  # --catalog (from connection_options) or GENWIRE_CATALOG
    poll = PollPolicy(initial_interval=args.poll_interval, max_interval=max(5.0, args.poll_interval))
    return AsyncClient(base_urls=base_urls_of(args), timeout=args.request_timeout, poll=poll, catalog=catalog,
                       ledger=args.ledger)


def _run(args: argparse.Namespace, out: TextIO) -> int:
    try:
        import anyio

        from ._guard import Guard, parse_allow
        from ._server import DEFAULT_INLINE_IMAGE_BYTES, build_server
        from ._tools import GenwireTools
        from ._transports import serve_http, serve_stdio
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] in ("mcp", "anyio", "starlette", "uvicorn"):
            raise CommandError(INSTALL_HINT) from None
        raise
    listen = _listen(args.http) if args.http is not None else None
    token = args.token or os.environ.get(TOKEN_ENV) or None
    if listen is None and args.token:
        raise CommandError("--token is for --http (a stdio server is reached only by the process that started it)")
    guard = Guard(allow=parse_allow(args.allow), max_per_job=args.max_credits_per_job, max_total=args.max_credits,
                  allow_unpriced=args.allow_unpriced)
    inline = DEFAULT_INLINE_IMAGE_BYTES if args.inline_images is None else max(args.inline_images, 0)

    def announce(url: str) -> None:
        if args.json:
            out.write(json.dumps({"url": url, "transport": "streamable-http", "token_required": token is not None})
                      + "\n")
        else:
            out.write(f"genwire mcp: serving {url}{' (bearer token required)' if token else ''}\n")
        out.flush()

    async def serve() -> None:
        async with _client(args) as client:
            server = build_server(GenwireTools(client, guard=guard), inline_image_bytes=inline)
            if listen is None:
                await serve_stdio(server)
            else:
                await serve_http(server, host=listen[0], port=listen[1], token=token, announce=announce)

    try:
        anyio.run(serve)
    except OSError as exc:
        if listen is None:
            raise
        raise CommandError(f"cannot listen on {listen[0]}:{listen[1]}: {exc.strerror or exc}") from None
    return 0


register("mcp", help="serve genwire's tools to agents over MCP (stdio, or --http)", configure=_configure, run=_run)
