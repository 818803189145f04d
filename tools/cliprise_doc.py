"""Parse the Cliprise Business API reference (plain-text capture) into model pages.

The capture flattens each page's parameter table, so enum "chips" run together
(``16:99:16Auto``). ``split_chips`` separates them by shape, by a small word
lexicon, by the values the document uses in its samples, and, where a split is
genuinely ambiguous, by ``CHIP_OVERRIDES``.

``python -m tools.cliprise_doc DOC [--enums FILE] [--json FILE]`` prints the
document's self-contradictions (see ``find_discrepancies``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

__all__ = [
    "CHIP_OVERRIDES",
    "DocModel",
    "DocParam",
    "DocVariant",
    "Discrepancy",
    "DocError",
    "PLACEHOLDERS",
    "find_discrepancies",
    "main",
    "parse_document",
    "read_doc",
    "split_chips",
]

# ElevenLabs language codes: ISO 639-1 except the 3-letter ``ceb`` and ``fil``,
# which a 2-letter split would tear apart.
_ELEVENLABS_LANGUAGES = [
    "af", "ar", "hy", "as", "az", "be", "bn", "bs", "bg", "ca", "ceb", "ny", "hr", "cs", "da", "nl", "en",
    "et", "fil", "fi", "fr", "gl", "ka", "de", "el", "gu", "ha", "he", "hi", "hu", "is", "id", "ga", "it",
    "ja", "jv", "kn", "kk", "ky", "ko", "lv", "ln", "lt", "lb", "mk", "ms", "ml", "zh", "mr", "ne", "no",
    "ps", "fa", "pl", "pt", "pa", "ro", "ru", "sr", "sd", "sk", "sl", "so", "es", "sw", "sv", "ta", "te",
    "th", "tr", "uk", "ur", "vi", "cy"
]

#: (model_id, param path) -> chip values; used only when they concatenate to the raw text.
CHIP_OVERRIDES: dict[tuple[str, str], list[str]] = {
    **{(m, "input.language_code"): _ELEVENLABS_LANGUAGES for m in (
        "elevenlabs-tts", "elevenlabs-tts-turbo", "elevenlabs-speech-to-text", "elevenlabs-v3-dialogue")},
    # "...9:1621:1": 9:16 then 21:1, not 9:162 then 1:1 (21:1 is odd but the text says so).
    ("z-image", "input.aspect_ratio"): ["4:3", "3:4", "16:9", "9:16", "21:1"],
}

#: Sample values that stand for "fill this in", not real values.
PLACEHOLDERS = frozenset({"your_value_here", "value"})

_KNOWN_RATIOS = frozenset(
    ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9", "9:21", "1:2", "2:1"])
_KNOWN_RESOLUTIONS = frozenset(["480p", "540p", "580p", "720p", "768p", "1080p", "1440p", "2160p", "1k", "2k", "4k"])
# Words the capture runs together; lower- and upper-case runs have no other boundary.
_WORDS = frozenset(
    [
        "auto", "adaptive", "jpeg", "jpg", "png", "webp", "none", "regular", "high", "medium", "low", "basic",
        "portrait", "landscape", "fun", "normal", "spicy", "image", "video", "std", "pro", "true", "false",
        "square", "square_hd", "general", "realistic", "design", "fiction", "turbo", "balanced", "quality",
        "anime"
    ])

_HEADER = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*) (string|number|integer|boolean|array|object)(?: (.*))?$")
_MAX_CHARS = re.compile(r"max\.?\s*(\d+)\s*characters", re.I)
_RANGE = re.compile(r"Min[.:]\s*(-?[\d.]+)\s*Max[.:]\s*(-?[\d.]+)(?:\s*Step:\s*([\d.]+))?", re.I)
_MAX_ITEMS = re.compile(r"max\.?\s*(\d+)\s+(?:images?|videos?|audios?|elements?)\b", re.I)
_EXACT_ITEMS = re.compile(r"^(\d+)\s+images?\s+compulsory$", re.I)
_PAGE = re.compile(r"^API Reference (Image|Video|Audio) Models (.+)$")
_CATALOG_ROW = re.compile(r"^(\S+) (image|video|audio) (.+?) Loading\.\.\. \w+$")


@dataclass
class DocParam:
    path: str                      # "input.prompt" or "aspectRatio"
    type: str
    description: str
    required: bool
    raw_constraints: str = ""
    raw_chips: str | None = None
    enum: list[Any] | None = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    max_length: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    #: the enum applies to this key of each array item (dialogue voices)
    item_enum_key: str | None = None

    @property
    def wire(self) -> str:
        return self.path.removeprefix("input.")

    @property
    def top_level(self) -> bool:
        return not self.path.startswith("input.")


@dataclass
class DocVariant:
    index: int
    params: list[DocParam]
    sample: dict[str, Any] | None
    sample_model: str | None
    nesting: str                   # input | top | mixed
    model_values: list[str] = field(default_factory=list)
    fixed: dict[str, Any] = field(default_factory=dict)   # wire name -> constant
    has_callback: bool = True
    line: int = 0

    def param(self, path: str) -> DocParam | None:
        return next((p for p in self.params if p.path == path), None)

    def sample_values(self) -> dict[str, Any]:
        """Sample body flattened to table paths (``input.x`` or top-level ``x``)."""
        out: dict[str, Any] = {}
        for key, value in (self.sample or {}).items():
            if key == "input" and isinstance(value, dict):
                out.update({f"input.{k}": v for k, v in value.items()})
            elif key not in ("model", "callBackUrl"):
                out[key] = value
        return out


@dataclass
class DocModel:
    title: str
    kind: str
    model_id: str
    variants: list[DocVariant]
    output_formats: list[str] = field(default_factory=list)
    line: int = 0


@dataclass(frozen=True)
class Discrepancy:
    model_id: str
    variant: int | None
    path: str | None
    kind: str
    detail: str

    def __str__(self) -> str:
        where = f" variant {self.variant}" if self.variant is not None else ""
        what = f" {self.path}" if self.path else ""
        return f"{self.model_id}{where}{what} [{self.kind}]: {self.detail}"


# --- chips -----------------------------------------------------------------

def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def _split_ascending(raw: str) -> list[str] | None:
    """``510`` -> 5, 10; ``00.51`` -> 0, 0.5, 1: the longest strictly rising split."""
    token = re.compile(r"0(?:\.\d+)?|[1-9]\d*(?:\.\d+)?")

    @cache
    def best(i: int, prev: float) -> tuple[str, ...] | None:
        if i == len(raw):
            return ()
        found: tuple[str, ...] | None = None
        for j in range(i + 1, len(raw) + 1):
            piece = raw[i:j]
            if not token.fullmatch(piece) or float(piece) <= prev:
                continue
            rest = best(j, float(piece))
            if rest is not None and (found is None or len(rest) + 1 > len(found)):
                found = (piece, *rest)
        return found

    result = best(0, float("-inf"))
    return list(result) if result else None


def _split_voices(raw: str) -> list[str] | None:
    """Voice names (capitalised words) followed by 20-character voice ids."""
    names = re.findall(r"[A-Z][a-z]+", re.match(r"(?:[A-Z][a-z]+)*", raw).group(0))  # type: ignore[union-attr]
    for k in range(len(names), -1, -1):
        rest = raw[sum(map(len, names[:k])):]
        if rest and len(rest) % 20 == 0 and rest.isalnum():
            return names[:k] + [rest[i:i + 20] for i in range(0, len(rest), 20)]
    return None


def _token_cost(piece: str, lexicon: frozenset[str]) -> int | None:
    """Cost of reading ``piece`` as one chip (lower is likelier); None: impossible."""
    if piece in lexicon or piece.lower() in _WORDS:
        return 1
    if m := re.fullmatch(r"(\d+):(\d+)", piece):
        if piece in _KNOWN_RATIOS:
            return 1
        return 5 if max(len(m.group(1)), len(m.group(2))) > 2 else 3
    if re.fullmatch(r"\d+[pPkK]", piece):
        return 1 if piece.lower() in _KNOWN_RESOLUTIONS else 3
    if re.fullmatch(r"(?:portrait|landscape)_\d+_\d+", piece):
        return 1
    if re.fullmatch(r"[A-Z][a-z]+", piece):
        return 3
    return None


def _segment(raw: str, lexicon: frozenset[str]) -> list[str]:
    """Cheapest segmentation; an unreadable stretch costs 4 per character."""
    n = len(raw)
    best: list[tuple[int, list[str]] | None] = [None] * (n + 1)
    best[0] = (0, [])
    for i in range(n):
        if best[i] is None:
            continue
        cost_i, parts = best[i]  # type: ignore[misc]
        for j in range(i + 1, n + 1):
            piece = raw[i:j]
            cost = _token_cost(piece, lexicon)
            if cost is None:
                cost = 4 * len(piece)
            cand = (cost_i + cost, [*parts, piece])
            cur = best[j]
            if cur is None or (cand[0], len(cand[1])) < (cur[0], len(cur[1])):
                best[j] = cand
    result = best[n]
    return result[1] if result else [raw]


def split_chips(raw: str, *, sample: Any = None, lexicon: frozenset[str] = frozenset(),
                key: tuple[str, str] | None = None) -> list[str]:
    """Split one run-together chip line into its values (as text)."""
    override = CHIP_OVERRIDES.get(key) if key else None
    if override and "".join(override) == raw:
        return list(override)
    if raw.startswith('"'):
        return re.findall(r'"([^"]*)"', raw)
    if re.fullmatch(r"(?:true|false)+", raw):
        return re.findall(r"true|false", raw)
    if re.fullmatch(r"[\d.]+", raw):
        return _split_ascending(raw) or [raw]
    if re.fullmatch(r"[A-Z0-9_]+", raw) and "_" in raw:
        return [raw]                                  # one UPPER_SNAKE constant
    if raw.isalnum() and (len(raw) > 100 or (key and key[1].endswith(("voice", "dialogue")))):
        voices = _split_voices(raw)
        if voices:
            return voices
    extra = {sample} if isinstance(sample, str) and sample not in PLACEHOLDERS else set()
    return _segment(raw, lexicon | frozenset(extra))


def _typed(values: list[str], type_: str) -> list[Any]:
    if type_ in ("number", "integer") and all(re.fullmatch(r"-?[\d.]+", v) for v in values):
        return [_number(v) for v in values]
    if type_ == "boolean" and all(v in ("true", "false") for v in values):
        return [v == "true" for v in values]
    return list(values)


# --- pages -----------------------------------------------------------------

def _parse_table(lines: list[str]) -> list[DocParam]:
    params: list[DocParam] = []
    for line in lines:
        line = line.rstrip()
        header = _HEADER.match(line)
        if header:
            desc = header.group(3) or ""
            required = False
            if m := re.search(r"\s*\b(required|optional)$", desc):
                required = m.group(1) == "required"
                desc = desc[:m.start()]
            params.append(DocParam(path=header.group(1), type=header.group(2), description=desc,
                                   required=required))
            continue
        if not params or not line:
            continue
        cur = params[-1]
        if line in ("required", "optional"):
            cur.required = line == "required"
        elif _MAX_CHARS.search(line) or _RANGE.search(line) or _MAX_ITEMS.search(line) \
                or _EXACT_ITEMS.match(line):
            cur.raw_constraints = f"{cur.raw_constraints} | {line}" if cur.raw_constraints else line
        elif not re.search(r"\s", line):
            cur.raw_chips = line if cur.raw_chips is None else cur.raw_chips + line
        else:
            cur.description = f"{cur.description} {line}".strip()
    for p in params:
        _apply_constraints(p)
    return params


def _apply_constraints(p: DocParam) -> None:
    text = p.raw_constraints
    if m := _MAX_CHARS.search(text):
        p.max_length = int(m.group(1))
    if m := _RANGE.search(text):
        p.minimum, p.maximum = _number(m.group(1)), _number(m.group(2))
        p.step = _number(m.group(3)) if m.group(3) else None
    if m := _EXACT_ITEMS.search(text):
        p.min_items = p.max_items = int(m.group(1))
    elif m := _MAX_ITEMS.search(text) or (_MAX_ITEMS.search(p.description) if p.type == "array" else None):
        p.max_items = int(m.group(1))


def _sample(lines: list[str]) -> dict[str, Any] | None:
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("-d '")), None)
    if start is None:
        return None
    body = [lines[start].split("-d '", 1)[1]]
    for ln in lines[start + 1:]:
        if ln.rstrip().endswith("}'"):
            body.append(ln.rstrip()[:-1])
            break
        body.append(ln)
    parsed = json.loads("\n".join(body))
    return parsed if isinstance(parsed, dict) else None


def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    starts = [i for i, ln in enumerate(lines) if _PAGE.match(ln)]
    if not starts:
        return []
    return list(zip(starts, [*starts[1:], len(lines)], strict=True))


def _catalog_formats(lines: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ln in lines:
        if m := _CATALOG_ROW.match(ln):
            out.setdefault(m.group(1), [f.strip() for f in m.group(3).split("/")])
    return out


def _parse_variant(index: int, lines: list[str], first_line: int) -> DocVariant:
    top = next(i for i, ln in enumerate(lines) if ln.strip() == "ParameterTypeDescription")
    end = next(i for i, ln in enumerate(lines) if ln.strip() == "Code samples")
    params = _parse_table(lines[top + 1:end])
    sample = _sample(lines[end:])
    sample_model = sample.get("model") if sample else None
    body = [p for p in params if p.path not in ("model", "callBackUrl")]
    tops = {p.top_level for p in body}
    nesting = "mixed" if len(tops) > 1 else ("top" if tops == {True} else "input")
    return DocVariant(index=index, params=params, sample=sample,
                      sample_model=sample_model if isinstance(sample_model, str) else None,
                      nesting=nesting, has_callback=any(p.path == "callBackUrl" for p in params),
                      line=first_line)


def _lexicon(models: list[DocModel]) -> frozenset[str]:
    """Values the document itself uses in its samples."""
    seen: set[str] = set()
    for m in models:
        for v in m.variants:
            for value in v.sample_values().values():
                if isinstance(value, str) and value not in PLACEHOLDERS and len(value) < 40:
                    seen.add(value)
    return frozenset(seen)


def _resolve_enums(model: DocModel, lexicon: frozenset[str]) -> None:
    for v in model.variants:
        samples = v.sample_values()
        for p in v.params:
            if p.raw_chips is None:
                continue
            if p.path == "model":
                parts = re.split(f"(?={re.escape(model.model_id)})", p.raw_chips)
                v.model_values = [x for x in parts if x] if model.model_id in p.raw_chips else [p.raw_chips]
                continue
            values = split_chips(p.raw_chips, sample=samples.get(p.path), lexicon=lexicon,
                                 key=(model.model_id, p.path))
            p.enum = _typed(values, p.type)
            if p.type == "array" and p.path.endswith("dialogue"):
                p.item_enum_key = "voice"
            # A required one-value switch (generationType, multi_shots) selects the variant.
            if len(p.enum) == 1 and p.required and (
                    p.type == "boolean" or re.fullmatch(r"[A-Z0-9]+(?:_[A-Z0-9]+)+", str(p.enum[0]))):
                v.fixed[p.wire] = p.enum[0]
        if not v.model_values and v.sample_model:
            v.model_values = [v.sample_model]


class DocError(ValueError):
    """The text is not (a readable part of) the Cliprise API reference."""


def parse_document(text: str) -> list[DocModel]:
    """Every model page of the document, in page order; ``DocError`` if it has none or one is unreadable."""
    lines = text.splitlines()
    formats = _catalog_formats(lines)
    models: list[DocModel] = []
    blocks = _blocks(lines)
    if not blocks:
        raise DocError("no model page (a line 'API Reference Image|Video|Audio Models <name>') found: "
                       "not the Cliprise API reference")
    for start, stop in blocks:
        page = lines[start:stop]
        head = _PAGE.match(page[0])
        assert head is not None
        try:
            model_id = next(ln[len("Model ID"):].strip() for ln in page if ln.startswith("Model ID"))
            starts = [i for i, ln in enumerate(page) if ln.strip() == "Endpoint"]
            variants = [_parse_variant(n, page[a:b], start + a + 1)
                        for n, (a, b) in enumerate(zip(starts, [*starts[1:], len(page)], strict=True))]
        except (StopIteration, ValueError, KeyError, IndexError, TypeError) as exc:
            # StopIteration: no "Model ID" line; the rest: a table or sample the parser cannot read
            why = "no 'Model ID' line" if isinstance(exc, StopIteration) else f"{type(exc).__name__}: {exc}"
            raise DocError(f"line {start + 1}: cannot read the page {head.group(2).strip()!r} ({why})") from None
        models.append(DocModel(title=head.group(2).strip(), kind=head.group(1).lower(), model_id=model_id,
                               variants=variants, output_formats=formats.get(model_id, []),
                               line=start + 1))
    lexicon = _lexicon(models)
    for m in models:
        _resolve_enums(m, lexicon)
    return models


def read_doc(name: str) -> list[DocModel]:
    """The models of the document at ``name`` (``-``: stdin); ``ToolError`` for a file that is not one."""
    from tools._cli import ToolError, read_text

    try:
        return parse_document(read_text(name, "document"))
    except DocError as exc:
        raise ToolError(f"{name}: {exc}") from None


# --- self-contradictions ---------------------------------------------------

def _is_media(p: DocParam) -> bool:
    return bool(re.search(r"url|image|video|audio", p.wire, re.I)) and p.max_items is not None


def _fmt(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def find_discrepancies(model: DocModel) -> list[Discrepancy]:
    """Where the page disagrees with itself (or with the document's conventions)."""
    out: list[Discrepancy] = []

    def add(v: DocVariant, path: str | None, kind: str, detail: str) -> None:
        out.append(Discrepancy(model.model_id, v.index, path, kind, detail))

    for v in model.variants:
        if v.sample_model and v.sample_model != model.model_id:
            tier = len(v.model_values) > 1 and v.sample_model in v.model_values
            add(v, "model", "model-id",
                f"page Model ID {model.model_id} but the model field sends {v.sample_model}"
                + (f" (one of {', '.join(v.model_values)})" if tier else ""))
        if v.sample_model and v.model_values and v.sample_model not in v.model_values:
            add(v, "model", "model-row", f"the table's model values lack the sample's {v.sample_model}")
        if not v.has_callback:
            add(v, "callBackUrl", "no-callback", "no callBackUrl on this page")
        samples = v.sample_values()
        table = {p.path: p for p in v.params if p.path not in ("model", "callBackUrl")}
        for path in table.keys() - samples.keys():
            add(v, path, "sample-missing", f"{table[path].wire} is in the table but not in the sample")
        for path in samples.keys() - table.keys():
            add(v, path, "sample-extra", f"{path.removeprefix('input.')} is in the sample but not in the table")
        if v.nesting == "mixed":
            for p in table.values():
                if p.top_level:
                    add(v, p.path, "placement", f"{p.wire} sits at the top level, outside input")
        for path, p in table.items():
            for kind, detail in _param_discrepancies(p, samples.get(path, ...)):
                add(v, path, kind, detail)
    return sorted(out, key=lambda d: (d.variant or 0, d.path or "", d.kind, d.detail))


def _param_discrepancies(p: DocParam, sample: Any) -> Iterator[tuple[str, str]]:
    if p.type == "string" and p.enum and all(isinstance(e, str) and e in ("true", "false") for e in p.enum):
        yield ("type", f"{p.wire} typed string but its values are true/false")
    if p.type == "string" and (p.max_items or 0) > 1:
        yield ("type", f"{p.wire} typed string but takes {p.max_items} items")
    if p.enum and p.path.endswith(("aspect_ratio", "aspectRatio", "ratio")):
        odd = [e for e in p.enum if re.fullmatch(r"\d+:\d+", str(e)) and e not in _KNOWN_RATIOS]
        if odd:
            yield ("enum-odd", f"{p.wire} lists the unusual ratio {', '.join(map(str, odd))}")
    if sample is ... or sample == ["value"] or (isinstance(sample, str) and sample in PLACEHOLDERS):
        return
    if p.item_enum_key and isinstance(sample, list):
        bad = [i.get(p.item_enum_key) for i in sample if isinstance(i, dict)
               and p.enum and i.get(p.item_enum_key) not in p.enum]
        if bad:
            yield ("sample-enum", f"sample {p.wire} uses {p.item_enum_key} {', '.join(map(str, bad))}, "
                   "not among the listed ids")
        return
    if p.enum and sample not in p.enum and str(sample) not in map(str, p.enum):
        yield ("sample-enum", f"sample sends {p.wire} {_fmt(sample)}, not one of the listed values")
    low = p.minimum is not None and isinstance(sample, (int, float)) and sample < p.minimum
    high = p.maximum is not None and isinstance(sample, (int, float)) and sample > p.maximum
    if not isinstance(sample, bool) and (low or high):
        yield ("sample-range", f"sample sends {p.wire} {sample}, outside {p.minimum}..{p.maximum}")
    if _is_media(p) and isinstance(sample, str) and not re.match(r"https?://", sample):
        yield ("sample-url", f"sample sends {p.wire} {sample!r}, not a URL")
    if p.type in ("number", "integer") and isinstance(sample, str):
        yield ("sample-type", f"{p.wire} typed {p.type} but the sample sends a string")
    if p.type == "string" and isinstance(sample, (bool, int, float)):
        yield ("sample-type", f"{p.wire} typed string but the sample sends {_fmt(sample)}")
    if p.type == "array" and not isinstance(sample, list):
        yield ("sample-type", f"{p.wire} typed array but the sample sends a single value")


# --- CLI -------------------------------------------------------------------

def _enum_lines(models: list[DocModel]) -> list[str]:
    lines = []
    for m in models:
        for v in m.variants:
            if len(v.model_values) > 1:
                lines.append(f"{m.model_id}#{v.index} model: {v.model_values}")
            for p in v.params:
                if p.enum is not None:
                    lines.append(f"{m.model_id}#{v.index} {p.path} ({p.type}) {p.raw_chips!r} -> {p.enum}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.cliprise_doc", description=__doc__.splitlines()[0])
    ap.add_argument("doc")
    ap.add_argument("--enums", help="write every parsed enum here, one per line")
    ap.add_argument("--json", help="write the whole parse here as JSON")
    args = ap.parse_args(argv)
    from tools._cli import guard

    return guard(ap.prog, lambda: _run(args.doc, args.enums, args.json))


def _run(doc: str, enums: str | None, json_out: str | None) -> int:
    models = read_doc(doc)
    if enums:
        with open(enums, "w", encoding="utf-8") as fh:
            fh.write("\n".join(_enum_lines(models)) + "\n")
    if json_out:
        with open(json_out, "w", encoding="utf-8") as fh:
            json.dump([asdict(m) for m in models], fh, indent=1, ensure_ascii=False)
    n_variants = sum(len(m.variants) for m in models)
    print(f"{len(models)} models, {n_variants} variants")
    for m in models:
        for d in find_discrepancies(m):
            print(d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
