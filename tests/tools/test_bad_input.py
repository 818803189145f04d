"""Every maintainer tool answers bad input with one clear line on stderr and exit status 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tools import cliprise_doc, compile, drift, import_clipia, import_cliprise

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CLIPRISE_DOC = next((FIXTURES / "cliprise").glob("*.txt"))

Main = Callable[[list[str]], int]


def _files(tmp_path: Path) -> dict[str, str]:
    files = {
        "page": "<html><body>Clipia pricing</body></html>\n",
        "broken_json": "{\"slug\": ",
        "list_json": "[1, 2]\n",
        "other_json": "{\"data\": []}\n",
        "latin1": "caf\xe9",
    }
    for name, text in files.items():
        (tmp_path / name).write_bytes(text.encode("latin-1"))
    (tmp_path / "folder").mkdir()
    return {name: str(tmp_path / name) for name in [*files, "folder", "missing"]}


CASES: list[tuple[str, Main, list[str], str]] = [
    ("import_cliprise: a page that is not the Cliprise reference", import_cliprise.main,
     ["{page}", "--out", "{tmp}/out"], "not the Cliprise API reference"),
    ("import_cliprise: missing file", import_cliprise.main, ["{missing}", "--out", "{tmp}/out"], "no such document"),
    ("import_cliprise: a directory", import_cliprise.main, ["{folder}", "--out", "{tmp}/out"], "is a directory"),
    ("import_cliprise: not UTF-8", import_cliprise.main, ["{latin1}", "--out", "{tmp}/out"], "not UTF-8"),
    ("import_cliprise: unknown model", import_cliprise.main,
     [str(CLIPRISE_DOC), "--model", "no-such-model", "--out", "{tmp}/out"], "no such model: no-such-model"),
    ("import_clipia: not JSON", import_clipia.main, ["{broken_json}"], "not JSON"),
    ("import_clipia: a JSON list", import_clipia.main, ["{list_json}"], "expected one model object"),
    ("import_clipia: another reply", import_clipia.main, ["{other_json}"], "not an image, video or audio model"),
    ("import_clipia: missing file", import_clipia.main, ["{missing}"], "no such model JSON file"),
    ("drift: a page that is not the Cliprise reference", drift.main, ["{page}", "--catalog", "{tmp}"],
     "not the Cliprise API reference"),
    ("drift: missing file", drift.main, ["{missing}", "--catalog", "{tmp}"], "no such document"),
    ("drift: missing catalog", drift.main, [str(CLIPRISE_DOC), "--catalog", "{missing}"],
     "no such catalog directory"),
    ("cliprise_doc: not JSON-free text either", cliprise_doc.main, ["{broken_json}"],
     "not the Cliprise API reference"),
    ("compile: no catalog under the root", compile.main, ["--root", "{missing}"], "no such catalog directory"),
]


@pytest.mark.parametrize(("main", "argv", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gives_one_line_and_exit_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    main: Main, argv: list[str], message: str) -> None:
    names = {**_files(tmp_path), "tmp": str(tmp_path)}
    code = main([arg.format(**names) for arg in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert message in err and err.startswith("python -m tools.")


def test_drift_names_file_and_line_of_a_broken_catalog_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "veo.yaml").write_text("id: veo\nrequired: yes\n", encoding="utf-8")
    assert drift.main([str(CLIPRISE_DOC), "--catalog", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "veo.yaml" in err and "line 2" in err and "YAML 1.1 boolean" in err
