"""Moved: the throwaway PostgreSQL server is ``genwire.testing.postgres`` (shipped for users' tests).

    python -m genwire.testing.postgres start DIR
"""

from genwire.testing.postgres import PostgresUnavailable, find_bin, main, start, stop

__all__ = ["PostgresUnavailable", "find_bin", "start", "stop"]

if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
