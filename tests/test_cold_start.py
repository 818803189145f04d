"""What a fresh process loads: ``import genwire`` and the client path stay off the compiler.

Each check runs in a fresh interpreter, since this test process has long since
imported everything.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest

#: compile-time machinery and its dependencies: never needed to look up, validate or submit
COMPILE_ONLY = re.compile(r"^(jsonschema|yaml|_yaml|referencing|tools)(\.|$)|^genwire\.(catalog\._(compile|meta|lint|"
                          r"json_schema|yaml)|[\w.]*import[\w]*|cli)(\.|$)")

SUBMIT = """
import httpx, genwire
reply = {"request_id": "r-1", "status": "IN_QUEUE", "queue_position": 0}
transport = httpx.MockTransport(lambda request: httpx.Response(200, json=reply))
with genwire.Client(api_keys={"clipia": "clipia_live_test0000"}, transport=transport) as client:
    job = client.submit(genwire.GenerationRequest(provider="clipia", model="nano-banana-2",
                                                  input={"prompt": "a fox"}))
    assert job.id == "r-1"
"""


def _loaded_after(code: str) -> set[str]:
    probe = textwrap.dedent(code) + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_import_genwire_loads_only_the_package_and_its_version() -> None:
    loaded = _loaded_after("import genwire")
    assert {m for m in loaded if m.startswith("genwire")} == {"genwire", "genwire._version"}
    assert not {"pydantic", "httpx", "jsonschema", "yaml"} & loaded


def test_catalog_lookup_and_valid_input_load_no_http_client_pydantic_or_compiler() -> None:
    loaded = _loaded_after("""
        import genwire
        catalog = genwire.Catalog.default()
        catalog.get("clipia", "nano-banana-2")
        catalog.validate("cliprise", "veo-3-fast", "text-to-video", {"prompt": "a fox"})
    """)
    assert {m for m in loaded if COMPILE_ONLY.match(m)} == set()
    assert not {"pydantic", "httpx"} & loaded


def test_sync_submit_loads_neither_the_compiler_nor_asyncio_nor_webhook_code() -> None:
    loaded = _loaded_after(SUBMIT)
    assert {m for m in loaded if COMPILE_ONLY.match(m)} == set()
    assert not {"asyncio", "genwire.webhooks"} & loaded


#: what a first Clipia submit has no use for; each one exists (a rename must update this list)
NOT_ON_A_CLIPIA_SUBMIT = frozenset({
    "genwire.adapters.cliprise", "genwire.adapters.replicate", "genwire.live", "genwire.catalog._from_clipia",
    "genwire.ledger", "genwire.ledger.sqlite", "genwire.ledger.postgres", "genwire.testing", "genwire.asgi",
    "genwire.catalog._drafting", "genwire.models._account", "genwire._transport.sockets",
    "genwire._client.async_client", "genwire.cli", "genwire.mcp", "genwire.webhooks", "genwire._stdwebhooks",
    "jsonschema", "yaml", "jsonschema_rs", "psycopg", "uvicorn",
})


def test_a_clipia_submit_loads_no_other_provider_live_catalog_ledger_cli_or_testing_code() -> None:
    loaded = _loaded_after(SUBMIT)
    assert "genwire.adapters.clipia" in loaded
    assert not NOT_ON_A_CLIPIA_SUBMIT & loaded


def test_every_module_a_first_submit_must_not_load_exists() -> None:
    import importlib.util

    # genwire's own modules and the runtime dependencies must exist; optional extras may be absent
    required = {name for name in NOT_ON_A_CLIPIA_SUBMIT if name.startswith("genwire") or name in {"jsonschema", "yaml"}}
    assert [name for name in sorted(required) if importlib.util.find_spec(name) is None] == []


def test_explaining_invalid_input_loads_jsonschema_on_demand() -> None:
    loaded = _loaded_after("""
        import genwire
        try:
            genwire.Catalog.default().validate("cliprise", "veo-3-fast", "text-to-video",
                                               {"prompt": 7, "aspect_ratio": "5:1"})
        except genwire.InvalidInputError as exc:
            assert [v.path for v in exc.violations] == ["$.aspect_ratio", "$.prompt"], exc.violations
        else:
            raise AssertionError("accepted")
    """)
    assert "jsonschema" in loaded
    assert {m for m in loaded if m.startswith("genwire") and COMPILE_ONLY.match(m)} == set()


@pytest.mark.parametrize("name", ["Client", "Job", "InvalidInputError", "Catalog", "get_adapter"])
def test_public_names_resolve_lazily_and_once(name: str) -> None:
    import genwire

    assert getattr(genwire, name) is getattr(genwire, name)
    assert name in dir(genwire)


def test_unknown_attribute_is_an_attribute_error() -> None:
    import genwire

    with pytest.raises(AttributeError, match="no attribute 'Clien'"):
        genwire.Clien  # noqa: B018


def test_a_first_submit_builds_no_pydantic_validator() -> None:
    # building one runs pydantic's schema generation and its plugin discovery (a scan of every
    # installed distribution's entry points): most of a fresh process's first submit
    loaded = _loaded_after(SUBMIT)
    assert not {"pydantic.plugin._loader", "importlib.metadata"} & loaded
