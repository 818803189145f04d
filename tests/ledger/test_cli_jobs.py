"""``genwire jobs``: list, show, reconcile, attach and abandon, on both databases."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from genwire import GenerationRequest
from genwire.cli import main
from genwire.ledger import Ledger
from genwire.testing import FakeServer

REQUEST = GenerationRequest(provider="cliprise", model="nano-banana", task="text-to-image", input={"prompt": "a fox"},
                            webhook_url="https://gw.example.com/hooks?genwire_token=s3cr3t-token-value")


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def uncertain(ledger: Ledger) -> str:
    ref = ledger.record_intent(REQUEST, provider="cliprise", model="nano-banana", task="text-to-image",
                               idempotency_key="k")
    ledger.record_uncertain(ref, "no reply")
    return ref


def test_list_and_show_report_entries_without_callback_tokens(ledger: Ledger, ledger_url: str) -> None:
    ref = uncertain(ledger)
    code, text = run("jobs", "list", "--db", ledger_url)
    assert code == 0 and ref in text and "uncertain" in text and "1 uncertain" in text
    code, text = run("jobs", "show", ref, "--db", ledger_url, "--json")
    shown: dict[str, Any] = json.loads(text)
    assert code == 0 and shown["state"] == "uncertain" and [e["state"] for e in shown["events"]] == ["uncertain"]
    assert "s3cr3t-token-value" not in text


def test_a_filtered_list_totals_what_matches_not_the_whole_ledger(ledger: Ledger, ledger_url: str) -> None:
    uncertain(ledger)
    ledger.record_intent(REQUEST, provider="cliprise", model="nano-banana", task="text-to-image", idempotency_key="k2")
    code, text = run("jobs", "list", "--state", "uncertain", "--db", ledger_url)
    assert code == 0 and text.splitlines()[-1] == "1 shown; 1 uncertain in all"
    code, text = run("jobs", "list", "--db", ledger_url)
    assert text.splitlines()[-1] == "2 shown; 1 submitting, 1 uncertain"


def test_attach_then_reconcile_follows_the_job_an_operator_found(ledger: Ledger, ledger_url: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeServer() as srv:
        from genwire import Client
        with Client(base_urls=srv.base_urls, api_keys=srv.api_keys) as client:
            task = client.submit(REQUEST.model_copy(update={"webhook_url": None}))
        ref = uncertain(ledger)
        assert run("jobs", "attach", ref, task.id, "--db", ledger_url)[0] == 0
        monkeypatch.setenv("CLIPRISE_KEY", srv.api_keys["cliprise"])
        monkeypatch.setenv("GENWIRE_LEDGER_URL", ledger_url)
        base = [f"--base-url=cliprise={srv.base_urls['cliprise']}"]
        code, text = run("jobs", "reconcile", "--older-than", "0", *base, "--json")
        report = json.loads(text)
        assert code == 0 and [(c["ref"], c["after"], c["action"]) for c in report["changes"]] == [
            (ref, "running", "poll")]
    entry = ledger.get(ref)
    assert entry is not None and entry.provider_id == task.id


def test_abandon_closes_an_uncertain_entry(ledger: Ledger, ledger_url: str) -> None:
    ref = uncertain(ledger)
    code, _ = run("jobs", "abandon", ref, "--db", ledger_url, "--reason", "nothing in the dashboard")
    entry = ledger.get(ref)
    assert code == 0 and entry is not None and entry.state.value == "rejected"
    assert entry.error == "nothing in the dashboard"


def test_a_missing_ledger_url_and_an_unknown_ref_are_usage_errors(ledger_url: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENWIRE_LEDGER_URL", raising=False)
    assert run("jobs", "list")[0] == 2
    assert run("jobs", "show", "nope", "--db", ledger_url)[0] == 2


def test_reconcile_names_the_entries_it_left_alone_and_until_when(ledger: Ledger, ledger_url: str) -> None:
    ref = ledger.record_intent(REQUEST, provider="cliprise", model="nano-banana", task="text-to-image",
                               idempotency_key="k-leased")    # a submit in flight: its intent lease holds it
    code, text = run("jobs", "reconcile", "--db", ledger_url, "--older-than", "0")
    lines = text.splitlines()
    assert code == 0 and lines[-1].startswith("claimed 0: nothing changed, 0 unchanged, 0 errors; 1 still leased")
    assert lines[0].startswith(f"{ref}  submitting: leased until ") and "intent_lease" in lines[0]
    code, text = run("jobs", "reconcile", "--db", ledger_url, "--older-than", "0", "--json")
    [held] = json.loads(text)["leased"]
    entry = ledger.get(ref)
    assert entry is not None and held["ref"] == ref and held["until"] == entry.lease_until


def test_the_intent_lease_is_an_option_of_open_ledger(ledger_url: str) -> None:
    from genwire.ledger import open_ledger

    with open_ledger(ledger_url, intent_lease=7.5) as short:
        ref = short.record_intent(REQUEST, provider="cliprise", model="nano-banana", task="text-to-image",
                                  idempotency_key="k-short")
        entry = short.get(ref)
    assert entry is not None and entry.lease_until is not None
    assert entry.lease_until - entry.created_at == pytest.approx(7.5, abs=0.5)


def test_run_records_its_submit_in_a_ledger(ledger: Ledger, ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeServer() as srv:
        monkeypatch.setenv("CLIPIA_KEY", srv.api_keys["clipia"])
        code, text = run("run", "clipia/nano-banana-2", "--input", '{"prompt": "a fox"}', "--ledger", ledger_url,
                         "--intent-lease", "30", "--base-url", f"clipia={srv.base_urls['clipia']}",
                         "--poll-interval", "0.01", "--json")
    assert code == 0, text
    job = json.loads(text)
    entry = ledger.find("clipia", job["id"])
    assert entry is not None and entry.state.value == "succeeded"
