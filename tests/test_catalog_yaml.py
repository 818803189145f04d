"""Catalog YAML: JSON values only, every mistake reported with its file and line, never a traceback.

Covers the loader (genwire/catalog/_yaml.py) through ``Catalog.load``, as a maintainer meets it, on both
PyYAML parsers (the C one when present, the pure-Python one otherwise).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from genwire import Catalog, CatalogError
from genwire.catalog import _yaml
from genwire.catalog._compile import compile_catalog, render

REPO = Path(__file__).resolve().parent.parent

VALID = """\
id: demo-model
name: Demo
kind: image
output: {kind: image}
tasks:
  text-to-image:
    params:
      prompt: {type: string, required: true}
"""

PARSERS = [pytest.param(yaml.SafeLoader, id="pure-python")]
if yaml.__with_libyaml__:
    PARSERS.insert(0, pytest.param(yaml.CSafeLoader, id="libyaml"))


@pytest.fixture(params=PARSERS)
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[type]:
    monkeypatch.setattr(_yaml, "_Loader", request.param)
    yield request.param


def _load(tmp_path: Path, text: str | bytes, name: str = "demo-model.yaml") -> CatalogError:
    (tmp_path / "cliprise").mkdir(exist_ok=True)
    path = tmp_path / "cliprise" / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(CatalogError) as info:
        Catalog.load(tmp_path)
    return info.value


def _only(err: CatalogError) -> tuple[str, int | None, str, str]:
    [problem] = err.problems  # type: ignore[attr-defined]
    return problem.file, problem.line, problem.field, problem.message


def test_the_c_parser_is_used_when_pyyaml_has_libyaml() -> None:
    assert _yaml._Loader is (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)


def test_both_parsers_compile_the_bundled_catalog_to_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = []
    for loader in (yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        monkeypatch.setattr(_yaml, "_Loader", loader)
        compiled, problems = compile_catalog(REPO / "catalog", relative_to=REPO)
        assert problems == []
        outputs.append(render(compiled))
    assert outputs[0] == outputs[1]
    assert outputs[1]["index.json"] == (REPO / "schemas" / "index.json").read_text(encoding="utf-8")


def test_a_meta_schema_mistake_names_file_and_line_of_the_key(tmp_path: Path, parser: type) -> None:
    text = VALID + "      steps: {type: integer, maxmum: 50}\n"
    err = _load(tmp_path, text)
    assert _only(err)[:3] == ("cliprise/demo-model.yaml", 9, "$.tasks['text-to-image'].params.steps.maxmum")
    assert err.line == 9 and "cliprise/demo-model.yaml:9:" in str(err)


def test_a_lint_mistake_names_its_line(tmp_path: Path, parser: type) -> None:
    err = _load(tmp_path, VALID + "      aspect_ration: {type: string}\n")
    assert _only(err)[:3] == ("cliprise/demo-model.yaml", 9, "$.tasks['text-to-image'].params.aspect_ration")


def test_a_model_level_parameter_mistake_is_reported_once_where_it_is_written(tmp_path: Path, parser: type) -> None:
    text = """\
id: demo-model
name: Demo
kind: image
output: {kind: image}
params:
  prompt: {type: string, required: true}
  style: {type: string, enum: [a, b], default: c}
tasks:
  text-to-image: {}
  image-to-image:
    params:
      image_urls: {type: array, items: {type: url}, required: true}
