"""YAML for the catalog: JSON values only, each with the line it was written on.

PyYAML's C parser (``CSafeLoader``) composes the node tree when libyaml is present (the
pure-Python one otherwise, same result); values are then built here from the nodes, so
that the catalog refuses what YAML 1.1 would silently reinterpret and what JSON cannot
hold, and records the line of every key and list item for error messages:

* duplicate keys (PyYAML keeps the last one, so a whole task could vanish);
* ``yes``/``no``/``on``/``off`` (YAML 1.1 booleans: ``required: yes``), base-60 numbers
  (an unquoted ``16:9`` is the integer 969), dates and times, ``.nan``/``.inf``,
  ``!!binary``, sets and any other tag; keys that are not strings; merge keys (``<<``);
* an empty document, nesting deeper than ``MAX_DEPTH``, more than ``MAX_VALUES`` values
  (aliases expanding exponentially).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["MAX_DEPTH", "MAX_VALUES", "Loaded", "YamlProblem", "load_json_yaml"]

MAX_DEPTH = 64
MAX_VALUES = 1_000_000

#: the C parser when PyYAML was built with libyaml (several times faster: bench/README.md), else the pure-Python one
_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"

_INT_RE = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)")
_FLOAT_RE = re.compile(r"[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+")


class YamlProblem(Exception):
    """A file that is not valid catalog YAML; ``line`` is 1-based, or None; ``path`` is where in
    the document (keys and list positions), empty when it is the document or its syntax."""

    def __init__(self, message: str, line: int | None = None, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.path = path


@dataclass
class Loaded:
    """A document's value and the line of each key and list item (by JSON path of the value)."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor written in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


def load_json_yaml(text: str) -> Loaded:
    """Parse one YAML document holding only JSON values; raise ``YamlProblem`` otherwise."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlProblem(f"not valid YAML: {exc}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML: {exc}") from None
    except RecursionError:
        raise YamlProblem(f"not valid YAML: nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()
    if node is None:
        raise YamlProblem("the file is empty (no YAML document, only comments or blank lines)", 1)
    builder = _Builder()
    data = builder.build(node, (), 0)
    builder.lines[()] = node.start_mark.line + 1
    return Loaded(data, builder.lines)


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


class _Builder:
    def __init__(self) -> None:
        self.lines: dict[Path, int] = {}
        self.count = 0

    def build(self, node: Node, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise YamlProblem(f"more than {MAX_VALUES} values (aliases expanding?)", _line(node), path)
        if depth > MAX_DEPTH:
            raise YamlProblem(f"nested deeper than {MAX_DEPTH} levels", _line(node), path)
        if isinstance(node, ScalarNode):
            try:
                return _scalar(node)
            except YamlProblem as exc:
                exc.path = path
                raise
        if isinstance(node, SequenceNode) and node.tag == _SEQ:
            out = []
            for index, item in enumerate(node.value):
                where = (*path, index)
                self.lines[where] = _line(item)
                out.append(self.build(item, where, depth + 1))
            return out
        if isinstance(node, MappingNode) and node.tag == _MAP:
            return self._mapping(node, path, depth)
        raise YamlProblem(f"{node.tag} is not a JSON value", _line(node), path)

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                raise YamlProblem("merge keys (<<) are not supported: write the keys out", _line(key_node), path)
            if not isinstance(key_node, ScalarNode) or key_node.tag != _STR:
                shown = key_node.value if isinstance(key_node, ScalarNode) else key_node.tag
                raise YamlProblem(f"key {shown!r} is not a string: quote it", _line(key_node), path)
            key = key_node.value
            if key in seen:
                raise YamlProblem(f"duplicate key {key!r} (first on line {seen[key]})", _line(key_node),
                                  (*path, key))
            seen[key] = _line(key_node)
            where = (*path, key)
            self.lines[where] = _line(key_node)
            out[key] = self.build(value_node, where, depth + 1)
        return out


def _scalar(node: ScalarNode) -> Any:
    tag, text = node.tag, node.value
    if tag == _STR:
        return text
    if tag == _NULL:
        return None
    if tag == _BOOL:
        if text in ("true", "True", "TRUE"):
            return True
        if text in ("false", "False", "FALSE"):
            return False
        raise YamlProblem(f"{text!r} is a YAML 1.1 boolean: write true or false, or quote it for a string",
                          _line(node))
    if tag == _INT:
        if not _INT_RE.fullmatch(text):
            raise YamlProblem(f"{text!r} is a YAML 1.1 number (base 60, octal, hex or binary): "
                              f"write a decimal, or quote it for a string", _line(node))
        return int(text.replace("_", ""))
    if tag == _FLOAT:
        if not _FLOAT_RE.fullmatch(text):
            raise YamlProblem(f"{text!r} is not a JSON number (NaN, infinity or base 60): "
                              f"write a finite decimal, or quote it for a string", _line(node))
        value = float(text.replace("_", ""))
        if not math.isfinite(value):
            raise YamlProblem(f"{text!r} is not a finite number", _line(node))
        return value
    if tag == _TIMESTAMP:
        raise YamlProblem(f"{text!r} reads as a date or time, which JSON has not: quote it", _line(node))
    raise YamlProblem(f"{tag} is not a JSON value", _line(node))
