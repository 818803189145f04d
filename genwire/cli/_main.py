"""The ``genwire`` command, built from a table of subcommands.

    genwire models [--provider P] [--kind K] [--task T] [--family F]
    genwire schema PROVIDER MODEL TASK [--wire]
    genwire validate PROVIDER MODEL [TASK] --input JSON|@FILE|-
    genwire run PROVIDER/MODEL --input JSON|@FILE|- [--task T] [--wait/--no-wait]
    genwire status PROVIDER ID [--model M] [--wait]
    genwire balance PROVIDER
    genwire fake-server [--host H] [--port N]
    genwire mcp [--http [HOST:]PORT] [--allow MODEL] [--max-credits-per-job N] [--max-credits N]
    genwire demo

Every command takes ``--json`` (machine-readable output) and ``--help``; every command
that reads the catalog takes ``--catalog DIR`` (or ``GENWIRE_CATALOG=DIR``): a catalog
directory laid over the bundled one, as ``Catalog.load(DIR)``.

Exit status: 0 done; 1 an error from genwire or the provider; 2 bad usage or input
refused before any request; 3 the job ended failed or canceled; 124 ``--wait`` reached
``--timeout`` (the job goes on; the message says how to pick it up); 130 interrupted;
141 the reader of stdout went away.

Other modules add commands with ``register``: a name, a help line, a function
that adds the command's arguments to its ``argparse`` parser, and a function
``run(args, out) -> exit code``. ``EXTENSIONS`` lists the modules imported
(if present) when the parser is built; to extend an existing command, read
``COMMANDS[name]`` and register a replacement with ``replace=True``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from .._version import __version__
from ..errors import GenwireError, InvalidInputError, JobFailedError, WaitTimeoutError

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..models import Job

__all__ = ["CATALOG_ENV", "COMMANDS", "EXIT_CODES", "EXTENSIONS", "Command", "CommandError", "add_catalog_option",
           "catalog_of", "chosen_catalog", "emit_json", "main", "register", "resume_hint"]

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace, TextIO], int]


@dataclass(frozen=True)
class Command:
    """One subcommand: its help line, how to add its arguments, and what it runs."""

    help: str
    configure: Configure
    run: Run


#: the subcommands, in the order ``--help`` lists them
COMMANDS: dict[str, Command] = {}
#: modules that register more commands when imported (skipped when absent)
EXTENSIONS: tuple[str, ...] = ("genwire.cli._run", "genwire.cli._catalog", "genwire.cli._jobs",
                               "genwire.mcp._command")
#: exit status by error kind (first match); any other GenwireError exits 1
EXIT_CODES: tuple[tuple[type[GenwireError], int], ...] = ((JobFailedError, 3), (WaitTimeoutError, 124))


class CommandError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


def register(name: str, *, help: str, configure: Configure, run: Run, replace: bool = False) -> None:
    """Add a subcommand ``genwire NAME`` (``replace=True`` to redefine an existing one)."""
    if name in COMMANDS and not replace:
        raise ValueError(f"genwire command {name!r} is already registered")
    COMMANDS[name] = Command(help, configure, run)


def emit_json(value: Any, out: TextIO) -> None:
    """Write one JSON document (the ``--json`` output of a command)."""
    out.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


def _no_args(parser: argparse.ArgumentParser) -> None:
    pass


#: ``GENWIRE_CATALOG=DIR``: the catalog directory of every command that reads the catalog
CATALOG_ENV = "GENWIRE_CATALOG"


def add_catalog_option(p: argparse.ArgumentParser) -> None:
    """``--catalog DIR``, for a command that reads the catalog."""
    p.add_argument("--catalog", metavar="DIR",
                   help=f"a catalog directory laid over the bundled one (also ${CATALOG_ENV})")


def catalog_of(args: argparse.Namespace) -> Catalog:
    """The catalog ``--catalog`` or ``GENWIRE_CATALOG`` names, else the bundled one."""
    from ..catalog import Catalog

    return chosen_catalog(args) or Catalog.default()


def chosen_catalog(args: argparse.Namespace) -> Catalog | None:
    """The catalog ``--catalog`` or ``GENWIRE_CATALOG`` names (laid over the bundled one), or None."""
    from ..catalog import Catalog

    path = getattr(args, "catalog", None) or os.environ.get(CATALOG_ENV)
    return Catalog.load(path) if path else None


# -- catalog commands ----------------------------------------------------------------------

def _configure_models(p: argparse.ArgumentParser) -> None:
    from ..adapters import ADAPTERS

    p.add_argument("--provider", choices=sorted(ADAPTERS), help="only this provider's models")
    p.add_argument("--kind", choices=["image", "video", "audio", "text"], help="only models with this output kind")
    p.add_argument("--task", help="only models offering this task (e.g. text-to-video)")
    p.add_argument("--family", help="only models of this family (one model offered by several providers)")
    add_catalog_option(p)


def _models(args: argparse.Namespace, out: TextIO) -> int:
    catalog = catalog_of(args)
    if args.task is not None and not catalog.models(task=args.task):
        raise CommandError(f"no model offers task {args.task!r}")
    specs = catalog.models(provider=args.provider, kind=args.kind, task=args.task, family=args.family)
    specs = sorted(specs, key=lambda s: (s.provider, s.kind, s.id))
    if args.json:
        emit_json([{"provider": s.provider, "id": s.id, "name": s.name, "kind": s.kind, "family": s.family,
                    "tasks": list(s.tasks)} for s in specs], out)
        return 0
    for spec in specs:
        family = f"  family={spec.family}" if spec.family else ""
        out.write(f"{spec.provider:9} {spec.kind:6} {spec.id:28} {', '.join(spec.tasks)}{family}\n")
    out.write(f"{len(specs)} models, {sum(len(s.tasks) for s in specs)} tasks\n")
    return 0


def _configure_schema(p: argparse.ArgumentParser) -> None:
    p.add_argument("provider", help="the provider (see `genwire models`)")
    p.add_argument("model", help="the model id (see `genwire models`)")
    p.add_argument("task", help="one of the model's tasks")
    p.add_argument("--wire", action="store_true", help="the schema of the provider's request body instead")
    add_catalog_option(p)


def _schema(args: argparse.Namespace, out: TextIO) -> int:
    catalog = catalog_of(args)
    get = catalog.wire_schema if args.wire else catalog.input_schema
    emit_json(get(args.provider, args.model, args.task), out)
    return 0


def read_input(text: str) -> dict[str, Any]:
    """A JSON object given inline, as ``@file`` or as ``-`` (standard input)."""
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise CommandError(f"cannot read the input file {text[1:]!r}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"the input is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CommandError(f"the input must be a JSON object, not {type(data).__name__}")
    return data


def _configure_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("provider", help="the provider (see `genwire models`)")
    p.add_argument("model", help="the model id (see `genwire models`)")
    p.add_argument("task", nargs="?", help="the task (inferred from the input when left out)")
    p.add_argument("input", nargs="?", metavar="JSON", help=argparse.SUPPRESS)  # deprecated: use --input
    p.add_argument("--input", dest="input_option", metavar="JSON",
                   help="the input: a JSON object, @FILE, or - for standard input (as `genwire run --input`)")
    add_catalog_option(p)


def _validate_input(args: argparse.Namespace) -> str:
    """``--input JSON``, or (deprecated) the JSON as the last positional argument."""
    if args.input_option is not None:
        if args.input is not None:
            raise CommandError("give the input once: --input JSON (a positional JSON is deprecated)")
        return str(args.input_option)
    text = args.input
    if text is None and args.task is not None:
        text, args.task = args.task, None  # `validate P M JSON`: the task was left out
    if text is None:
        raise CommandError("the input is required: --input JSON, @FILE or -")
    print("genwire: a positional JSON input is deprecated; use --input JSON (as `genwire run` does)",
          file=sys.stderr)
    return str(text)


def _validate(args: argparse.Namespace, out: TextIO) -> int:
    data = read_input(_validate_input(args))
    catalog = catalog_of(args)
    task = args.task or catalog.resolve_task(args.provider, args.model, data)
    values = catalog.validate(args.provider, args.model, task, data)
    emit_json({"task": task, "input": values}, out)
    return 0


# -- demo and fake server --------------------------------------------------------------------

def _show(job: Job, out: TextIO) -> None:
    progress = f" {job.progress:.0f}%" if job.progress is not None else ""
    out.write(f"  {job.provider}/{job.model} {job.id[:12]} {job.status.value}{progress}\n")


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from .._policy.retry import PollPolicy
    from ..models import GenerationRequest
    from ..testing import FakeProviders, sample_request

    fakes = FakeProviders()
    requests = [
        GenerationRequest(family="nano-banana-2", task="text-to-image",
                          input={"prompt": "a lighthouse at dawn, watercolor"}),
        GenerationRequest(provider="cliprise", model="veo-3-fast",
                          input={"prompt": "a fox crossing a snowy field", "aspect_ratio": "16:9"}),
        GenerationRequest(provider="clipia", model="seedance-2-fast-i2v",
                          input={"image_urls": ["https://example.com/fox.png"], "duration": 8}),
        GenerationRequest(provider="replicate", model="musicgen",
                          input={"prompt": "a calm piano loop", "duration": 8}),
        GenerationRequest(provider="cliprise", model="elevenlabs-v3-dialogue",
                          input={"dialogue": [{"text": "Ready?", "voice": "EkK5I93UQWFDigLMpZcX"},
                                                 {"text": "Go.", "voice": "nPczCjzI2devNBz1zQrb"}]}),
    ]
    # a registered provider the jobs above do not show runs one prompt-only job
    shown = {r.provider for r in requests}
    requests += [sample_request(p, "a lighthouse at dawn") for p in fakes.fakes if p not in shown]
    jobs = []
    text = not args.json
    if text:
        out.write("genwire demo: real clients against the built-in fake providers (no keys, no network)\n")
    with fakes.client(poll=PollPolicy(0.01, 0.05)) as client:
        for req in requests:
            if text:
                target = (req.family and f"family {req.family}") or f"{req.provider}/{req.model}"
                out.write(f"\n{target}  {json.dumps(req.input)}\n")
            job = client.run(req, timeout=30, on_update=(lambda j: _show(j, out)) if text else None)
            jobs.append(job.model_dump(mode="json"))
            for media in job.outputs:
                data = client.download(media)
                size = len(data) if isinstance(data, bytes) else 0
                if text:
                    out.write(f"  -> {media.kind} {media.url} ({size} bytes downloaded)\n")
            if text:
                cost = f"{job.cost.credits:g} credits ({job.cost.source})" if job.cost else "unknown"
                out.write(f"  cost: {cost}\n")
        try:
            client.submit(GenerationRequest(provider="cliprise", model="wan-2-5",
                                            input={"prompt": 7, "duration": 7, "style": "noir"}))
        except GenwireError as err:
            if text:
                out.write("\ninvalid input is refused before any request is sent:\n")
                out.write(f"  {type(err).__name__}: {err}\n")
    if args.json:
        emit_json(jobs, out)
    return 0


def _configure_fake_server(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="the loopback address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="the port to listen on (default 0: a free port)")
    p.add_argument("--steps", type=int, default=2, help="status polls before a job ends (default 2; 0: at once)")
    p.add_argument("--callbacks", choices=["loopback", "all", "off"], default="loopback",
                   help="POST webhook deliveries to loopback URLs only (default), to any URL, or to none")
    add_catalog_option(p)


def _fake_server(args: argparse.Namespace, out: TextIO) -> int:
    import signal
    import threading

    from ..testing import FakeProviders
    from ..testing.fakes import FAKES
    from ..testing.server import FakeServer

    if args.steps < 0:
        raise CommandError("--steps must be 0 or more")
    catalog = catalog_of(args)
    fakes = FakeProviders(*(cls(catalog, steps=args.steps) for cls in FAKES.values()))  # type: ignore[call-arg]

    def log(line: str) -> None:
        try:
            out.write(line + "\n")
            out.flush()
        except (BrokenPipeError, ValueError):  # the reader went away: keep serving
            pass

    try:
        server = FakeServer(fakes, host=args.host, port=args.port, log=log, json_log=args.json,
                            callbacks=args.callbacks)
    except OSError as exc:
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with server:
            out.write(json.dumps(server.announcement()) + "\n")
            out.flush()
            while not stop.wait(0.2):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


register("models", help="list catalog models", configure=_configure_models, run=_models)
register("schema", help="print a task's input (or --wire body) JSON Schema", configure=_configure_schema,
         run=_schema)
register("validate", help="validate a JSON input; print it with defaults applied", configure=_configure_validate,
         run=_validate)
register("demo", help="run jobs end to end on the built-in fake providers", configure=_no_args, run=_demo)
register("fake-server", help="serve the fake providers over HTTP on a loopback port",
         configure=_configure_fake_server, run=_fake_server)


# -- the parser and the entry point -----------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """Bad usage is one line on stderr and exit status 2, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _load_extensions() -> None:
    for name in EXTENSIONS:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def build_parser() -> argparse.ArgumentParser:
    _load_extensions()
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable JSON output")
    parser = _Parser(prog="genwire", description="genwire: one client for generative-media providers")
    parser.add_argument("--version", action="version", version=f"genwire {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help, description=command.help, parents=[common])
        command.configure(p)
        p.set_defaults(run=command.run)
    return parser


def resume_hint(job: Job) -> str:
    """How to pick up a job this command stopped waiting for."""
    return f"the job continues: genwire status {job.provider} {job.id} --wait"


def _fail(message: str, code: int) -> int:
    print(f"genwire: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run ``genwire`` with ``argv``, writing to ``out`` (default stdout); return the exit status."""
    stream = out or sys.stdout
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as done:  # --help, --version, or a usage error already printed
            sys.stdout.flush()
            return done.code if isinstance(done.code, int) else 0 if done.code is None else 2
        try:
            code = int(args.run(args, stream))
            stream.flush()  # here, so a reader that went away is handled below, not at exit
            return code
        except CommandError as err:
            return _fail(str(err), 2)
        except GenwireError as err:
            if getattr(args, "json", False):
                emit_json({"error": _error_json(err)}, stream)
            code = next((c for kind, c in EXIT_CODES if isinstance(err, kind)), 1)
            if isinstance(err, WaitTimeoutError) and err.job is not None:
                _fail(f"{type(err).__name__}: {err}", code)
                return _fail(resume_hint(err.job), code)
            return _fail(f"{type(err).__name__}: {err}", code)
        except KeyboardInterrupt:
            return _fail("interrupted", 130)
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away: stop quietly, and keep the interpreter's
        # final flush of stdout from raising again
        if out is None:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 141


def _error_json(err: GenwireError) -> dict[str, Any]:
    body: dict[str, Any] = {"type": type(err).__name__, "message": err.message, "provider": err.provider,
                            "status": err.status, "code": err.code, "retryable": err.retryable}
    if isinstance(err, InvalidInputError):
        body["violations"] = [{"path": v.path, "message": v.message} for v in err.violations]
    if err.job is not None:
        body["job"] = err.job.model_dump(mode="json")
    return body


if __name__ == "__main__":
    sys.exit(main())
