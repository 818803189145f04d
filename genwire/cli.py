"""The ``genwire`` command: browse the catalog, validate input, run the offline demo.

    genwire models [--provider P] [--kind K] [--task T] [--family F]
    genwire schema PROVIDER MODEL TASK [--wire]
    genwire validate PROVIDER MODEL [TASK] JSON
    genwire demo          # submit and follow jobs on the built-in fake providers
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from .catalog import Catalog
from .errors import GenwireError
from .models import GenerationRequest, Job

__all__ = ["main"]


def _models(args: argparse.Namespace, out: TextIO) -> int:
    specs = Catalog.default().models(provider=args.provider, kind=args.kind, task=args.task, family=args.family)
    for spec in sorted(specs, key=lambda s: (s.provider, s.kind, s.id)):
        family = f"  family={spec.family}" if spec.family else ""
        out.write(f"{spec.provider:9} {spec.kind:6} {spec.id:28} {', '.join(spec.tasks)}{family}\n")
    out.write(f"{len(specs)} models, {sum(len(s.tasks) for s in specs)} tasks\n")
    return 0


def _schema(args: argparse.Namespace, out: TextIO) -> int:
    catalog = Catalog.default()
    get = catalog.wire_schema if args.wire else catalog.input_schema
    out.write(json.dumps(get(args.provider, args.model, args.task), indent=2, ensure_ascii=False) + "\n")
    return 0


def _validate(args: argparse.Namespace, out: TextIO) -> int:
    try:
        data = json.loads(args.json)
    except ValueError as exc:
        raise SystemExit(f"genwire: the input is not JSON: {exc}") from None
    catalog = Catalog.default()
    task = args.task or catalog.resolve_task(args.provider, args.model, data)
    values = catalog.validate(args.provider, args.model, task, data)
    out.write(json.dumps({"task": task, "input": values}, indent=2, ensure_ascii=False) + "\n")
    return 0


def _show(job: Job, out: TextIO) -> None:
    progress = f" {job.progress:.0f}%" if job.progress is not None else ""
    out.write(f"  {job.provider}/{job.model} {job.id[:12]} {job.status.value}{progress}\n")


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from ._retry import PollPolicy
    from .client import Client
    from .testing import FakeClipia, FakeCliprise, FakeProviders

    fakes = FakeProviders(clipia=FakeClipia(), cliprise=FakeCliprise())
    keys = {"clipia": fakes.clipia.keys[0], "cliprise": fakes.cliprise.keys[0]}
    requests = [
        GenerationRequest(family="nano-banana-2", task="text-to-image",
                          input={"prompt": "a lighthouse at dawn, watercolor"}),
        GenerationRequest(provider="cliprise", model="veo-3-fast",
                          input={"prompt": "a fox crossing a snowy field", "aspect_ratio": "16:9"}),
        GenerationRequest(provider="clipia", model="seedance-2-fast-i2v",
                          input={"image_urls": ["https://example.com/fox.png"], "duration": 8}),
        GenerationRequest(provider="cliprise", model="elevenlabs-v3-dialogue",
                          input={"dialogue": [{"text": "Ready?", "voice": "EkK5I93UQWFDigLMpZcX"},
                                                 {"text": "Go.", "voice": "nPczCjzI2devNBz1zQrb"}]}),
    ]
    out.write("genwire demo: real clients against the built-in fake providers (no keys, no network)\n")
    with Client(api_keys=keys, transport=fakes.transport(), poll=PollPolicy(0.01, 0.05)) as client:
        for req in requests:
            target = (req.family and f"family {req.family}") or f"{req.provider}/{req.model}"
            out.write(f"\n{target}  {json.dumps(req.input)}\n")
            job = client.run(req, timeout=30, on_update=lambda j: _show(j, out))
            for media in job.outputs:
                data = client.download(media)
                size = len(data) if isinstance(data, bytes) else 0
                out.write(f"  -> {media.kind} {media.url} ({size} bytes downloaded)\n")
            cost = f"{job.cost.credits:g} credits ({job.cost.source})" if job.cost else "unknown"
            out.write(f"  cost: {cost}\n")
        out.write("\ninvalid input is refused before any request is sent:\n")
        try:
            client.submit(GenerationRequest(provider="cliprise", model="wan-2-5",
                                            input={"prompt": 7, "duration": 7, "style": "noir"}))
        except GenwireError as err:
            out.write(f"  {type(err).__name__}: {err}\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genwire", description="genwire: one client for generative-media providers")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("models", help="list catalog models")
    for flag in ("provider", "kind", "task", "family"):
        p.add_argument(f"--{flag}")
    p.set_defaults(run=_models)
    p = sub.add_parser("schema", help="print a task's input (or --wire body) JSON Schema")
    p.add_argument("provider")
    p.add_argument("model")
    p.add_argument("task")
    p.add_argument("--wire", action="store_true")
    p.set_defaults(run=_schema)
    p = sub.add_parser("validate", help="validate a JSON input; print it with defaults applied")
    p.add_argument("provider")
    p.add_argument("model")
    p.add_argument("task", nargs="?")
    p.add_argument("json")
    p.set_defaults(run=_validate)
    p = sub.add_parser("demo", help="run jobs end to end on the built-in fake providers")
    p.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args, out or sys.stdout))
    except GenwireError as err:
        print(f"genwire: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
