"""Draft a catalog YAML for one Clipia model from its ``GET /v1/models/:model`` JSON.

``python -m tools.import_clipia [FILE|-] [--out DIR]`` reads the JSON (stdin by
default) and writes ``DIR/<slug>.yaml``, or prints it without ``--out``. The
conversion lives in ``genwire.catalog._from_clipia`` (the live catalog uses it too).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genwire.catalog._drafting import render_yaml
from genwire.catalog._from_clipia import clipia_to_catalog, param_spec, schema_entries
from tools._cli import ToolError, guard, read_json

__all__ = ["clipia_to_catalog", "main", "param_spec", "schema_entries"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.import_clipia", description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", default="-", help="model JSON (default: stdin)")
    ap.add_argument("--out", help="directory for <slug>.yaml (default: print)")
    args = ap.parse_args(argv)
    return guard(ap.prog, lambda: _run(args.file, args.out))


def _run(file: str, out: str | None) -> int:
    reply = read_json(file, "model JSON file")
    if not isinstance(reply, dict):
        raise ToolError(f"{file}: expected one model object (the reply of GET /v1/models/:model), "
                        f"got a JSON {type(reply).__name__}")
    try:
        data, comments = clipia_to_catalog(reply)
    except ValueError as exc:
        raise ToolError(f"{file}: {exc}") from None
    except (KeyError, TypeError, AttributeError) as exc:
        # a reply of another shape than the model endpoint's
        raise ToolError(f"{file}: not a Clipia model reply ({type(exc).__name__}: {exc})") from None
    text = render_yaml(data, comments)
    if out:
        path = Path(out) / f"{data['id']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
