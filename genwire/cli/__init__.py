"""The ``genwire`` command (a face): the command table and ``main`` (``_main``) and the command
groups it loads (``_run``, ``_catalog``, ``_jobs``). May import every layer; nothing imports it."""

from __future__ import annotations

from ._main import (
    COMMANDS,
    EXIT_CODES,
    EXTENSIONS,
    Command,
    CommandError,
    build_parser,
    emit_json,
    main,
    read_input,
    register,
    resume_hint,
)

__all__ = ["COMMANDS", "EXIT_CODES", "EXTENSIONS", "Command", "CommandError", "build_parser", "emit_json", "main",
           "read_input", "register", "resume_hint"]
