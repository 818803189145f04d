"""Drift between the Cliprise reference and catalog YAML."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.cliprise_doc import parse_document
from tools.drift import Report, drift_report, main
from tools.import_cliprise import draft_model

FIXTURE = Path(__file__).parents[1] / "fixtures" / "cliprise" / "excerpt.txt"
DOC = FIXTURE.read_text(encoding="utf-8")

Edit = Callable[[dict[str, dict[str, Any]]], None]


@pytest.fixture
def catalog(tmp_path: Path) -> Callable[[Edit | None], Path]:
    """Write the importer's drafts for the fixture, after an optional edit."""
    def build(edit: Edit | None = None) -> Path:
        data = {m.model_id: draft_model(m)[0] for m in parse_document(DOC)}
        if edit:
            edit(data)
        for mid, model in data.items():
            (tmp_path / f"{mid}.yaml").write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
        (tmp_path / "_provider.yaml").write_text("provider: cliprise\n", encoding="utf-8")
        return tmp_path
    return build


def kinds(report: Report, explained: bool | None = None) -> set[tuple[str, str | None, str]]:
    return {(d.model, d.wire, d.kind) for d in report.differences
            if explained is None or d.explained == explained}


def test_fresh_drafts_leave_nothing_unexplained(catalog: Callable[[Edit | None], Path]) -> None:
    assert drift_report(DOC, catalog(None)).unexplained == []


def test_documented_oddities_are_listed_as_explained(catalog: Callable[[Edit | None], Path]) -> None:
    assert ("demo-clip", "generate_audio", "placement") in kinds(drift_report(DOC, catalog(None)), True)


def test_wire_values_and_to_string_are_applied_before_comparing(catalog: Callable[[Edit | None], Path]) -> None:
    assert not {k for k in kinds(drift_report(DOC, catalog(None))) if k[2] == "enum"}


def test_list_slots_compare_as_the_documented_list(catalog: Callable[[Edit | None], Path]) -> None:
    def edit(data: dict[str, dict[str, Any]]) -> None:
        data["demo-veo"]["tasks"]["frames-to-video"]["params"]["last_frame_url"]["required"] = False
    assert ("demo-veo", "imageUrls", "items") in kinds(drift_report(DOC, catalog(edit)))


def test_min_one_item_on_a_required_list_is_not_drift(catalog: Callable[[Edit | None], Path]) -> None:
    spec = draft_model(next(m for m in parse_document(DOC) if m.model_id == "demo-image"))[0]
    assert spec["tasks"]["image-to-image"]["params"]["image_urls"]["min_items"] == 1
    assert ("demo-image", "image_urls", "items") not in kinds(drift_report(DOC, catalog(None)))


def test_changed_enum_is_an_unexplained_difference(catalog: Callable[[Edit | None], Path]) -> None:
    def edit(data: dict[str, dict[str, Any]]) -> None:
        data["demo-image"]["params"]["quality"]["enum"] = ["low", "high", "ultra"]
    assert ("demo-image", "quality", "enum") in kinds(drift_report(DOC, catalog(edit)), False)


def test_note_naming_the_wire_parameter_explains_it(catalog: Callable[[Edit | None], Path]) -> None:
    def edit(data: dict[str, dict[str, Any]]) -> None:
        data["demo-image"]["params"]["quality"]["enum"] = ["low", "high", "ultra"]
        data["demo-image"]["notes"] = ["doc: quality lacks ultra; catalog: adds it"]
    assert ("demo-image", "quality", "enum") in kinds(drift_report(DOC, catalog(edit)), True)


def test_required_flag_change_is_reported(catalog: Callable[[Edit | None], Path]) -> None:
    def edit(data: dict[str, dict[str, Any]]) -> None:
        data["demo-image"]["params"]["prompt"]["required"] = False
    assert ("demo-image", "prompt", "required") in kinds(drift_report(DOC, catalog(edit)))


def test_range_change_is_reported(catalog: Callable[[Edit | None], Path]) -> None:
    def edit(data: dict[str, dict[str, Any]]) -> None:
        data["demo-image"]["params"]["seed"]["maximum"] = 5
    assert ("demo-image", "seed", "range") in kinds(drift_report(DOC, catalog(edit)))


