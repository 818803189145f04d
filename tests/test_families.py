"""Family inputs that travel: a common input every member accepts, member mappings as catalog
data, and a word for every member a family request skips."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genwire import Catalog, CatalogError, GenerationRequest, InvalidInputError
from genwire.testing import FakeProviders
from genwire.testing.strategies import family_inputs

CATALOG = Catalog.default()
FAMILY_TASKS = [(family, task) for family in sorted(CATALOG.families()) for task in CATALOG.family_tasks(family)]


def _members(family: str, task: str) -> set[str]:
    return {f"{s.provider}/{s.id}" for s in CATALOG.families()[family] if task in s.tasks}


def test_every_family_declares_a_common_input_for_every_task_a_member_offers() -> None:
    for family, specs in CATALOG.families().items():
        offered = {task for spec in specs for task in spec.tasks}
        assert offered == set(CATALOG.family_tasks(family)), family


def _accepted_by_every_member(family: str, task: str, value: dict[str, object]) -> None:
    CATALOG.validate_family(family, task, value)
    resolved = CATALOG.resolve(GenerationRequest(family=family, task=task, input=value))
    assert {f"{r.spec.provider}/{r.spec.id}" for r in resolved} == _members(family, task)
    assert all(not r.warnings for r in resolved)


@pytest.mark.parametrize(("family", "task"), FAMILY_TASKS, ids=[f"{f}/{t}" for f, t in FAMILY_TASKS])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_an_input_valid_under_the_common_schema_is_accepted_by_every_member(
        family: str, task: str, data: st.DataObject) -> None:
    _accepted_by_every_member(family, task, data.draw(family_inputs(family, task)))


@pytest.mark.slow
@pytest.mark.parametrize(("family", "task"), FAMILY_TASKS, ids=[f"{f}/{t}" for f, t in FAMILY_TASKS])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_exhaustively_every_common_input_is_accepted_by_every_member(
        family: str, task: str, data: st.DataObject) -> None:
    _accepted_by_every_member(family, task, data.draw(family_inputs(family, task)))


def test_the_common_schema_is_offered_as_json_schema() -> None:
    schema = CATALOG.family_input_schema("seedance-2-fast", "text-to-video")
    assert schema["properties"]["duration"]["enum"] == [4, 8] and schema["required"] == ["prompt"]
    with pytest.raises(InvalidInputError) as info:
        CATALOG.validate_family("seedance-2-fast", "text-to-video", {"prompt": "a fox", "duration": 5})
    assert [v.path for v in info.value.violations] == ["$.duration"]


def test_the_issues_seedance_input_now_reaches_both_providers() -> None:
    # refused by Clipia (duration) and by Cliprise (generate_audio, resolution required) before
    resolved = CATALOG.resolve(GenerationRequest(family="seedance-2-fast", task="text-to-video",
                                                 input={"prompt": "a fox", "duration": 8}))
    assert [r.spec.provider for r in resolved] == ["clipia", "cliprise"]
    assert resolved[1].input == {"prompt": "a fox", "duration": 8, "resolution": "720p", "generate_audio": False}


def test_a_skipped_member_is_named_with_its_reason_on_the_job() -> None:
    fakes = FakeProviders()
    with fakes.client(providers=["clipia", "cliprise"]) as client:
        job = client.run(GenerationRequest(family="seedance-2-fast", task="text-to-video",
                                           input={"prompt": "a fox", "duration": 5}), timeout=30)
    assert job.provider == "cliprise"
    [warning] = [w for w in job.warnings if w.code == "member_skipped"]
    assert warning.message == "clipia/seedance-2-fast-t2v skipped: $.duration: 5 is not one of [4, 8]"


def test_a_value_a_member_lacks_skips_it_with_the_reason() -> None:
    [resolved] = CATALOG.resolve(GenerationRequest(family="seedance-2-fast", task="text-to-video",
                                                   input={"prompt": "a fox", "generate_audio": True}))
    assert resolved.spec.provider == "cliprise"
    assert "it has no 'generate_audio' (it behaves as generate_audio=false)" in resolved.warnings[0].message


def test_when_every_member_is_skipped_the_error_says_why_for_each() -> None:
    with pytest.raises(InvalidInputError) as info:
        CATALOG.resolve(GenerationRequest(family="seedance-2-fast", task="text-to-video",
                                          input={"prompt": "a fox", "duration": 20}))
    assert [str(v) for v in info.value.violations] == [
        "$.duration: clipia/seedance-2-fast-t2v: 20 is not one of [4, 8]",
        "$.duration: cliprise/seedance-2-fast: 20 is greater than the maximum of 15"]


def test_a_families_file_naming_a_model_outside_the_family_is_a_catalog_error(tmp_path: Path) -> None:
    (tmp_path / "families.yaml").write_text(
        "nano-banana-2:\n  text-to-image:\n    params: {prompt: {type: string, required: true}}\n"
        "    members: {clipia/nano-banana-2: {}, cliprise/nano-banana-2: {}, cliprise/veo-3-fast: {}}\n",
        encoding="utf-8")
    with pytest.raises(CatalogError, match="cliprise/veo-3-fast is not a member of 'nano-banana-2'"):
        Catalog.load(tmp_path)
