"""A gateway worker process for the crash and scale tests (run as a script; talks to a
loopback FakeServer and a shared ledger; reports on stdout, one line per event).

    python tests/ledger/worker.py crash CONFIG_JSON     # stops at CONFIG["step"] and waits to be killed
    python tests/ledger/worker.py scale CONFIG_JSON     # serves webhooks, submits, reconciles

crash: submits (or runs) one job through Client(ledger=...), prints ``AT <step>`` at the
step named and sleeps until killed: ``before-post`` (intent written, nothing sent),
``after-accept`` (the provider accepted; the ledger does not know the id yet),
``during-wait`` (accepted and recorded, waiting for the end).

burst: ``CONFIG["threads"]`` threads submit Clipia jobs through one ``Client(ledger=...)`` as
fast as they can (their writes share group commits), after printing ``GO``, until killed.

scale: serves a WebhookApp on a loopback port (prints ``PORT <n>``), submits its share of
jobs, round robin over every provider (``SUBMITTED``), reconciles until no entry is open
(``IDLE``), then waits for a line on stdin before printing ``DONE <json counts>``.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
import time
from typing import Any

from genwire import AsyncClient, Client, GenwireError, PollPolicy, RetryPolicy
from genwire.adapters import ADAPTERS
from genwire.asgi import WebhookApp
from genwire.ledger import open_ledger
from genwire.testing import sample_request
from genwire.testing.fakes import FAKES

POLL = PollPolicy(initial_interval=0.01, max_interval=0.05)
RETRY = RetryPolicy(initial_delay=0.01, max_delay=0.05)
HOOK = "https://gw.example.com/hooks"
TOKEN = "scale-callback-token-0123456789"
#: one request per provider the registry names, each a prompt alone fills
REQUESTS = {provider: sample_request(provider, "a fox", webhook_url=f"{HOOK}/{provider}") for provider in FAKES}


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def hang(step: str) -> None:
    say(f"AT {step}")
    while True:
        time.sleep(60)


def crash(config: dict[str, Any]) -> None:
    ledger = open_ledger(config["db"], intent_lease=config.get("intent_lease", 0.5))
    step = config["step"]
    if step == "before-post":
        record_intent = ledger.record_intent

        def stop_after_intent(*args: Any, **kwargs: Any) -> str:
            record_intent(*args, **kwargs)
            hang(step)
            raise AssertionError

        ledger.record_intent = stop_after_intent  # type: ignore[method-assign]
    elif step == "after-accept":
        def stop_before_accept(*args: Any, **kwargs: Any) -> Any:
            hang(step)

        ledger.record_accepted = stop_before_accept  # type: ignore[method-assign]
    with Client(api_keys=config["api_keys"], base_urls=config["base_urls"], ledger=ledger, poll=POLL,
                retry=RETRY) as client:
        job = client.submit(REQUESTS[config["provider"]])
        client.wait(job, timeout=60, on_update=lambda j: hang(step) if step == "during-wait" else None)
    say("FINISHED")


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        sys.stderr.write(self.format(record) + "\n")


def _serve(app: WebhookApp) -> tuple[Any, int]:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off", access_log=False))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server, int(sock.getsockname()[1])


def scale(config: dict[str, Any]) -> None:
    errors = _Errors()
    logging.getLogger("genwire.asgi").addHandler(errors)
    ledger = open_ledger(config["db"], max_size=4) if config["db"].startswith("postgres") else open_ledger(
        config["db"])
    keys, urls = config["api_keys"], config["base_urls"]
    hooks = AsyncClient(api_keys=keys, base_urls=urls, retry=RETRY)
    # signing providers' secrets; the client's callback token for those that do not sign
    secrets = {p: config["webhook_secrets"].get(p) if ADAPTERS[p].signs_webhooks else TOKEN for p in REQUESTS}
    app = WebhookApp(ledger, secrets=secrets, client=hooks, prefix="/hooks")
    server, port = _serve(app)
    say(f"PORT {port}")
    failed_submits = reconcile_errors = rounds = 0
    with Client(api_keys=keys, base_urls=urls, ledger=ledger, retry=RETRY, callback_token=TOKEN) as client:
        providers = list(REQUESTS)
        for i in range(config["count"]):
            provider = providers[(config["index"] + i) % len(providers)]
            try:
                client.submit(REQUESTS[provider])
            except GenwireError as err:
                failed_submits += 1
                sys.stderr.write(f"submit failed: {err}\n")
        say("SUBMITTED")
        deadline = time.monotonic() + config.get("timeout", 600)
        while time.monotonic() < deadline:
            report = ledger.reconcile(client, older_than=config.get("older_than", 0.2), limit=200, lease=30)
            rounds += 1
            reconcile_errors += len(report.errors)
            counts = ledger.counts()
            if not any(counts.get(s, 0) for s in ("submitting", "queued", "running")):
                break
            if not report.claimed:
                time.sleep(0.05)
    say("IDLE " + json.dumps(ledger.counts()))
    sys.stdin.readline()
    server.should_exit = True
    time.sleep(0.2)  # the hooks client's connections belong to the server's loop: they end with the process
    ledger.close()
    say("DONE " + json.dumps({"failed_submits": failed_submits, "reconcile_errors": reconcile_errors,
                              "app_errors": errors.count, "rounds": rounds}))


def burst(config: dict[str, Any]) -> None:
    ledger = open_ledger(config["db"], intent_lease=config.get("intent_lease", 0.5))
    client = Client(api_keys=config["api_keys"], base_urls=config["base_urls"], ledger=ledger, poll=POLL,
                    retry=RETRY)

    def submit_forever() -> None:
        while True:
            client.submit(REQUESTS["clipia"])

    say("GO")
    for _ in range(config["threads"]):
        threading.Thread(target=submit_forever, daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    {"crash": crash, "scale": scale, "burst": burst}[sys.argv[1]](json.loads(sys.argv[2]))