def test_item_limit_change_is_reported(catalog: Callable[[Edit | None], Path]) -> None:
    def edit(data: dict[str, dict[str, Any]]) -> None:
        data["demo-image"]["tasks"]["image-to-image"]["params"]["image_urls"]["max_items"] = 9
    assert ("demo-image", "image_urls", "items") in kinds(drift_report(DOC, catalog(edit)))


def test_renamed_wire_parameter_is_missing_and_extra(catalog: Callable[[Edit | None], Path]) -> None:
    def edit(data: dict[str, dict[str, Any]]) -> None:
        data["demo-image"]["params"]["quality"]["wire"] = "detail"
    found = kinds(drift_report(DOC, catalog(edit)))
    assert {("demo-image", "quality", "param-missing"), ("demo-image", "detail", "param-extra")} <= found


def test_null_in_a_task_drops_the_shared_parameter(catalog: Callable[[Edit | None], Path]) -> None:
    def edit(data: dict[str, dict[str, Any]]) -> None:
        data["demo-image"]["tasks"]["text-to-image"] = {"params": {"seed": None}}
    assert ("demo-image", "seed", "param-missing") in kinds(drift_report(DOC, catalog(edit)))


def test_task_params_replace_the_shared_entry_whole(catalog: Callable[[Edit | None], Path]) -> None:
    def edit(data: dict[str, dict[str, Any]]) -> None:
        data["demo-image"]["tasks"]["text-to-image"] = {"params": {"seed": {"type": "integer"}}}
    assert ("demo-image", "seed", "range") in kinds(drift_report(DOC, catalog(edit)))


def test_removed_task_is_a_missing_variant(catalog: Callable[[Edit | None], Path]) -> None:
    def edit(data: dict[str, dict[str, Any]]) -> None:
        del data["demo-veo"]["tasks"]["frames-to-video"]
    assert ("demo-veo", None, "variant-missing") in kinds(drift_report(DOC, catalog(edit)), False)


def test_changed_fixed_value_is_reported(catalog: Callable[[Edit | None], Path]) -> None:
    def edit(data: dict[str, dict[str, Any]]) -> None:
        data["demo-veo"]["tasks"]["text-to-video"]["fixed"] = {"generationType": "TEXT_TO_VIDEO"}
    assert ("demo-veo", "generationType", "fixed") in kinds(drift_report(DOC, catalog(edit)))


def test_undocumented_task_is_an_extra_variant(catalog: Callable[[Edit | None], Path]) -> None:
    def edit(data: dict[str, dict[str, Any]]) -> None:
        data["demo-voice"]["tasks"]["dialogue"] = {"params": {"prompt": None, "voice": None, "stability": None,
                                                              "lines": {"type": "array"}}}
    assert ("demo-voice", None, "variant-extra") in kinds(drift_report(DOC, catalog(edit)))


def test_changed_model_value_is_reported(catalog: Callable[[Edit | None], Path]) -> None:
    def edit(data: dict[str, dict[str, Any]]) -> None:
        data["demo-voice"]["tasks"]["text-to-speech"]["model"] = "demo-voice-v3"
        data["demo-voice"]["notes"] = []
    assert ("demo-voice", "model", "model-value") in kinds(drift_report(DOC, catalog(edit)), False)


def test_missing_model_file_is_reported(catalog: Callable[[Edit | None], Path]) -> None:
    assert ("demo-clip", None, "model-missing") in kinds(drift_report(DOC, catalog(lambda d: d.pop("demo-clip"))))


def test_undocumented_model_file_is_reported(catalog: Callable[[Edit | None], Path]) -> None:
    def edit(data: dict[str, dict[str, Any]]) -> None:
        data["demo-new"] = {**data["demo-clip"], "id": "demo-new", "notes": []}
    assert ("demo-new", None, "model-extra") in kinds(drift_report(DOC, catalog(edit)), False)


def test_cli_exits_zero_when_everything_is_explained(catalog: Callable[[Edit | None], Path],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(FIXTURE), "--catalog", str(catalog(None))]) == 0


def test_cli_exits_one_on_unexplained_drift(catalog: Callable[[Edit | None], Path],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    root = catalog(lambda d: d["demo-image"]["params"].pop("seed"))
    assert main([str(FIXTURE), "--catalog", str(root)]) == 1
    assert "unexplained: " in capsys.readouterr().out