"""
    err = _load(tmp_path, text)
    assert _only(err)[:3] == ("cliprise/demo-model.yaml", 7, "$.params.style.default")


@pytest.mark.parametrize(("text", "line", "message"), [
    pytest.param(VALID + "      prompt: {type: string}\n", 9, "duplicate key 'prompt' (first on line 8)",
                 id="duplicate-parameter"),
    pytest.param(VALID + "  text-to-image:\n    params: {}\n", 9, "duplicate key 'text-to-image'",
                 id="duplicate-task"),
    pytest.param(VALID.replace("required: true", "required: yes"), 8, "YAML 1.1 boolean", id="required-yes"),
    pytest.param(VALID.replace("required: true", "required: Off"), 8, "YAML 1.1 boolean", id="required-off"),
    pytest.param(VALID + "      aspect_ratio: {type: string, enum: [16:9, 1:1]}\n", 9, "base 60",
                 id="unquoted-ratio"),
    pytest.param(VALID + "      seed: {type: integer, maximum: 0x10}\n", 9, "YAML 1.1 number", id="hex"),
    pytest.param(VALID + "      seed: {type: integer, maximum: .nan}\n", 9, "not a JSON number", id="nan-bound"),
    pytest.param(VALID + "      seed: {type: integer, minimum: -.inf}\n", 9, "not a JSON number", id="inf-bound"),
    pytest.param(VALID + "notes: [2024-01-02]\n", 9, "date or time", id="date"),
    pytest.param(VALID + "notes: [!!binary aGVsbG8=]\n", 9, "binary is not a JSON value", id="binary"),
    pytest.param(VALID + "notes: !!set {a}\n", 9, "set is not a JSON value", id="set"),
    pytest.param(VALID + "      seed: {type: integer, 5: x}\n", 9, "key '5' is not a string", id="int-key"),
    pytest.param("base: &b {kind: image}\n" + VALID.replace("output: {kind: image}", "output: {<<: *b}"), 5,
                 "merge keys", id="merge-key"),
    pytest.param("", 1, "the file is empty", id="empty"),
    pytest.param("# a model, some day\n\n# TODO\n", 1, "the file is empty", id="comments-only"),
    pytest.param("id: demo-model\nname: [unclosed\n", 3, "not valid YAML", id="bad-syntax"),
    pytest.param("id: a\n---\nid: b\n", 2, "not valid YAML", id="two-documents"),
])
def test_yaml_that_is_not_plain_json_is_refused_at_its_line(tmp_path: Path, parser: type, text: str, line: int,
                                                              message: str) -> None:
    file, at, _, got = _only(_load(tmp_path, text))
    assert file == "cliprise/demo-model.yaml"
    assert message in got
    assert at == line


@pytest.mark.parametrize("text", [
    pytest.param("id: " + "[" * 200 + "]" * 200 + "\n", id="flow-200"),
    pytest.param("id: " + "[" * 1500 + "]" * 1500 + "\n", id="flow-1500"),
    pytest.param("".join(" " * i + "k:\n" for i in range(300)) + " " * 300 + "k: 1\n", id="block-300"),
    pytest.param("".join(" " * i + "k:\n" for i in range(3000)) + " " * 3000 + "k: 1\n", id="block-3000"),
])
def test_deep_nesting_is_a_catalog_error_naming_the_file(tmp_path: Path, parser: type, text: str) -> None:
    file, _, _, message = _only(_load(tmp_path, text))
    assert file == "cliprise/demo-model.yaml"
    assert "nest" in message


def test_aliases_expanding_past_the_limit_are_refused(tmp_path: Path, parser: type,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_yaml, "MAX_VALUES", 10_000)
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 9)]
    _, _, _, message = _only(_load(tmp_path, "\n".join(lines) + "\n"))
    assert "more than 10000 values" in message


def test_a_directory_named_like_a_model_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "cliprise" / "odd.yaml").mkdir(parents=True)
    err = _load(tmp_path, VALID)
    assert _only(err)[0::3] == ("cliprise/odd.yaml", "is a directory, not a YAML file")


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_a_dangling_symlink_is_reported(tmp_path: Path) -> None:
    (tmp_path / "cliprise").mkdir()
    (tmp_path / "cliprise" / "gone.yaml").symlink_to(tmp_path / "nowhere.yaml")
    err = _load(tmp_path, VALID)
    file, _, _, message = _only(err)
    assert file == "cliprise/gone.yaml" and "no such file" in message


def test_a_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    file, _, _, message = _only(_load(tmp_path, "id: caf\xe9\n".encode("latin-1")))
    assert file == "cliprise/demo-model.yaml" and "not UTF-8" in message


def test_yaml_12_spellings_still_load(tmp_path: Path, parser: type) -> None:
    text = VALID + ("      seed: {type: integer, minimum: -5, maximum: 1_000}\n"
                    "      strength: {type: number, minimum: 0.0, maximum: 1.5e+1}\n"
                    "      enhance_prompt: {type: boolean, default: False}\n"
                    "      aspect_ratio: {type: string, enum: ['16:9', 'yes']}\n")
    (tmp_path / "cliprise").mkdir()
    (tmp_path / "cliprise" / "demo-model.yaml").write_text(text, encoding="utf-8")
    params = Catalog.load(tmp_path).task("cliprise", "demo-model", "text-to-image").params
    assert params["seed"].spec["maximum"] == 1000 and params["strength"].spec["maximum"] == 15.0
    assert params["enhance_prompt"].default is False and params["aspect_ratio"].enum == ("16:9", "yes")


def test_a_refused_yaml_value_names_its_field(tmp_path: Path, parser: type) -> None:
    err = _load(tmp_path, VALID.replace("required: true", "required: yes"))
    assert _only(err)[:3] == ("cliprise/demo-model.yaml", 8, "$.tasks['text-to-image'].params.prompt.required")
