"""A throwaway PostgreSQL server in a directory, for the ledger tests and CI.

    python tests/ledger/pgserver.py start DIR    # prints the URL; the server runs until stop
    python tests/ledger/pgserver.py stop DIR

Uses the server binaries on this machine (``initdb``/``pg_ctl`` on PATH or under
/usr/lib/postgresql/*/bin). PostgreSQL refuses to run as root, so as root the
cluster belongs to the ``postgres`` user (or ``nobody``). Tuned for tests:
fsync off (the tests kill client processes, never the server).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
from pathlib import Path

__all__ = ["PostgresUnavailable", "find_bin", "start", "stop"]


class PostgresUnavailable(RuntimeError):
    pass


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
    bindir = find_bin()
    if bindir is None or not (base / "data" / "postmaster.pid").exists():
        return
    _run([str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "immediate", "-w", "stop"], _user())


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
        print(f"pgserver: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
