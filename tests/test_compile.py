"""The catalog compiler: deterministic output, precise staleness checks, mistakes named by file/model/field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from genwire import Catalog, CatalogError
from tools import compile as compiler

REPO = compiler.ROOT


def _copy_repo(dest: Path) -> Path:
    """A tmp copy of catalog/ and schemas/: enough for tools.compile to run on."""
    shutil.copytree(REPO / "catalog", dest / "catalog")
    shutil.copytree(REPO / "schemas", dest / "schemas")
    return dest


def _tree(root: Path) -> dict[str, bytes]:
    files = [p for p in (root / "schemas").rglob("*") if p.is_file()] + [root / "catalog" / "README.md"]
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


# -- the repository itself ---------------------------------------------------------------------

def test_committed_schemas_match_the_catalog() -> None:
    writes, stale, problems = compiler.plan(REPO)
    assert problems == []
    assert sorted(p.relative_to(REPO).as_posix() for p in writes) == []
    assert stale == []


# -- determinism --------------------------------------------------------------------------------

def test_compiling_into_two_fresh_dirs_gives_identical_bytes(tmp_path: Path) -> None:
    trees = []
    for name in ("one", "two"):
        root = tmp_path / name
        shutil.copytree(REPO / "catalog", root / "catalog")
        assert compiler.main(["--root", str(root)]) == 0
        trees.append(_tree(root))
    assert trees[0] == trees[1]
    assert {"schemas/index.json", "schemas/clipia/models.json", "schemas/cliprise/models.json"} <= set(trees[0])


def test_fresh_compile_reproduces_the_committed_schemas(tmp_path: Path) -> None:
    shutil.copytree(REPO / "catalog", tmp_path / "catalog")
    assert compiler.main(["--root", str(tmp_path)]) == 0
    assert _tree(tmp_path) == _tree(REPO)


def test_second_compile_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _copy_repo(tmp_path)
    _edit(root / "catalog/cliprise/wan-2-5.yaml", "max_length: 800", "max_length: 700")
    assert compiler.main(["--root", str(root)]) == 0
    before = _tree(root)
    capsys.readouterr()
    assert compiler.main(["--root", str(root)]) == 0
    assert "up to date" in capsys.readouterr().out
    assert _tree(root) == before


# -- one edit changes exactly the affected files ------------------------------------------------------

@pytest.mark.parametrize(
    ("file", "old", "new", "affected"),
    [
        pytest.param(
            "clipia/seedance-2-fast-i2v.yaml", "default: 4", "default: 8",
            # defaults live in the input schema only; the wire schema is unchanged
            {"schemas/clipia/seedance-2-fast-i2v/image-to-video.input.json", "schemas/clipia/models.json"},
            id="default-touches-input-schema-only",
        ),
        pytest.param(
            "cliprise/veo-3-fast.yaml", "maximum: 99999", "maximum: 99998",
            # a model-level parameter reaches every task, input and wire
            {f"schemas/cliprise/veo-3-fast/{t}.{s}.json"
             for t in ("text-to-video", "frames-to-video", "reference-to-video") for s in ("input", "wire")}
            | {"schemas/cliprise/models.json"},
            id="shared-param-touches-every-task",
        ),
        pytest.param(
            "cliprise/wan-2-5.yaml", 'enum: ["16:9", "9:16", "1:1"]', 'enum: ["16:9", "9:16"]',
            {"schemas/cliprise/wan-2-5/text-to-video.input.json",
             "schemas/cliprise/wan-2-5/text-to-video.wire.json", "schemas/cliprise/models.json"},
            id="task-param-touches-one-task",
        ),
        pytest.param(
            "cliprise/nano-banana.yaml", "      image_urls:\n", "      image_urls:\n        wire: image_input\n",
            {"schemas/cliprise/nano-banana/image-to-image.wire.json", "schemas/cliprise/models.json"},
            id="wire-name-touches-wire-schema-only",
        ),
    ],
)
def test_one_yaml_edit_rewrites_exactly_the_affected_files(
    tmp_path: Path, file: str, old: str, new: str, affected: set[str],
) -> None:
    root = _copy_repo(tmp_path)
    _edit(root / "catalog" / file, old, new)
    writes, stale, problems = compiler.plan(root)
    assert problems == []
    assert stale == []
    assert {p.relative_to(root).as_posix() for p in writes} == affected


def test_renaming_a_task_param_updates_the_catalog_page(tmp_path: Path) -> None:
    root = _copy_repo(tmp_path)
    _edit(root / "catalog/cliprise/elevenlabs-v3-dialogue.yaml", "language_code:", "language_tag:")
    writes, _, problems = compiler.plan(root)
    assert problems == []
    assert root / "catalog/README.md" in writes


# -- --check ------------------------------------------------------------------------------------------

def test_check_passes_on_fresh_schemas(tmp_path: Path) -> None:
    root = _copy_repo(tmp_path)
    assert compiler.main(["--check", "--root", str(root)]) == 0


def test_check_fails_on_stale_schema_and_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _copy_repo(tmp_path)
    _edit(root / "catalog/cliprise/wan-2-5.yaml", "max_length: 500", "max_length: 400")
    before = _tree(root)
    assert compiler.main(["--check", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "stale: schemas/cliprise/wan-2-5/text-to-video.input.json" in err
    assert _tree(root) == before, "--check must not write"


def test_check_fails_on_hand_edited_schema(tmp_path: Path) -> None:
    root = _copy_repo(tmp_path)
    target = root / "schemas/clipia/nano-banana-2/text-to-image.wire.json"
    target.write_text(target.read_text(encoding="utf-8") + " ", encoding="utf-8")
    assert compiler.main(["--check", "--root", str(root)]) == 1


def test_check_fails_on_orphan_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _copy_repo(tmp_path)
    orphan = root / "schemas/cliprise/retired-model/text-to-image.input.json"
    orphan.parent.mkdir(parents=True)
    orphan.write_text("{}\n", encoding="utf-8")
    _, stale, _ = compiler.plan(root)
    assert stale == [orphan]
    assert compiler.main(["--check", "--root", str(root)]) == 1
    assert "retired-model" in capsys.readouterr().err


def test_compile_removes_orphans_and_their_empty_dirs(tmp_path: Path) -> None:
    root = _copy_repo(tmp_path)
    orphan = root / "schemas/cliprise/retired-model/text-to-image.input.json"
    orphan.parent.mkdir(parents=True)
    orphan.write_text("{}\n", encoding="utf-8")
    assert compiler.main(["--root", str(root)]) == 0
    assert not orphan.parent.exists()
    assert compiler.main(["--check", "--root", str(root)]) == 0


def test_check_fails_on_lint_problem_and_writes_nothing(tmp_path: Path) -> None:
    root = _copy_repo(tmp_path)
    _edit(root / "catalog/cliprise/wan-2-5.yaml", "  negative_prompt:", "  negative_promt:")
    before = _tree(root)
    assert compiler.main(["--root", str(root)]) == 1
    assert compiler.main(["--check", "--root", str(root)]) == 1
    assert _tree(root) == before


# -- malformed YAML names file, model and field ----------------------------------------------------------

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


def _with_param(line: str) -> str:
    return VALID + "      " + line + "\n"


MALFORMED = [
    pytest.param("id: demo-model\nname: [unclosed\n", "$", "not valid YAML", id="bad-syntax"),
    pytest.param(VALID.replace("kind: image\n", "kind: image\nflavour: sweet\n", 1), "$.flavour",
                 "unknown field", id="unknown-top-level-field"),
    pytest.param(_with_param("steps: {type: integer, maxmum: 50}"),
                 "$.tasks['text-to-image'].params.steps.maxmum", "did you mean 'maximum'", id="unknown-param-field"),
    pytest.param(_with_param("steps: {type: integer, maximum: fifty}"),
                 "$.tasks['text-to-image'].params.steps.maximum", "not of type 'number'", id="wrong-type"),
    pytest.param(VALID.replace("kind: image\n", "kind: picture\n", 1), "$.kind", "not one of", id="bad-kind"),
    pytest.param(_with_param("style: {type: string, enum: []}"),
                 "$.tasks['text-to-image'].params.style.enum", "non-empty", id="enum-without-values"),
    pytest.param(VALID.replace("text-to-image:", "text-to-imag:"), "$.tasks['text-to-imag']",
                 "did you mean 'text-to-image'", id="unknown-task"),
    pytest.param(_with_param("aspect_ration: {type: string}"),
                 "$.tasks['text-to-image'].params.aspect_ration", "canonical 'aspect_ratio'", id="near-miss-name"),
    pytest.param(_with_param("ratio_x: {type: string, wire: aspectRatio}"),
                 "$.tasks['text-to-image'].params.ratio_x", "name the parameter 'aspect_ratio'",
                 id="wire-alias-misnamed"),
    pytest.param(_with_param("style: {type: string, enum: [a, b], default: c}"),
                 "$.tasks['text-to-image'].params.style.default", "not one of the enum values",
                 id="default-outside-enum"),
    pytest.param(_with_param("image_urls: {type: array, items: {type: url}, transform: first}"),
                 "$.tasks['text-to-image'].params.image_urls.transform", "max_items: 1",
                 id="first-without-max-items-1"),
    pytest.param(_with_param("seed: {type: string}"),
                 "$.tasks['text-to-image'].params.seed.type", "canonical 'seed' is integer", id="canonical-wrong-type"),
    pytest.param(_with_param("steps: {type: integer, minimum: 9, maximum: 3}"),
                 "$.tasks['text-to-image'].params.steps.minimum", "above maximum", id="inverted-range"),
    pytest.param(_with_param("style: {type: string}\n      mode: {type: string, wire: style}"),
                 "$.tasks['text-to-image'].params.mode.wire", "also used by style", id="duplicate-wire-name"),
]


def _load_one(tmp_path: Path, text: str, file_name: str = "demo-model.yaml") -> CatalogError:
    (tmp_path / "cliprise").mkdir()
    (tmp_path / "cliprise" / file_name).write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        Catalog.load(tmp_path)
    return info.value


@pytest.mark.parametrize(("text", "field", "message"), MALFORMED)
def test_malformed_model_names_file_model_and_field(tmp_path: Path, text: str, field: str, message: str) -> None:
    err = _load_one(tmp_path, text)
    assert (err.file, err.model, err.field) == ("cliprise/demo-model.yaml", "demo-model", field)
    assert len(err.problems) == 1  # type: ignore[attr-defined]
    problem = err.problems[0]  # type: ignore[attr-defined]
    assert (problem.file, problem.model, problem.field) == (err.file, err.model, err.field)
    assert message in problem.message
    assert field in str(err) and "cliprise/demo-model.yaml" in str(err)


def test_file_name_must_equal_id(tmp_path: Path) -> None:
    err = _load_one(tmp_path, VALID, file_name="other-name.yaml")
    assert (err.file, err.model, err.field) == ("cliprise/other-name.yaml", "demo-model", "$.id")


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    text = _with_param("aspect_ration: {type: string}") + "      style: {type: string, enum: [a], default: b}\n"
    err = _load_one(tmp_path, text)
    fields = {p.field for p in err.problems}  # type: ignore[attr-defined]
    assert fields == {"$.tasks['text-to-image'].params.aspect_ration",
                      "$.tasks['text-to-image'].params.style.default"}


def test_problems_across_files_are_all_reported(tmp_path: Path) -> None:
    (tmp_path / "cliprise").mkdir()
    (tmp_path / "cliprise" / "demo-model.yaml").write_text(VALID.replace("kind: image", "kind: x"), encoding="utf-8")
    (tmp_path / "cliprise" / "other.yaml").write_text(VALID.replace("demo-model", "other").replace(
        "name: Demo\n", "name: Demo\nflavour: 1\n"), encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        Catalog.load(tmp_path)
    assert {p.file for p in info.value.problems} == {  # type: ignore[attr-defined]
        "cliprise/demo-model.yaml", "cliprise/other.yaml"}


def test_family_with_two_kinds_is_refused(tmp_path: Path) -> None:
    (tmp_path / "cliprise").mkdir()
    (tmp_path / "cliprise" / "demo-model.yaml").write_text(
        VALID.replace("kind: image\n", "kind: video\nfamily: demo\n"), encoding="utf-8")
    (tmp_path / "cliprise" / "demo-still.yaml").write_text(
        VALID.replace("demo-model", "demo-still").replace("kind: image\n", "kind: image\nfamily: demo\n", 1),
        encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        Catalog.load(tmp_path)
    assert info.value.field == "$.family"
    assert info.value.file in {"cliprise/demo-model.yaml", "cliprise/demo-still.yaml"}


def test_unknown_provider_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "demo-model.yaml").write_text(VALID, encoding="utf-8")
    with pytest.raises(CatalogError, match=r"no _provider\.yaml"):
        Catalog.load(tmp_path)


def test_load_refuses_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(CatalogError):
        Catalog.load(tmp_path / "nope")


def test_compile_cli_prints_problems_with_file_model_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    root = _copy_repo(tmp_path)
    _edit(root / "catalog/cliprise/wan-2-5.yaml", "  negative_prompt:", "  negative_promt:")
    assert compiler.main(["--check", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "catalog/cliprise/wan-2-5.yaml" in err and "model wan-2-5" in err and "negative_promt" in err
