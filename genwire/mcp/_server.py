"""The MCP server: the tool table on the SDK's low-level ``Server``.

The low-level server publishes the exact schemas in ``_schemas`` and leaves the result
to us: structured content plus its JSON as text, a resource link per output (small
images inline too), and every failure a tool error (``isError``) carrying genwire's
error type, code and violations, never a traceback.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import mcp.types as types
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError

from .._version import __version__
from ..catalog._validation import ValidateFn, compile_validator
from ..errors import GenwireError, InvalidInputError
from . import _views as views
from ._schemas import ARGUMENTS, MAX_WAIT, RESULTS
from ._tools import GenwireTools, Progress, Reply

__all__ = ["DEFAULT_INLINE_IMAGE_BYTES", "TOOLS", "ToolInfo", "build_server"]

logger = logging.getLogger("genwire")

#: images up to this size are also sent as image content (larger ones only as links)
DEFAULT_INLINE_IMAGE_BYTES = 1 << 20
#: read_resource serves outputs up to this size (larger: fetch the URL, or download with genwire)
MAX_RESOURCE_BYTES = 32 << 20

Handler = Callable[[GenwireTools, Mapping[str, Any], "Progress | None"], Awaitable[Reply]]


@dataclass(frozen=True)
class ToolInfo:
    """One tool: how an agent sees it, and which ``GenwireTools`` method runs it."""

    title: str
    description: str
    run: Handler
    read_only: bool = True
    #: the same call twice does what one does (generate does, with an idempotency_key)
    idempotent: bool = True
    #: listed only when the server has a ledger
    needs_ledger: bool = False


TOOLS: dict[str, ToolInfo] = {
    "list_models": ToolInfo(
        "List models", "The models of every provider (filter by provider, kind, task or family), each with its "
        "tasks and catalog price. Pass a result's 'model' to get_model or generate.", GenwireTools.list_models),
    "get_model": ToolInfo(
        "Describe a model", "One model: each task's normalized input JSON Schema, required parameters, defaults, "
        "output kind and price.", GenwireTools.get_model),
    "validate_input": ToolInfo(
        "Validate an input", "Check an input against a model locally (no network, no credits): the accepted input "
        "with defaults applied, or every violation with its JSON path.", GenwireTools.validate_input),
    "estimate_cost": ToolInfo(
        "Estimate the cost", "What a generation would cost in credits: the provider's quote where it offers one, "
        "else the catalog price; null when unknown. Starts no job.", GenwireTools.estimate_cost),
    "generate": ToolInfo(
        "Generate", "Start an image, video or audio generation; returns the job (id, status, outputs with URLs, "
        f"cost, error). Returns at once unless 'wait' (at most {MAX_WAIT:g} s) is given; then follow it with "
        "wait_generation. Pass an idempotency_key so that retrying the call never starts a second paid job. "
        "The input is validated first: nothing is sent or spent for a bad one.", GenwireTools.generate,
        read_only=False, idempotent=False),
    "get_generation": ToolInfo(
        "Look at a job", "A job's current status and, once it succeeded, its outputs (one status request).",
        GenwireTools.get_generation),
    "wait_generation": ToolInfo(
        "Wait for a job", f"Wait for a job to end, at most 'timeout' seconds ({MAX_WAIT:g} at most), reporting "
        "progress. "
        "A job still running then is returned as it is: call again to go on waiting.",
        GenwireTools.wait_generation),
    "cancel_generation": ToolInfo(
        "Cancel a job", "Cancel a running job, where the provider can (an 'unsupported_operation' tool error "
        "where it cannot).", GenwireTools.cancel_generation, read_only=False),
    "list_generations": ToolInfo(
        "List jobs", "The jobs this server's ledger recorded (also before a restart), newest first: by state, "
        "provider, since.", GenwireTools.list_generations, needs_ledger=True),
    "get_balance": ToolInfo(
        "Credit balance", "The account's credit balance at each provider that reports one ('offered': false for "
        "one that has no balance API).", GenwireTools.get_balance),
}


def _tool(name: str, info: ToolInfo) -> types.Tool:
    hints = types.ToolAnnotations(title=info.title, read_only_hint=info.read_only, open_world_hint=True,
                                  **({} if info.read_only else {"destructive_hint": False,
                                                                "idempotent_hint": info.idempotent}))
    return types.Tool(name=name, title=info.title, description=info.description, input_schema=ARGUMENTS[name],
                      output_schema=RESULTS[name], annotations=hints)


def _error_result(err: GenwireError) -> types.CallToolResult:
    view = views.error_view(err)
    return types.CallToolResult(content=[types.TextContent(type="text", text=views.error_text(view))],
                                structured_content=view, is_error=True)


class _Server:
    """The handlers, over one ``GenwireTools``."""

    def __init__(self, tools: GenwireTools, inline_image_bytes: int) -> None:
        self.tools = tools
        self.inline_image_bytes = inline_image_bytes
        self.table = {name: info for name, info in TOOLS.items() if tools.ledger_enabled or not info.needs_ledger}
        self.listed = [_tool(name, info) for name, info in self.table.items()]
        self._checks: dict[str, ValidateFn] = {}
        #: small images already fetched, by URL (None: too large or unreadable)
        self._images: dict[str, bytes | None] = {}

    def input_schema(self, name: str) -> Mapping[str, Any] | None:
        return ARGUMENTS[name] if name in self.table else None

    async def list_tools(self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
                         ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=self.listed)

    def _check(self, name: str, arguments: Mapping[str, Any]) -> None:
        check = self._checks.get(name)
        if check is None:
            check = self._checks[name] = compile_validator(ARGUMENTS[name])
        violations = check(dict(arguments))
        if violations:
            raise InvalidInputError(f"invalid arguments for {name}", violations, code="invalid_arguments")

    async def call_tool(self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
                        ) -> types.CallToolResult:
        name, arguments = params.name, params.arguments or {}
        info = self.table.get(name)
        if info is None:
            known = ", ".join(self.table)
            raise MCPError(types.INVALID_PARAMS, f"unknown tool {name!r}; this server has: {known}")

        async def progress(value: float, total: float | None, message: str | None) -> None:
            await ctx.session.report_progress(value, total, message)

        try:
            self._check(name, arguments)
            reply = await info.run(self.tools, arguments, progress)
        except GenwireError as err:
            return _error_result(err)
        except Exception as exc:  # a bug: the agent gets its type, the operator's log the traceback
            logger.exception("genwire mcp: tool %s failed", name)
            return _error_result(GenwireError(f"internal error in {name} ({type(exc).__name__}); the server "
                                              "log has the details", code="internal_error"))
        return await self._result(reply)

    async def _result(self, reply: Reply) -> types.CallToolResult:
        content: list[types.ContentBlock] = [
            types.TextContent(type="text", text=json.dumps(reply.result, ensure_ascii=False))]
        for media in reply.outputs:
            mime = views.mime_type(media)
            content.append(types.ResourceLink(type="resource_link", name=views.file_name(media),
                                              uri=media.url, mime_type=mime,
                                              description=f"{media.kind} output"))
            if media.kind == "image" and self.inline_image_bytes > 0:
                data = await self._small_image(media)
                if data is not None:
                    content.append(types.ImageContent(type="image", data=base64.b64encode(data).decode(),
                                                      mime_type=mime or "image/png"))
        return types.CallToolResult(content=content, structured_content=reply.result)

    async def _small_image(self, media: Any) -> bytes | None:
        if media.url in self._images:
            return self._images[media.url]
        data: bytes | None = None
        try:
            got = await self.tools.client.download(media)
            data = got if isinstance(got, bytes) and len(got) <= self.inline_image_bytes else None
        except GenwireError as err:
            logger.info("genwire mcp: not inlining %s: %s", media.url, err)
        if len(self._images) > 64:
            self._images.clear()
        self._images[media.url] = data
        return data

    async def list_resources(self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
                             ) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=[
            types.Resource(name=views.file_name(m), uri=url, mime_type=views.mime_type(m),
                           description=f"{m.kind} output")
            for url, m in self.tools.outputs.items()])

    async def read_resource(self, ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
                            ) -> types.ReadResourceResult:
        uri = str(params.uri)
        media = self.tools.outputs.get(uri)
        if media is None:
            raise MCPError(types.INVALID_PARAMS, "not an output of a job this server knows", {"uri": uri})
        try:
            data = await self.tools.client.download(media)
        except GenwireError as err:
            raise MCPError(types.INTERNAL_ERROR, f"{type(err).__name__}: {err}", {"uri": uri}) from None
        assert isinstance(data, bytes)
        if len(data) > MAX_RESOURCE_BYTES:
            raise MCPError(types.INVALID_PARAMS, f"the file has {len(data)} bytes, over {MAX_RESOURCE_BYTES}; "
                           "fetch its URL directly", {"uri": uri})
        return types.ReadResourceResult(contents=[types.BlobResourceContents(
            uri=uri, mime_type=views.mime_type(media), blob=base64.b64encode(data).decode())])


def build_server(tools: GenwireTools, *, inline_image_bytes: int = DEFAULT_INLINE_IMAGE_BYTES) -> Server[Any]:
    """The MCP server over ``tools`` (serve it over stdio or Streamable HTTP, or connect ``mcp.Client`` to it)."""
    handlers = _Server(tools, inline_image_bytes)
    return Server(
        "genwire", version=__version__, title="genwire",
        instructions="Generate images, video and audio on several providers through one catalog. list_models, "
                     "get_model and validate_input cost nothing; generate returns the job at once (or waits up to "
                     f"{MAX_WAIT:g} s); follow a job with wait_generation, calling again while it runs.",
        get_tool_input_schema=handlers.input_schema,
        on_list_tools=handlers.list_tools, on_call_tool=handlers.call_tool,
        on_list_resources=handlers.list_resources, on_read_resource=handlers.read_resource,
    )
