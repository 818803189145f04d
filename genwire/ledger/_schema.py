"""The ledger's tables and their migrations, one list for both databases.

The schema version lives in ``genwire_schema`` (one row). Opening a ledger applies,
in one transaction, every migration above the stored version; a database written
by a newer genwire (a version above ``SCHEMA_VERSION``) is refused rather than
guessed at.

``genwire_jobs``: one row per job, keyed by the local reference ``ref``; the
provider's id, state (and its rank: transitions only go up), the last ``Job``,
cost, last error, the lease of whoever drives it, and when its submit first went out.
``genwire_events``: one row per applied transition, unique per (ref, state): a
status is applied to a job at most once.
"""

from __future__ import annotations

__all__ = ["COLUMNS", "MIGRATIONS", "SCHEMA_VERSION"]

#: the column order every SELECT of a job row uses
COLUMNS = ("ref", "provider", "model", "task", "request", "idempotency_key", "provider_id", "state", "job",
           "cost", "error", "created_at", "updated_at", "lease_owner", "lease_until", "version", "sent_at")

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # version 1
    (
        """CREATE TABLE genwire_jobs (
            ref TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            task TEXT,
            request TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            provider_id TEXT,
            state TEXT NOT NULL,
            rank INTEGER NOT NULL,
            job TEXT,
            cost DOUBLE PRECISION,
            error TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            lease_owner TEXT,
            lease_until DOUBLE PRECISION,
            version INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE UNIQUE INDEX genwire_jobs_provider_id ON genwire_jobs (provider, provider_id)",
        "CREATE INDEX genwire_jobs_open ON genwire_jobs (rank, updated_at)",
        """CREATE TABLE genwire_events (
            ref TEXT NOT NULL REFERENCES genwire_jobs (ref),
            state TEXT NOT NULL,
            source TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (ref, state)
        )""",
    ),
    # version 2: when the first request of a submit to a provider without idempotency went
    # out (NULL there: nothing was ever sent, so reconcile may send it)
    ("ALTER TABLE genwire_jobs ADD COLUMN sent_at DOUBLE PRECISION",),
)

SCHEMA_VERSION = len(MIGRATIONS)
