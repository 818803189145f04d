"""The genwire pytest plugin: its fixtures work under every async runner, and loading it is free."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from support import ASYNCIO_STRICT, run_pytest

USER_TESTS = '''
import pytest
from genwire import GenerationRequest

REQUEST = GenerationRequest(provider="cliprise", model="nano-banana", input={"prompt": "a fox"})

def test_sync(genwire_client, fake_providers):
    fake_providers.cliprise.fail_next(429, retry_after=0.001)
    assert genwire_client.run(REQUEST).outputs

MARK
async def test_async(async_genwire_client, fake_providers):
    fake_providers.clipia.fail_next(503)
    job = await async_genwire_client.run(REQUEST)
    assert job.id in fake_providers.cliprise.jobs

MARK
async def test_async_with_entered_client(async_genwire_client):
    async with async_genwire_client as client:
        job = await client.submit(REQUEST)
    assert job.status == "queued"
'''

ANYIO_BACKEND = '''
@pytest.fixture
def anyio_backend():
    return "asyncio"
'''

# pytest-asyncio is a dev dependency: a missing one fails these runs rather than skipping them
STRICT = list(ASYNCIO_STRICT)
AUTO = ["-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function"]

#: runner -> (pytest options, decorator on the async tests, extra test-module code)
RUNNERS = {
    "pytest-asyncio strict": (STRICT, "@pytest.mark.asyncio", ""),
    "pytest-asyncio auto": (AUTO, "", ""),
    "anyio": (["-p", "no:asyncio"], "@pytest.mark.anyio", ANYIO_BACKEND),
    "anyio beside pytest-asyncio strict": (STRICT, "@pytest.mark.anyio", ANYIO_BACKEND),
}


@pytest.mark.parametrize("runner", [pytest.param(r, marks=pytest.mark.slow) if "beside" in r else r for r in RUNNERS])
def test_fixtures_drive_both_clients_under_each_async_runner(runner: str, tmp_path: Path) -> None:
    options, mark, extra = RUNNERS[runner]
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS).replace("MARK", mark) + extra)
    proc = run_pytest(tmp_path, *options)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout, proc.stdout


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_loading_the_plugin_imports_nothing_beyond_the_genwire_package() -> None:
    # pytest loads the plugin in every run of an environment where genwire is installed;
    # the fakes, the clients, httpx and Hypothesis load only when a test asks for a fixture
    added = _modules_after("import pytest, genwire.testing.pytest_plugin") - _modules_after("import pytest, genwire")
    assert added == {"genwire.testing", "genwire.testing.pytest_plugin"}


def test_plugin_constants_are_the_fast_policies() -> None:
    from genwire import PollPolicy, RetryPolicy
    from genwire.testing import pytest_plugin

    assert isinstance(pytest_plugin.FAST_POLL, PollPolicy) and pytest_plugin.FAST_POLL.max_interval <= 0.01
    assert isinstance(pytest_plugin.FAST_RETRY, RetryPolicy) and pytest_plugin.FAST_RETRY.max_delay <= 0.01


def test_fake_server_fixture_serves_the_fixture_fakes_on_a_loopback_socket(fake_server: Any,
                                                                         fake_providers: Any) -> None:
    from genwire import Client, GenerationRequest

    assert fake_server.origin.startswith("http://127.0.0.1:")
    request = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})
    with Client(base_urls=fake_server.base_urls, api_keys=fake_server.api_keys) as client:
        job = client.submit(request)
    assert job.id in fake_providers.clipia.jobs
    assert fake_server.stats()["clipia"]["submits"] == 1
