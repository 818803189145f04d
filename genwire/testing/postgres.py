"""A throwaway PostgreSQL server for tests: your gateway's tests on a real database, not a mock.

The pytest plugin's fixtures (``pip install 'genwire[postgres]'`` and PostgreSQL's server
binaries, e.g. Debian's ``postgresql`` package)::

    def test_gateway_on_postgres(postgres_url):           # a fresh, empty schema per test
        with open_ledger(postgres_url) as ledger:
            ...

``postgres_server_url`` (session-wide) is the server: ``GENWIRE_TEST_POSTGRES_URL`` when set
(a server you run, as CI does), else one started here under a temporary directory and stopped
at the end of the session. Without binaries or psycopg the tests that ask for it are skipped,
saying why; with ``CI`` set they fail instead. From Python or a shell::

    with PostgresServer() as pg:                          # initdb + pg_ctl in a temporary directory
        pg.url                                            # postgresql://postgres@127.0.0.1:PORT/postgres

    python -m genwire.testing.postgres start DIR          # prints the URL; runs until stop
    python -m genwire.testing.postgres stop DIR

Uses ``initdb``/``pg_ctl`` on PATH or under /usr/lib/postgresql/*/bin. PostgreSQL refuses to
run as root, so as root the cluster belongs to the ``postgres`` user (or ``nobody``). Tuned for
tests: fsync off (tests kill client processes, never the server).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

__all__ = ["TEST_URL_ENV", "PostgresServer", "PostgresUnavailable", "find_bin", "start", "stop"]

#: a server to use instead of starting one (CI sets it)
TEST_URL_ENV = "GENWIRE_TEST_POSTGRES_URL"


class PostgresUnavailable(RuntimeError):
    """No server could be started here (no binaries, no user to run it as, initdb failed, ...)."""


def find_bin() -> Path | None:
    """The directory holding initdb and pg_ctl, or None."""
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    return None


def _user() -> str | None:
    if os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise PostgresUnavailable("running as root and there is no postgres or nobody user to run the server as")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], user: str | None) -> None:
    done = subprocess.run(args, user=user, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PostgresUnavailable(f"{Path(args[0]).name} failed: {(done.stderr or done.stdout).strip()[-500:]}")


def start(base: Path) -> str:
    """Start a fresh cluster under ``base`` (created); return its URL."""
    bindir = find_bin()
    if bindir is None:
        raise PostgresUnavailable("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    user = _user()
    base.mkdir(parents=True, exist_ok=True)
    data = base / "data"
    if user is not None:
        import pwd

        entry = pwd.getpwnam(user)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    _run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync",
          "--no-instructions"], user)
    port = _free_port()
    options = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB")
    _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-o", options, "-w", "-t", "60",
          "start"], user)
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    (base / "url").write_text(url)
    return url


def stop(base: Path) -> None:
    """Stop the cluster under ``base`` (nothing when none runs there)."""
    bindir = find_bin()
    if bindir is None or not (base / "data" / "postmaster.pid").exists():
        return
    _run([str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "immediate", "-w", "stop"], _user())


class PostgresServer:
    """A cluster in a temporary directory (or ``base``), started on enter, stopped and removed on exit."""

    def __init__(self, base: str | Path | None = None) -> None:
        self._own = base is None
        self.base = Path(tempfile.mkdtemp(prefix="genwire-pg-")) if base is None else Path(base)
        #: the ``postgres`` database's URL, once started
        self.url = ""

    def __enter__(self) -> PostgresServer:
        try:
            self.url = start(self.base)
        except BaseException:
            self._cleanup()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            stop(self.base)
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        if self._own:
            shutil.rmtree(self.base, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 2
    base = Path(argv[1]).resolve()
    try:
        if argv[0] == "start":
            print(start(base))
        else:
            stop(base)
    except PostgresUnavailable as exc:
        print(f"genwire.testing.postgres: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
