"""The genwire command for scripts: run/status/balance against `genwire fake-server`, --json everywhere,
one clear line on bad input, live progress on a terminal, no traceback into a closed pipe."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import genwire
from genwire import cli
from genwire.cli import COMMANDS, build_parser, main, register
from genwire.testing import FakeClipia, FakeCliprise, FakeProviders
from genwire.testing.server import FakeServer

FAST = ["--poll-interval", "0.01"]


def run(*argv: str, out: io.StringIO | None = None) -> tuple[int, str]:
    out = out or io.StringIO()
    return main(list(argv), out), out.getvalue()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    """A fake server the commands reach through GENWIRE_BASE_URL_* and the usual key variables."""
    with FakeServer(FakeProviders(FakeClipia(steps=2), FakeCliprise(steps=2))) as srv:
        for provider, url in srv.base_urls.items():
            monkeypatch.setenv(f"GENWIRE_BASE_URL_{provider.upper()}", url)
        monkeypatch.setenv("CLIPIA_KEY", srv.api_keys["clipia"])
        monkeypatch.setenv("CLIPRISE_KEY", srv.api_keys["cliprise"])
        yield srv


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[name] = sub
                found.update({f"{name} {k}": v for k, v in _subparsers(sub).items()})
    return found


# -- the command table ---------------------------------------------------------------------------

def test_every_flag_of_every_command_has_help() -> None:
    parser = build_parser()
    missing = [f"{name} {'/'.join(a.option_strings) or a.dest}"
               for name, sub in {"genwire": parser, **_subparsers(parser)}.items()
               for a in sub._actions if not a.help and not isinstance(a, argparse._SubParsersAction)]
    assert not missing


def test_every_command_takes_json() -> None:
    subs = _subparsers(build_parser())
    assert {"run", "status", "balance", "models", "schema", "validate", "demo", "fake-server"} <= set(subs)
    assert all(any("--json" in a.option_strings for a in sub._actions) for sub in subs.values())


def test_other_modules_register_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMANDS", dict(COMMANDS))

    def configure(p: argparse.ArgumentParser) -> None:
        p.add_argument("name", help="who to greet")

    register("hello", help="greet", configure=configure,
             run=lambda args, out: out.write(json.dumps({"hi": args.name}) if args.json else f"hi {args.name}") and 0)
    assert run("hello", "you", "--json") == (0, '{"hi": "you"}')
    with pytest.raises(ValueError, match="already registered"):
        register("hello", help="again", configure=configure, run=lambda args, out: 0)


@pytest.mark.parametrize("argv", [["--version"], ["-m", "genwire", "--version"]], ids=["entry", "python-m"])
def test_version_is_printed(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    if argv[0] == "-m":
        result = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=60)
        assert (result.returncode, result.stdout) == (0, f"genwire {genwire.__version__}\n")
    else:
        assert run(*argv)[0] == 0 and capsys.readouterr().out == f"genwire {genwire.__version__}\n"


BAD_INPUT = {
    "validate without the JSON": ["validate", "clipia", "nano-banana-2"],
    "a non-object input": ["validate", "clipia", "nano-banana-2", "text-to-image", "--input", "[1, 2]"],
    "input that is not JSON": ["validate", "clipia", "nano-banana-2", "--input", "{prompt: x}"],
    "a missing input file": ["validate", "clipia", "nano-banana-2", "--input", "@/nonexistent/input.json"],
    "the input twice": ["validate", "clipia", "nano-banana-2", "text-to-image", '{"prompt": "a"}', "--input", "{}"],
    "an unknown provider filter": ["models", "--provider", "clippia"],
    "an unknown kind filter": ["models", "--kind", "videos"],
    "an unknown task filter": ["models", "--task", "text-to-vidoe"],
    "an unknown command": ["runn"],
    "a bad --base-url": ["balance", "clipia", "--base-url", "clipia"],
    "an unknown provider": ["balance", "clippia"],
    "run without --input": ["run", "clipia/nano-banana-2"],
}


@pytest.mark.parametrize("argv", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_exits_2_with_one_clear_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(*argv)
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("genwire") and "Traceback" not in err


def test_models_and_validate_print_json() -> None:
    _, out = run("models", "--provider", "cliprise", "--kind", "video", "--json")
    models = json.loads(out)
    assert models and all(m["provider"] == "cliprise" and m["kind"] == "video" for m in models)
    _, out = run("validate", "clipia", "nano-banana-2", "--json", "--input", '{"prompt": "a fox"}')
    assert json.loads(out)["task"] == "text-to-image"


@pytest.mark.slow
def test_demo_prints_json_jobs() -> None:
    code, out = run("demo", "--json")
    assert code == 0 and [j["status"] for j in json.loads(out)] == ["succeeded"] * 5


@pytest.mark.parametrize("argv", [["models"], ["models", "--json"], ["--help"]])
def test_a_closed_pipe_ends_the_command_without_a_traceback(argv: list[str]) -> None:
    with subprocess.Popen([sys.executable, "-m", "genwire", *argv], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the first write (`| head` that already exited)
        err = proc.stderr.read().decode()
        proc.wait(timeout=60)
    assert err == "" and proc.returncode in ((0, 141) if argv == ["--help"] else (141,))  # argparse swallows it


# -- run, status, balance over a real socket -------------------------------------------------------

@pytest.mark.parametrize("target", ["cliprise/veo-3-fast", "clipia/seedance-2-fast-t2v"])
def test_run_prints_plain_progress_lines_and_the_outputs_when_piped(server: FakeServer, target: str) -> None:
    code, out = run("run", target, "--input", '{"prompt": "a fox"}', *FAST)
    lines = out.splitlines()
    assert code == 0
    assert lines[0].startswith(f"{target} ") and " queued " in lines[0]
    assert any(" succeeded 100% " in line for line in lines)
    assert any(line.startswith("video") and f": {server.origin}/" in line for line in lines)
    assert "\r" not in out and "\x1b" not in out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_run_shows_one_live_line_on_a_terminal(server: FakeServer) -> None:
    code, out = run("run", "clipia/nano-banana-2", "--input", '{"prompt": "a fox"}', *FAST, out=_Terminal())
    assert code == 0
    live, *rest = out.split("\n")
    frames = [f for f in live.split("\r\x1b[K") if f]
    assert frames[-1].startswith("clipia/nano-banana-2 ") and " succeeded 100% " in frames[-1]
    assert frames[-1].endswith("s") and rest[0].startswith("image 1024x1024: ")


def test_run_json_input_from_a_file_prints_the_job(server: FakeServer, tmp_path: Any) -> None:
    (tmp_path / "in.json").write_text('{"prompt": "a fox", "aspect_ratio": "16:9"}')
    code, out = run("run", "cliprise/veo-3-fast", "--input", f"@{tmp_path / 'in.json'}", "--json", *FAST)
    job = json.loads(out)
    assert code == 0 and job["status"] == "succeeded" and job["outputs"][0]["kind"] == "video"


def test_run_no_wait_then_status_follows_the_job(server: FakeServer) -> None:
    code, out = run("run", "clipia/nano-banana-2", "--input", '{"prompt": "a fox"}', "--no-wait", "--json")
    submitted = json.loads(out)
    assert code == 0 and submitted["status"] == "queued"
    code, out = run("status", "clipia", submitted["id"], "--json")
    assert code == 0 and json.loads(out)["id"] == submitted["id"]
    code, out = run("status", "clipia", submitted["id"], "--wait", *FAST)
    assert code == 0 and "succeeded 100%" in out
    assert server.stats()["clipia"]["submits"] == 1


def test_a_failed_job_exits_3_and_its_json_carries_the_job(server: FakeServer,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    server.fakes.cliprise.script_outcome("fail", message="the model refused")
    code, out = run("run", "cliprise/veo-3-fast", "--input", '{"prompt": "a fox"}', "--json", *FAST)
    error = json.loads(out)["error"]
    assert code == 3 and error["type"] == "JobFailedError" and error["job"]["status"] == "failed"
    assert capsys.readouterr().err.startswith("genwire: JobFailedError:")


def test_a_wait_past_its_timeout_exits_124_and_says_how_to_resume(server: FakeServer,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    server.fakes.clipia.steps = 1_000_000  # never finishes
    code, _ = run("run", "clipia/nano-banana-2", "--input", '{"prompt": "a fox"}', "--timeout", "0.2", *FAST)
    first, resume = capsys.readouterr().err.splitlines()
    assert code == 124 and first.startswith("genwire: WaitTimeoutError:")
    assert resume.startswith("genwire: the job continues: genwire status clipia ") and resume.endswith(" --wait")


def test_balance_in_text_and_json(server: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("balance", "clipia") == (0, "clipia: 10000 credits\n")
    assert json.loads(run("balance", "clipia", "--json")[1]) == {"provider": "clipia", "credits": 10000}
    code, _ = run("balance", "cliprise")
    assert code == 1 and capsys.readouterr().err.startswith("genwire: UnsupportedOperationError:")


def test_base_url_option_wins_over_the_environment(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENWIRE_BASE_URL_CLIPIA", "http://127.0.0.1:9/nowhere")
    assert run("balance", "clipia", "--base-url", f"clipia={server.base_urls['clipia']}")[0] == 0


def test_invalid_input_is_refused_before_the_network(server: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("run", "cliprise/wan-2-5", "--input", '{"prompt": "x", "duration": 7}')
    err = capsys.readouterr().err
    assert code == 1 and "$.duration" in err and server.stats()["cliprise"]["requests"] == 0
