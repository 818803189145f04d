"""Compile catalog/ YAML into schemas/ and catalog/README.md.

    python -m tools.compile            # write what changed, remove what is stale
    python -m tools.compile --check    # change nothing; exit 1 if anything is stale

Lint problems (file, model, field) stop both with exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genwire.catalog._compile import Problem, compile_catalog, render
from genwire.errors import CatalogError
from tools.catalog_page import render_page

__all__ = ["expected_files", "main", "plan"]

ROOT = Path(__file__).resolve().parent.parent


def expected_files(root: Path = ROOT) -> tuple[dict[Path, str], list[Problem]]:
    """Every generated file (absolute path -> text) and every catalog problem."""
    compiled, problems = compile_catalog(root / "catalog", relative_to=root)
    files = {root / "schemas" / rel: text for rel, text in render(compiled).items()}
    files[root / "catalog" / "README.md"] = render_page(compiled.index)
    return files, problems


def plan(root: Path = ROOT) -> tuple[dict[Path, str], list[Path], list[Problem]]:
    """(files to write, stale files to delete, problems)."""
    files, problems = expected_files(root)
    writes = {
        path: text for path, text in files.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    }
    existing = {p for p in (root / "schemas").rglob("*.json")} if (root / "schemas").is_dir() else set()
    stale = sorted(existing - set(files))
    return writes, stale, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.compile", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail if schemas/ is stale")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not (args.root / "catalog").is_dir():
        print(f"{parser.prog}: error: {args.root / 'catalog'}: no such catalog directory", file=sys.stderr)
        return 2
    try:
        writes, stale, problems = plan(args.root)
    except CatalogError as exc:  # the vocabulary itself is broken
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{len(problems)} catalog problem(s); nothing written", file=sys.stderr)
        return 1
    root: Path = args.root

    def rel(path: Path) -> str:
        return path.relative_to(root).as_posix()

    if args.check:
        for path in sorted(writes):
            print(f"stale: {rel(path)} (run python -m tools.compile)", file=sys.stderr)
        for path in stale:
            print(f"stale: {rel(path)} has no catalog source (run python -m tools.compile)", file=sys.stderr)
        return 1 if writes or stale else 0
    for path, text in sorted(writes.items()):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {rel(path)}")
    for path in stale:
        path.unlink()
        print(f"removed {rel(path)}")
        for parent in (path.parent, path.parent.parent):
            if parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
    if not writes and not stale:
        print("schemas/ is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
